"""Count the rows a refused request must not have written."""

from sqlalchemy import func, select

from cards.models import Member, MemberIdentity
from core.db import Database
from handlers.inbox_models import WebhookEvent
from loyalty.models import IdempotencyRecord, LedgerEntry, Reward

WRITTEN_BY_REQUESTS = (LedgerEntry, Reward, IdempotencyRecord, Member, MemberIdentity,
                       WebhookEvent)


async def row_counts(db: Database) -> dict[str, int]:
    """How many rows each table a request can write holds."""
    async with db.transaction() as session:
        return {model.__tablename__: await session.scalar(
                    select(func.count()).select_from(model)) or 0
                for model in WRITTEN_BY_REQUESTS}
