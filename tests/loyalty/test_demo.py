import asyncio
from pathlib import Path

import migrations
from core.db import Database
from loyalty.demo import seed_demo
from loyalty.pos_keys import authenticate_pos_key
from loyalty.staff import authenticate_staff


async def test_the_demo_seed_signs_in_and_runs_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(migrations.upgrade, url)
    await seed_demo(url)
    seeded = await seed_demo(url)
    assert len(seeded.describe()) == 1
    assert [secret for _, secret in seeded.credentials()] == [
        *(password for _, _, password in seeded.logins), seeded.pos_key]
    database = Database(url)
    async with database.transaction() as session:
        username, _, password = seeded.logins[0]
        assert await authenticate_staff(session, username=username, password=password)
        assert await authenticate_pos_key(session, seeded.pos_key) is not None
    await database.dispose()
