"""Tables of the loyalty engine: stores and staff, program versions, the append-only
ledger, rewards, the cached balance per member, stored idempotent answers, visits
imported from a shop's past, members' RFM scores with their segment history, tags
with their rules and history, and saved segments."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime

STAFF_ROLES = ("staff", "manager", "marketer", "admin")
ENTRY_KINDS = (
    "stamp",
    "reward_issued",
    "reward_redeemed",
    "void",
    "expiry",
    "adjustment",
    "welcome",
    "referral",
    "birthday",
)
REWARD_STATUSES = ("available", "redeemed", "expired", "withdrawn")


class Store(Base):
    __tablename__ = "loyalty_store"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffAccount(Base):
    __tablename__ = "loyalty_staff_account"
    __table_args__ = (CheckConstraint(f"role IN {STAFF_ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StaffStore(Base):
    """The stores a staff account works at (admins work at every store regardless)."""

    __tablename__ = "loyalty_staff_store"

    staff_id: Mapped[int] = mapped_column(ForeignKey("loyalty_staff_account.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("loyalty_store.id"), primary_key=True)


class PosKey(Base):
    """A store's API key for a POS. The plaintext is `<prefix>.<secret>`, shown once; only
    the prefix (for lookup) and a SHA-256 of the secret are kept."""

    __tablename__ = "loyalty_pos_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("loyalty_store.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Loaded only where asked for (authentication): it keeps the store in the session
    # for the request, so the services' own store check finds it without a query.
    store: Mapped[Store] = relationship(lazy="raise")


class Program(Base):
    """One version of the stamp rules, in force from `starts_at` until the next version
    starts. Entries and rewards name the version they were earned under."""

    __tablename__ = "loyalty_program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    stamps_required: Mapped[int] = mapped_column(Integer, default=3)
    # {"zh-TW": "免費飲料", "en": "a free drink"}
    reward_name: Mapped[dict[str, str]] = mapped_column(JSON)
    cooldown_hours: Mapped[int] = mapped_column(Integer, default=4)
    stamps_per_visit: Mapped[int] = mapped_column(Integer, default=1)
    # One stamp per this many minor units spent, when the visit carries an amount.
    spend_per_stamp: Mapped[int | None] = mapped_column(Integer)
    # The most stamps one visit earns, whatever was spent (bounds the rewards it issues).
    max_stamps_per_visit: Mapped[int] = mapped_column(Integer, default=10)
    stamp_expiry_days: Mapped[int | None] = mapped_column(Integer)
    reward_expiry_days: Mapped[int | None] = mapped_column(Integer)
    welcome_stamps: Mapped[int] = mapped_column(Integer, default=0)
    referral_reward: Mapped[bool] = mapped_column(Boolean, default=False)
    birthday_reward: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"measure": "visits"|"spend", "levels": [{"key": "gold", "min": 12,
    #  "name": {"zh-TW": "金卡", "en": "Gold"}}, ...]}; see loyalty.tiers.
    tier_rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    """One append-only fact about a member's stamps or rewards. A mistake is undone by a
    `void` entry pointing at it (`reverses_entry_id`), never by editing a row."""

    __tablename__ = "loyalty_ledger_entry"
    __table_args__ = (
        CheckConstraint(f"kind IN {ENTRY_KINDS!r}", name="kind"),
        # Cooldown and history look up a member's recent entries.
        Index("ix_loyalty_ledger_entry_member_created", "member_id", "created_at"),
        # A store's report and its counter history read its entries by time.
        Index("ix_loyalty_ledger_entry_store_created", "store_id", "created_at"),
        # RFM, segments and the console read the visits (stamps) of a time window, with
        # their store: all from the index.
        Index("ix_loyalty_ledger_entry_stamps_created", "created_at", "member_id", "amount",
              "store_id", postgresql_where=text("kind = 'stamp'"),
              sqlite_where=text("kind = 'stamp'")),
        # The visit summary (loyalty.visit_summary) reads the voids made since it was built.
        Index("ix_loyalty_ledger_entry_voids_created", "created_at",
              postgresql_where=text("kind = 'void'"), sqlite_where=text("kind = 'void'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_store.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_staff_account.id"))
    pos_key_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_pos_key.id"))
    kind: Mapped[str] = mapped_column(String(20))
    stamps: Mapped[int] = mapped_column(Integer, default=0)  # the delta
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_reward.id"))
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_ledger_entry.id"), unique=True
    )
    # The entry whose writing caused this one (a visit that filled the card issued a
    # reward, a first visit granted the referrer's reward): voids cascade along it.
    cause_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_ledger_entry.id"), index=True
    )
    # A QR token awards at most one visit: the database refuses a second use.
    token_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Once-only grants (welcome, referral per referred member, birthday per year) carry
    # a key the database keeps unique, so no race or retry can grant them twice.
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    amount: Mapped[int | None] = mapped_column(Integer)  # minor units spent
    program_id: Mapped[int] = mapped_column(ForeignKey("loyalty_program.id"))
    # When the stamps this entry credits lapse (credits only; from the program then).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))


class Reward(Base):
    __tablename__ = "loyalty_reward"
    __table_args__ = (
        CheckConstraint(f"status IN {REWARD_STATUSES!r}", name="status"),
        Index("ix_loyalty_reward_member_status", "member_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"))
    program_id: Mapped[int] = mapped_column(ForeignKey("loyalty_program.id"))
    # The entry that issued it. No foreign key: the ledger already points at rewards,
    # and a cycle of foreign keys cannot be created table by table on SQLite.
    issued_by_entry_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="available")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redeemed_store_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_store.id"))


class Balance(Base):
    """The member's stamps, cached: written in the same transaction as every ledger
    entry and provably equal to the ledger's sum. Its row is also the member's lock:
    SELECT ... FOR UPDATE on it serialises all loyalty writes for one member."""

    __tablename__ = "loyalty_balance"
    __table_args__ = (CheckConstraint("stamps >= 0", name="stamps_not_negative"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"), primary_key=True)
    stamps: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[str | None] = mapped_column(String(40), index=True)  # segments by tier
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyRecord(Base):
    """The first answer given to a request carrying an Idempotency-Key."""

    __tablename__ = "loyalty_idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportedVisit(Base):
    """A visit from the shop's history before Punchline (a POS export). It counts for
    RFM and reports, and never for stamps or rewards: it is not on the ledger. The
    unique key makes importing the same file twice change nothing."""

    __tablename__ = "loyalty_imported_visit"
    __table_args__ = (
        UniqueConstraint("member_id", "store_id", "visited_at", "amount"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        # RFM, segments and the console read the visits of a time window (index-only,
        # store included), and of one store in a window.
        Index("ix_loyalty_imported_visit_visited_member", "visited_at", "member_id", "amount",
              "store_id"),
        Index("ix_loyalty_imported_visit_store_visited", "store_id", "visited_at", "member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("loyalty_store.id"))
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[int] = mapped_column(Integer)  # minor units spent
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RfmScore(Base):
    """A member's current RFM figures and scores (loyalty.rfm); members without a visit
    in the window have no row."""

    __tablename__ = "loyalty_rfm_score"

    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"), primary_key=True)
    recency_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)
    # Minor units spent in the window: a year of large visits passes 32 bits.
    monetary: Mapped[int] = mapped_column(BigInteger)
    r: Mapped[int] = mapped_column(Integer)
    f: Mapped[int] = mapped_column(Integer)
    m: Mapped[int] = mapped_column(Integer)
    segment: Mapped[str] = mapped_column(String(64), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RfmSegmentChange(Base):
    """A member moving between RFM segments: None as `from_segment` is a first score,
    None as `to_segment` a member whose last visit left the window."""

    __tablename__ = "loyalty_rfm_segment_change"
    __table_args__ = (
        Index("ix_loyalty_rfm_segment_change_member_changed", "member_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"))
    from_segment: Mapped[str | None] = mapped_column(String(64))
    to_segment: Mapped[str | None] = mapped_column(String(64))
    as_of: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RfmSegmentSize(Base):
    """How many members each RFM segment held after the recompute as of a day: the
    console's segment sizes over time."""

    __tablename__ = "loyalty_rfm_segment_size"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


# The windows (local days) the visit summary keeps a count and spend for.
SUMMARY_WINDOWS = (7, 30, 90, 180, 365)


class MemberVisitSummary(Base):
    """A member's visits as of the last summary build (loyalty.visit_summary): the last
    visit, and the visits and spend of each window of SUMMARY_WINDOWS ending then. Only
    members with a visit by then have a row."""

    __tablename__ = "loyalty_member_visit_summary"

    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_visit_at: Mapped[datetime] = mapped_column(UTCDateTime())
    visits_7: Mapped[int] = mapped_column(Integer)
    spend_7: Mapped[int] = mapped_column(BigInteger)
    visits_30: Mapped[int] = mapped_column(Integer)
    spend_30: Mapped[int] = mapped_column(BigInteger)
    visits_90: Mapped[int] = mapped_column(Integer)
    spend_90: Mapped[int] = mapped_column(BigInteger)
    visits_180: Mapped[int] = mapped_column(Integer)
    spend_180: Mapped[int] = mapped_column(BigInteger)
    visits_365: Mapped[int] = mapped_column(Integer)
    spend_365: Mapped[int] = mapped_column(BigInteger)


class VisitSummaryBuild(Base):
    """The one row saying what loyalty_member_visit_summary holds: visits before `as_of`
    (local day `as_of_day` in `timezone`), imported visits up to id `imported_through`.
    No row: no summary was built yet."""

    __tablename__ = "loyalty_visit_summary_build"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    as_of_day: Mapped[date] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64))
    imported_through: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Where a member's tag came from: a person's hand (console, staff page, API), a tag
# rule, a history import, or the RFM recompute keeping segment tags in step.
TAG_SOURCES = ("manual", "rule", "import", "rfm")
TAG_RULE_KINDS = ("keyword", "event", "rfm")
TAG_RULE_ACTIONS = ("add", "remove")


class Tag(Base):
    """A label marketers put on members and target by (loyalty.tags)."""

    __tablename__ = "loyalty_tag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A deleted tag keeps its row (and name) so the history that names it stays whole;
    # creating the name again brings it back.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MemberTag(Base):
    """A tag a member has now, with where it came from. The primary key leads with the
    tag so a segment's "has tag" test is one index probe; the history of adds and
    removals is in MemberTagChange."""

    __tablename__ = "loyalty_member_tag"
    __table_args__ = (
        CheckConstraint(f"source IN {TAG_SOURCES!r}", name="source"),
        Index("ix_loyalty_member_tag_member", "member_id"),
    )

    tag_id: Mapped[int] = mapped_column(ForeignKey("loyalty_tag.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    # Who: the staff account or the POS key for manual tags, the rule for rule tags.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_staff_account.id"))
    pos_key_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_pos_key.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tag_rule.id"))
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MemberTagChange(Base):
    """One tag added to or removed from a member, kept after the tag is gone."""

    __tablename__ = "loyalty_member_tag_change"
    __table_args__ = (
        CheckConstraint(f"source IN {TAG_SOURCES!r}", name="source"),
        CheckConstraint(f"action IN {TAG_RULE_ACTIONS!r}", name="action"),
        Index("ix_loyalty_member_tag_change_member_changed", "member_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"))
    tag_id: Mapped[int] = mapped_column(ForeignKey("loyalty_tag.id"))
    action: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_staff_account.id"))
    pos_key_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_pos_key.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tag_rule.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TagRule(Base):
    """A rule a marketer keeps in the console that adds or removes a tag: on an inbound
    chat message matching a keyword, on a loyalty event, or per RFM segment. Its
    `condition` is data, checked by loyalty.tag_rules when saved."""

    __tablename__ = "loyalty_tag_rule"
    __table_args__ = (
        CheckConstraint(f"kind IN {TAG_RULE_KINDS!r}", name="kind"),
        CheckConstraint(f"action IN {TAG_RULE_ACTIONS!r}", name="action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8), default="add")
    tag_id: Mapped[int] = mapped_column(ForeignKey("loyalty_tag.id"), index=True)
    # keyword: {"pattern": "latte", "match": "word"|"regex"}
    # event: {"event": "joined_via_referral"|"joined_via_store_link"|"visited_store"|
    #         "redeemed"|"reached_tier"|"opted_out", "store_id"?, "referral_code"?, "tier"?}
    # rfm: {"segment": "At Risk"}
    condition: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_staff_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A deleted rule keeps its row: the tag history names the rule that made each change.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Segment(Base):
    """A saved, named filter over members; loyalty.segments compiles its `definition`
    to one SQL query (campaigns send to it)."""

    __tablename__ = "loyalty_segment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(String(500))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_staff_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
