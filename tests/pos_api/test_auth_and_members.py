"""The store key: Authorization: Bearer <key>; GET /api/v1/members/{id}."""

import pytest


async def test_the_member_is_read_with_rewards_and_their_ids(shop):
    member_id = await shop.add_member(name="Amy", line="U-amy")
    filled = await shop.fill_card(member_id)
    response = await shop.member(member_id)
    assert response.status_code == 200
    assert response.json() == filled["member"] | {"id": member_id}


async def test_an_unknown_member_is_not_found(shop):
    response = await shop.member(999_999, language="en")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found"}}


@pytest.mark.parametrize("key", [None, "garbage", "abc.def", "Basic dXNlcjpwYXNz"])
async def test_a_missing_or_wrong_key_is_unauthorized(shop, key):
    member_id = await shop.add_member(line="U-amy")
    options = {"auth": False} if key is None else {"key": key}
    for response in (await shop.visit({"token": shop.token(member_id)}, **options),
                     await shop.member(member_id, **options)):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


async def test_a_revoked_key_is_unauthorized(shop):
    member_id = await shop.add_member(line="U-amy")
    await shop.revoke_key()
    response = await shop.visit({"token": shop.token(member_id)})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_another_stores_key_may_not_void_this_stores_entries(shop):
    member_id = await shop.add_member(line="U-amy")
    stamped = (await shop.visit({"token": shop.token(member_id)})).json()
    _, other_key = await shop.add_store_key()
    response = await shop.void(stamped["entry_id"], key=other_key)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await shop.member(member_id)).json()["stamps"] == 1


async def test_each_stores_key_stamps_at_its_own_store(shop):
    member_id = await shop.add_member(line="U-amy")
    other_store, other_key = await shop.add_store_key()
    assert (await shop.visit({"token": shop.token(member_id)})).status_code == 201
    # The cooldown is per store: the other store may stamp the same member now.
    response = await shop.visit({"token": shop.token(member_id)}, key=other_key)
    assert response.status_code == 201
    assert response.json()["member"]["stamps"] == 2
