"""Who a message to a member goes to, and what Messenger needs to accept it.

Messenger accepts a plain send only within 24 hours of the person's last message to
the page; outside that window an account update must carry the ACCOUNT_UPDATE tag
(docs/platforms.md). LINE has no window. Sends go only to identities that still follow
us."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cards.models import Member

MESSENGER_WINDOW = timedelta(hours=24)
ACCOUNT_UPDATE_TAG = "ACCOUNT_UPDATE"


@dataclass(frozen=True, slots=True)
class Recipient:
    platform: str
    user_id: str
    tag: str | None  # a Messenger message tag, when outside the 24-hour window


def account_update_tag(platform: str, last_inbound_at: datetime | None,
                       now: datetime) -> str | None:
    """The tag an account update needs on `platform`, given the person's last message."""
    if platform != "messenger":
        return None
    if last_inbound_at is not None and now - last_inbound_at < MESSENGER_WINDOW:
        return None
    return ACCOUNT_UPDATE_TAG


def recipients_of(member: Member, now: datetime) -> list[Recipient]:
    """The member's identities that still follow us, each with the tag its send needs."""
    return [
        Recipient(identity.platform, identity.platform_user_id,
                  account_update_tag(identity.platform, identity.last_inbound_at, now))
        for identity in member.identities
        if identity.following
    ]
