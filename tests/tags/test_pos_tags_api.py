"""/api/v1/members/{id}/tags: read, add and remove a member's tags with the store's POS
key; hostile input is a 4xx in the error shape and writes nothing."""

from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from core.bounds import MAX_ID
from loyalty.models import MemberTag, MemberTagChange, Tag
from tests.rows import row_counts
from tests.tags.rules import history_of


async def tag_rows(shop) -> tuple[int, int, int]:
    async with shop.db.transaction() as session:
        return tuple([await session.scalar(select(func.count()).select_from(model))
                      for model in (Tag, MemberTag, MemberTagChange)])


async def add(shop, member_id, body, **options):
    return await shop.client.post(f"/api/v1/members/{member_id}/tags", json=body,
                                  headers=shop.headers(**options))


async def remove(shop, member_id, tag, **options):
    return await shop.client.delete(f"/api/v1/members/{member_id}/tags/{quote(tag, safe='')}",
                                    headers=shop.headers(**options))


async def read(shop, member_id, **options):
    headers = shop.headers(**options)
    headers.pop("Idempotency-Key")
    return await shop.client.get(f"/api/v1/members/{member_id}/tags", headers=headers)


async def test_a_pos_tags_a_member_reads_the_tags_and_removes_one(shop):
    amy = await shop.add_member(line="U-amy")
    added = await add(shop, amy, {"tag": " oat milk "})
    await add(shop, amy, {"tag": "燕麥奶"})
    twice = await add(shop, amy, {"tag": "oat milk"})
    listed = await read(shop, amy)
    removed = await remove(shop, amy, "oat milk")
    assert added.status_code == 200, added.text
    assert added.json()["changed"] is True and twice.json()["changed"] is False
    assert listed.status_code == 200
    tags = listed.json()["tags"]
    assert [t["name"] for t in tags] == ["oat milk", "燕麥奶"]
    prefix = shop.key.split(".")[0]
    assert {(t["source"], t["pos_key"], t["staff"], t["rule"]) for t in tags} == {
        ("manual", prefix, None, None)}
    assert removed.status_code == 200 and [t["name"] for t in removed.json()["tags"]] == ["燕麥奶"]
    assert await history_of(shop.db, amy) == [("oat milk", "add", "manual", None),
                                              ("燕麥奶", "add", "manual", None),
                                              ("oat milk", "remove", "manual", None)]


async def test_a_retry_with_the_same_key_replays_the_first_answer(shop):
    amy = await shop.add_member(line="U-amy")
    first = await add(shop, amy, {"tag": "vip"}, idempotency_key="k-1")
    await remove(shop, amy, "vip")
    replay = await add(shop, amy, {"tag": "vip"}, idempotency_key="k-1")
    other = await add(shop, amy, {"tag": "other"}, idempotency_key="k-1")
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch"
    assert (await read(shop, amy)).json()["tags"] == []


async def test_unknown_members_and_tags_are_not_found(shop):
    amy = await shop.add_member(line="U-amy")
    for response in (await read(shop, amy + 1), await add(shop, amy + 1, {"tag": "vip"}),
                     await remove(shop, amy, "never made")):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert (await tag_rows(shop))[1:] == (0, 0)


@pytest.mark.parametrize("name", ["two\nlines", "tab\there", "nul\x00", "\u2028", "   "])
async def test_hostile_names_are_refused_and_write_nothing(shop, name):
    amy = await shop.add_member(line="U-amy")
    before = await row_counts(shop.db), await tag_rows(shop)
    for response in (await add(shop, amy, {"tag": name}), await remove(shop, amy, name)):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_tag_name"
    assert (await row_counts(shop.db), await tag_rows(shop)) == before


@pytest.mark.parametrize("body", [{}, {"tag": ""}, {"tag": "x" * 65}, {"tag": 12},
                                  {"tag": None}, [], {"tag": ["vip"]}])
async def test_malformed_bodies_are_refused_in_the_error_shape(shop, body):
    amy = await shop.add_member(line="U-amy")
    before = await row_counts(shop.db), await tag_rows(shop)
    response = await add(shop, amy, body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert (await row_counts(shop.db), await tag_rows(shop)) == before


async def test_ids_past_the_column_keys_and_auth_are_refused(shop):
    amy = await shop.add_member(line="U-amy")
    past = await read(shop, MAX_ID + 1)
    no_key = await add(shop, amy, {"tag": "vip"}, auth=False)
    bad_key = await read(shop, amy, key="pk_nope.nope")
    headers = shop.headers()
    headers.pop("Idempotency-Key")
    no_idempotency = await shop.client.post(f"/api/v1/members/{amy}/tags", json={"tag": "v"},
                                            headers=headers)
    assert past.status_code == 422
    assert (no_key.status_code, bad_key.status_code) == (401, 401)
    assert no_idempotency.status_code == 400
    assert no_idempotency.json()["error"]["code"] == "idempotency_key_required"
    assert (await tag_rows(shop))[1:] == (0, 0)
