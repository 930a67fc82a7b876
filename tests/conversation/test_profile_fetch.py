"""The platform profile a join needs is fetched before the batch's transaction opens: an
HTTP call inside it would hold SQLite's write lock for up to the HTTP timeout."""

from dataclasses import dataclass, field

from sqlalchemy.pool import QueuePool

from bot.sender import CollectingSender
from bot.types import Profile
from core.db import Database
from tests.events import line_body, line_event, line_text
from tests.harness import running_app


@dataclass
class WatchingSender(CollectingSender):
    """Records, at each profile fetch, how many database connections are in use (a
    transaction holds one from its BEGIN to its COMMIT)."""

    db: Database | None = None
    connections_in_use: list[int] = field(default_factory=list)

    async def profile(self, user_id):
        assert self.db is not None
        pool = self.db.engine.pool
        assert isinstance(pool, QueuePool)
        self.connections_in_use.append(pool.checkedout())
        return await super().profile(user_id)


async def test_the_profile_is_fetched_with_no_transaction_open(settings) -> None:
    line = WatchingSender("line", profiles={"U-amy": Profile("Amy", "zh-TW"),
                                            "U-bob": Profile("Bob", "en")})
    senders = {"line": line, "messenger": CollectingSender("messenger")}
    # One worker, so no other batch's transaction is open meanwhile.
    one_worker = settings.model_copy(update={"webhook_workers": 1})
    async with running_app(one_worker, senders=senders) as harness:
        line.db = harness.app.state.db
        body = line_body(line_event("follow", "U-amy"), line_text("U-bob", "card"))
        assert (await harness.post_line(body)).status_code == 200
        await harness.drain()
    assert line.connections_in_use == [0, 0]
    assert len([sent for sent in line.sent if sent.kind == "reply"]) == 2
