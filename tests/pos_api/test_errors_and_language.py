"""Every refusal has one JSON shape with a stable code, in the staff's language."""

import pytest

from core.i18n import t


async def test_a_refusal_is_an_error_object_with_code_and_message_in_chinese_by_default(shop):
    response = await shop.visit({"token": "P1" + "A" * 40})
    assert response.json() == {
        "error": {"code": "token_invalid", "message": "無效的 QR Code，請顧客重新開啟會員卡"}}


@pytest.mark.parametrize("header", ["en", "en-US,en;q=0.9", "en_GB"])
async def test_accept_language_english_answers_in_english(shop, header):
    member_id = await shop.add_member(line="U-amy")
    await shop.visit({"token": shop.token(member_id)})
    response = await shop.visit({"token": shop.token(member_id)}, language=header)
    assert response.json()["error"] == {
        "code": "cooldown", "message": "This member already got a stamp here 1 min ago"}


async def test_results_are_in_the_staff_language_too(shop):
    member_id = await shop.add_member(line="U-amy")
    body = (await shop.visit({"token": shop.token(member_id)}, language="en")).json()
    assert body["message"] == "Stamped 1 / 3"


async def test_a_malformed_request_keeps_the_error_shape_and_names_the_fields(shop):
    response = await shop.client.post("/api/v1/redemptions", json={"token": 5},
                                      headers=shop.headers(language="en"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["message"] == t("errors.invalid_request", "en")
    assert "body.reward_id" in error["fields"]


async def test_the_pos_api_is_documented_in_the_openapi_schema(shop):
    schema = (await shop.client.get("/openapi.json")).json()
    paths = schema["paths"]
    assert {"/api/v1/visits", "/api/v1/redemptions", "/api/v1/ledger/{entry_id}/void",
            "/api/v1/members/{member_id}"} <= paths.keys()
    visit = paths["/api/v1/visits"]["post"]
    assert {p["name"] for p in visit["parameters"]} >= {"Idempotency-Key", "Accept-Language"}
    assert visit["security"] == [{"HTTPBearer": []}]
    assert "ErrorBody" in schema["components"]["schemas"]
