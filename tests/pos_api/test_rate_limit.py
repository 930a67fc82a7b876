"""Typed short codes are rate limited per key and per client address."""

from core.i18n import t
from handlers.pos_limits import SHORT_CODE_LIMIT_PER_MINUTE


async def test_guessing_short_codes_is_cut_off_with_429(shop):
    answers = []
    for _ in range(SHORT_CODE_LIMIT_PER_MINUTE + 5):
        response = await shop.visit({"short_code": "AAAA-AAAA"})
        answers.append(response.json()["error"]["code"])
    assert answers[:SHORT_CODE_LIMIT_PER_MINUTE] == ["token_invalid"] * SHORT_CODE_LIMIT_PER_MINUTE
    assert set(answers[SHORT_CODE_LIMIT_PER_MINUTE:]) == {"too_many_attempts"}
    limited = await shop.visit({"short_code": "AAAA-AAAA"}, language="en")
    assert limited.status_code == 429
    assert limited.json()["error"]["message"] == t("ratelimit.too_many_attempts", "en")


async def test_the_address_limit_holds_across_keys(shop):
    _, other_key = await shop.add_store_key()
    half = SHORT_CODE_LIMIT_PER_MINUTE // 2
    for key in (shop.key, other_key):
        for _ in range(half):
            await shop.visit({"short_code": "AAAA-AAAA"}, key=key)
    response = await shop.visit({"short_code": "AAAA-AAAA"}, key=other_key)
    assert response.status_code == 429


async def test_scanned_tokens_are_not_limited(shop):
    member_id = await shop.add_member(line="U-amy")
    for _ in range(SHORT_CODE_LIMIT_PER_MINUTE + 1):
        response = await shop.visit({"token": "P1" + "A" * 40})
        assert response.json()["error"]["code"] == "token_invalid"
    assert (await shop.visit({"token": shop.token(member_id)})).status_code == 201
