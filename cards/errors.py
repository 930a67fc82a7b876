"""Refusals of the member services, each with a stable code; the text comes from the
catalog (key "card.error.<code>") so a handler can show it in the member's language."""

from core.errors import AppError
from core.i18n import t


class CardError(AppError):
    code = "card_error"

    def __init__(self, locale: str = "en") -> None:
        super().__init__(t(f"card.error.{self.code}", locale))


class LinkCodeInvalid(CardError):
    code = "link_code_invalid"


class LinkCodeExpired(CardError):
    code = "link_code_expired"


class LinkCodeUsed(CardError):
    code = "link_code_used"


class LinkSamePlatform(CardError):
    """The code was typed on a platform its member already has an identity on."""

    code = "link_same_platform"


class MemberKeyUnknown(CardError):
    """No live member has the key given."""

    code = "member_key_unknown"
