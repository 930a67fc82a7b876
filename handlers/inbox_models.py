"""The webhook inbox: every platform event stored once, then processed once."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime


class WebhookEvent(Base):
    __tablename__ = "handlers_webhook_event"
    __table_args__ = (UniqueConstraint("platform", "event_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # The platform's id for the event (see bot.types.InboundEvent.event_key).
    event_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    error: Mapped[str | None] = mapped_column(String(500))
