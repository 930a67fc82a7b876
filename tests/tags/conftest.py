import pytest

from tests.pos_api.shop import open_shop


@pytest.fixture
async def shop(db, settings):
    async with open_shop(db, settings) as opened:
        yield opened
