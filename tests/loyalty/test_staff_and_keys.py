import pytest

from core.db import Database
from loyalty.errors import UsernameTaken
from loyalty.pos_keys import authenticate_pos_key, issue_pos_key, revoke_pos_key
from loyalty.staff import authenticate_staff, create_staff, staff_store_ids
from tests.loyalty.factories import add_store


async def test_staff_sign_in_with_their_password_only(db: Database) -> None:
    async with db.transaction() as session:
        store = await add_store(session)
        staff = await create_staff(
            session, username="Mei", password="latte art", role="manager", store_ids=[store.id]
        )
        assert staff.password_hash.startswith("$argon2")
    async with db.transaction() as session:
        signed_in = await authenticate_staff(session, username="mei", password="latte art")
        assert signed_in is not None and signed_in.id == staff.id
        assert await authenticate_staff(session, username="mei", password="wrong") is None
        assert await authenticate_staff(session, username="nobody", password="x") is None
        assert await staff_store_ids(session, staff_id=staff.id) == [store.id]
        with pytest.raises(UsernameTaken):
            await create_staff(session, username="MEI", password="another")


async def test_a_deactivated_account_cannot_sign_in(db: Database) -> None:
    async with db.transaction() as session:
        staff = await create_staff(session, username="leo", password="pour over")
        staff.active = False
    async with db.transaction() as session:
        assert await authenticate_staff(session, username="leo", password="pour over") is None


async def test_a_pos_key_works_until_revoked_and_only_with_its_secret(db: Database) -> None:
    async with db.transaction() as session:
        store = await add_store(session)
        key, plaintext = await issue_pos_key(session, store_id=store.id)
    assert key.secret_sha256 not in plaintext and plaintext.startswith(key.prefix + ".")
    async with db.transaction() as session:
        found = await authenticate_pos_key(session, plaintext)
        assert found is not None and found.store_id == store.id
        assert await authenticate_pos_key(session, plaintext + "x") is None
        assert await authenticate_pos_key(session, key.prefix) is None
        assert await authenticate_pos_key(session, "garbage") is None
        await revoke_pos_key(session, pos_key_id=key.id)
    async with db.transaction() as session:
        assert await authenticate_pos_key(session, plaintext) is None
