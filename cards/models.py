"""Members and the chat identities that belong to them."""

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cards.codes import new_member_key
from core.clock import utcnow
from core.db import Base, UTCDateTime

# The longest display name kept (a profile's longer name is cut: cards.service).
DISPLAY_NAME_LENGTH = 200
# How a member came to the brand: the chat platform they followed, a friend's referral,
# a store's join link, or a shop's history import (loyalty.imports).
JOIN_SOURCES = ("line", "messenger", "referral", "store_link", "import")
# The longest member key: an external customer id from an import, or our own "pl_..." key.
MEMBER_KEY_LENGTH = 64


class Member(Base):
    """One person of the brand. Personal data is minimal and erased on request; the row
    itself stays (anonymous) so the ledger that points at it keeps reports true."""

    __tablename__ = "cards_member"
    __table_args__ = (CheckConstraint(f"join_source IN {JOIN_SOURCES!r}", name="join_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(DISPLAY_NAME_LENGTH))
    locale: Mapped[str] = mapped_column(String(10), default="zh-TW")
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Random key in the live card page's URL; rotating it revokes old links.
    card_key: Mapped[str] = mapped_column(String(40), unique=True)
    # The member's public key: the customer id an import named them by, or a generated
    # "pl_..." key for members who joined in chat. Exports and imports name members by it.
    member_key: Mapped[str] = mapped_column(String(MEMBER_KEY_LENGTH), unique=True,
                                            default=new_member_key)
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referred_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("cards_member.id"))
    birthday: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    join_source: Mapped[str] = mapped_column(String(16))
    # The store whose join link (a QR on its counter) brought the member, if one did.
    # No foreign key: stores are loyalty's, a layer above; loyalty checks the id.
    join_store_id: Mapped[int | None] = mapped_column(Integer)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    identities: Mapped[list["MemberIdentity"]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )


class MemberIdentity(Base):
    """A member's account on one platform (a LINE userId, a Messenger PSID)."""

    __tablename__ = "cards_member_identity"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))  # "line" | "messenger"
    platform_user_id: Mapped[str] = mapped_column(String(128))
    # False after unfollow/block: nothing is sent to an identity that is not following.
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    followed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    unfollowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last message or postback from the person: opens Messenger's 24-hour window.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Messenger Marketing Messages opt-in token (optin event), if the person gave one.
    notification_messages_token: Mapped[str | None] = mapped_column(String(256))

    member: Mapped[Member] = relationship(back_populates="identities")


class ErasedIdentity(Base):
    """A keyed digest of a deleted identity: lets a re-joined account be recognised
    (no second welcome reward, no self-referral) without keeping the platform id."""

    __tablename__ = "cards_erased_identity"
    __table_args__ = (UniqueConstraint("platform", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ShortCode(Base):
    """A short human code standing for one QR token, for typing when a camera fails."""

    __tablename__ = "cards_short_code"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"), index=True)
    token: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LinkCode(Base):
    """A one-time code shown in one channel and typed in the other to join identities."""

    __tablename__ = "cards_link_code"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("cards_member.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
