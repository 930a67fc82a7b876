import pytest

from bot.sender import CollectingSender
from handlers.counter import Counter


@pytest.fixture
def senders():
    return {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}


@pytest.fixture
async def counter(db, settings, senders):
    counter = Counter(settings=settings, senders=senders, db=db)
    yield counter
    await counter.notifier.drain()
