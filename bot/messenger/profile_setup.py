"""The page's Messenger profile: the Get Started button, the persistent menu and the
greeting, set once at deployment (the CLI calls this)."""

from collections.abc import Sequence
from typing import Any

import httpx

from bot.messenger import limits
from bot.messenger.graph import read_graph_error
from bot.messenger.limits import fit
from bot.messenger.parser import GET_STARTED_PAYLOAD
from core.errors import AppError
from core.i18n import t


class MessengerProfileRejected(AppError):
    """Graph refused the profile: a wrong token, a missing permission, a bad menu."""

    status_code = 502
    code = "messenger_profile_rejected"


async def setup_messenger_profile(
    client: httpx.AsyncClient,
    *,
    api_base: str,
    page_access_token: str,
    menu: Sequence[tuple[str, str]],
    greeting: dict[str, str] | None = None,
) -> None:
    """Register the Get Started button, a persistent menu of postback items
    `(title, payload)`, and, when given, the greeting by Messenger locale
    (`{"default": ..., "zh_TW": ...}`; Meta requires "default").

    Raises `MessengerProfileRejected` with Graph's own message when Graph refuses.
    """
    response = await client.post(
        f"{api_base.rstrip('/')}/me/messenger_profile",
        params={"access_token": page_access_token},
        json=_profile_body(menu, greeting),
    )
    if response.is_success:
        return
    error = read_graph_error(response)
    detail = error.message if error and error.message else f"HTTP {response.status_code}"
    raise MessengerProfileRejected(t("messenger.profile_rejected", None, detail=detail))


def _profile_body(
    menu: Sequence[tuple[str, str]], greeting: dict[str, str] | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "get_started": {"payload": GET_STARTED_PAYLOAD},
        "persistent_menu": [
            {
                "locale": "default",
                "composer_input_disabled": False,
                "call_to_actions": [
                    {
                        "type": "postback",
                        "title": fit(title, limits.MENU_ITEM_TITLE),
                        "payload": payload,
                    }
                    for title, payload in menu
                ],
            }
        ],
    }
    if greeting:
        body["greeting"] = [
            {"locale": locale, "text": fit(text, limits.GREETING)}
            for locale, text in greeting.items()
        ]
    return body
