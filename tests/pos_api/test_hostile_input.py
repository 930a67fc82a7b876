"""Hostile input to the POS API: numbers past any column, amounts that are not numbers,
bodies nested past reason. Each is a 4xx in the error shape and writes nothing."""

import json

import pytest

from core.bounds import MAX_AMOUNT, MAX_ID
from tests.rows import row_counts

HUGE = 10**20


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def assert_refused_without_writes(shop, response, status: int, code: str,
                                        before: dict[str, int]) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await row_counts(shop.db) == before


# Past 64 bits fails on SQLite; past 32 bits already on PostgreSQL, whose id columns are
# 32-bit integers.
@pytest.mark.parametrize("huge", [HUGE, MAX_ID + 1], ids=["past-64-bits", "past-the-id-column"])
async def test_an_id_past_what_a_column_holds_is_refused_not_a_server_error(shop, huge):
    member_id = await shop.add_member(line="U-amy")
    token = shop.token(member_id)
    before = await row_counts(shop.db)
    answers = [
        await shop.member(huge),
        await shop.void(huge),
        await shop.redeem({"token": token, "reward_id": huge}),
        await shop.visit({"token": token, "amount": huge}),
    ]
    for response in answers:
        await assert_refused_without_writes(shop, response, 422, "invalid_request", before)


@pytest.mark.parametrize("amount", [MAX_AMOUNT + 1, 2**63 - 1, -1, "12000", True, 12.5])
async def test_an_amount_past_the_limit_or_not_an_integer_is_refused(shop, amount):
    member_id = await shop.add_member(line="U-amy")
    before = await row_counts(shop.db)
    response = await shop.visit({"token": shop.token(member_id), "amount": amount})
    await assert_refused_without_writes(shop, response, 422, "invalid_request", before)
    assert response.json()["error"]["fields"] == ["body.amount"]


async def test_the_largest_amount_is_accepted(shop):
    member_id = await shop.add_member(line="U-amy")
    response = await shop.visit({"token": shop.token(member_id), "amount": MAX_AMOUNT})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("depth", [70, 1000, 100_000])
async def test_a_deeply_nested_body_is_refused_in_the_error_shape(shop, depth):
    before = await row_counts(shop.db)
    headers = {**shop.headers(), "Content-Type": "application/json"}
    response = await shop.client.post("/api/v1/visits", content=nested(depth), headers=headers)
    assert response.status_code in (400, 422), response.text
    assert set(response.json()) == {"error"}
    assert await row_counts(shop.db) == before


async def test_a_body_that_is_not_json_is_refused_in_the_error_shape(shop):
    headers = {**shop.headers(), "Content-Type": "application/json"}
    response = await shop.client.post("/api/v1/visits", content=b"{not json", headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_unknown_routes_and_methods_answer_in_the_error_shape(shop):
    unknown = await shop.client.get("/api/v1/nowhere")
    wrong_method = await shop.client.delete("/api/v1/visits")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405, "method_not_allowed")
    assert wrong_method.headers["allow"] == "POST"


async def test_a_missing_idempotency_key_is_still_its_own_refusal(shop):
    member_id = await shop.add_member(line="U-amy")
    before = await row_counts(shop.db)
    headers = shop.headers()
    del headers["Idempotency-Key"]
    response = await shop.client.post("/api/v1/visits", json={"token": shop.token(member_id)},
                                      headers=headers)
    await assert_refused_without_writes(shop, response, 400, "idempotency_key_required", before)


async def test_the_schema_shows_the_bounds_the_required_key_and_one_way_in(shop):
    schema = (await shop.client.get("/openapi.json")).json()
    paths, components = schema["paths"], schema["components"]["schemas"]
    member = paths["/api/v1/members/{member_id}"]["get"]
    [member_id] = [p for p in member["parameters"] if p["name"] == "member_id"]
    assert member_id["schema"]["maximum"] < 2**63
    for path in ("/api/v1/visits", "/api/v1/redemptions", "/api/v1/ledger/{entry_id}/void"):
        [key] = [p for p in paths[path]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
        assert key["required"] is True, path
    amount = components["VisitCreate"]["properties"]["amount"]
    assert json.dumps(amount).count(str(MAX_AMOUNT)) == 1
    ways_in = components["VisitCreate"]["oneOf"]
    assert [way["required"] for way in ways_in] == [["token"], ["short_code"]]
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"401", "404"} <= operation["responses"].keys() or not path.startswith(
                "/api/"), (method, path)
