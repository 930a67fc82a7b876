"""POST /api/v1/redemptions and POST /api/v1/ledger/{id}/void."""

from sqlalchemy import select

from loyalty.models import Reward


async def earned_reward(shop, member_id: int) -> int:
    body = await shop.fill_card(member_id)
    [reward] = body["member"]["rewards"]
    return reward["id"]


async def test_a_reward_is_redeemed_once_with_the_members_token(shop):
    member_id = await shop.add_member(line="U-amy")
    reward_id = await earned_reward(shop, member_id)
    response = await shop.redeem({"token": shop.token(member_id), "reward_id": reward_id})
    assert response.status_code == 201
    body = response.json()
    assert body["kind"] == "redemption" and body["message"] == "已兌換：免費飲料"
    assert body["member"]["rewards"] == []
    again = await shop.redeem({"token": shop.token(member_id), "reward_id": reward_id})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_redeemed"


async def test_a_reward_is_redeemed_by_short_code_too(shop):
    member_id = await shop.add_member(line="U-amy")
    reward_id = await earned_reward(shop, member_id)
    code = await shop.short_code(member_id)
    response = await shop.redeem({"short_code": code, "reward_id": reward_id})
    assert response.status_code == 201, response.text


async def test_redeeming_someone_elses_or_no_reward_is_refused_as_no_reward(shop):
    amy = await shop.add_member(line="U-amy")
    bob = await shop.add_member(name="Bob", line="U-bob")
    amys_reward = await earned_reward(shop, amy)
    for reward_id in (amys_reward, 999_999):
        response = await shop.redeem({"token": shop.token(bob), "reward_id": reward_id})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "no_reward"


async def test_voiding_a_stamp_takes_it_back(shop):
    member_id = await shop.add_member(line="U-amy")
    stamped = (await shop.visit({"token": shop.token(member_id)})).json()
    response = await shop.void(stamped["entry_id"], {"reason": "wrong customer"})
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "void" and body["entry_id"] != stamped["entry_id"]
    assert body["member"]["stamps"] == 0 and body["message"] == "已撤銷集點（1 點）"
    again = await shop.void(stamped["entry_id"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_voided"


async def test_voiding_the_visit_that_issued_a_reward_withdraws_the_reward(shop):
    member_id = await shop.add_member(line="U-amy")
    filled = await shop.fill_card(member_id)
    response = await shop.void(filled["entry_id"])
    assert response.status_code == 200
    member = response.json()["member"]
    assert (member["stamps"], member["rewards"]) == (2, [])
    async with shop.db.transaction() as session:
        reward = await session.scalar(select(Reward).where(Reward.member_id == member_id))
        assert reward.status == "withdrawn"


async def test_voiding_a_redemption_gives_the_reward_back(shop):
    member_id = await shop.add_member(line="U-amy")
    reward_id = await earned_reward(shop, member_id)
    redeemed = (await shop.redeem({"token": shop.token(member_id), "reward_id": reward_id}))
    response = await shop.void(redeemed.json()["entry_id"])
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["member"]["rewards"]] == [reward_id]


async def test_a_stamp_whose_reward_was_redeemed_cannot_be_voided(shop):
    member_id = await shop.add_member(line="U-amy")
    filled = await shop.fill_card(member_id)
    reward_id = filled["rewards_issued"][0]["id"]
    await shop.redeem({"token": shop.token(member_id), "reward_id": reward_id})
    response = await shop.void(filled["entry_id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reward_already_redeemed"


async def test_voiding_an_unknown_entry_is_not_found(shop):
    response = await shop.void(424242)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
