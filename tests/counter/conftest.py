import pytest

from bot.sender import CollectingSender
from broadcast.notify import Notifier


@pytest.fixture
def senders():
    return {"line": CollectingSender("line"), "messenger": CollectingSender("messenger")}


@pytest.fixture
async def notifier(db, settings, senders):
    notifier = Notifier(settings=settings, senders=senders, db=db)
    yield notifier
    await notifier.drain()
