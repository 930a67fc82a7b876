"""Tables of scheduled work: one row per run of a scheduled job, so a restart knows what
it missed and the console and CLI can show what ran, when, and with what outcome."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

JOB_OUTCOMES = ("running", "succeeded", "failed", "interrupted")
JOB_CAUSES = ("schedule", "catch-up", "manual")


class JobRun(Base):
    """One run of a scheduled job. `finished_at` stays empty while it runs, and for ever
    if the process died under it (`outcome` then stays "running")."""

    __tablename__ = "broadcast_job_run"
    __table_args__ = (
        CheckConstraint(f"outcome IN {JOB_OUTCOMES!r}", name="outcome"),
        CheckConstraint(f"cause IN {JOB_CAUSES!r}", name="cause"),
        Index("ix_broadcast_job_run_job_started_at", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    cause: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, int] | None] = mapped_column(JSON)  # what the job did
    error: Mapped[str | None] = mapped_column(Text)
