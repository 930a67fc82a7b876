"""Fixtures for the card tests."""

import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class _Reward:
    id: int
    name: str
    expires_at: datetime | None = None


@dataclass
class _CardState:
    stamps: int
    stamps_required: int
    reward_name: str
    rewards_available: list = field(default_factory=list)
    tier: str | None = None
    last_visit_at: datetime | None = None


async def _stand_in_card_state(session: AsyncSession, *, member_id: int, locale: str) -> _CardState:
    reward = "免費飲料" if locale == "zh-TW" else "a free drink"
    return _CardState(2, 3, reward, [_Reward(1, reward)])


@pytest.fixture
def card_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """handlers.card_page on the real loyalty engine, or on a stand-in with the same
    interface while loyalty.balances is not written yet."""
    stand_in = importlib.util.find_spec("loyalty.balances") is None
    if stand_in:
        balances = types.ModuleType("loyalty.balances")
        balances.__dict__["card_state"] = _stand_in_card_state
        monkeypatch.setitem(sys.modules, "loyalty.balances", balances)
        monkeypatch.delitem(sys.modules, "handlers.card_page", raising=False)
    yield importlib.import_module("handlers.card_page")
    if stand_in:
        sys.modules.pop("handlers.card_page", None)
