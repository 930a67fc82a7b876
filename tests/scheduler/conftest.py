"""Databases of one kind only, for what differs between them (who leads)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.db import Database
from tests import databases


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(databases.fresh_sqlite_url(sqlite_template, tmp_path))
    yield database
    await database.dispose()


@pytest.fixture
async def postgres_db(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url)
    yield database
    await databases.empty_postgres_tables(database)
    await databases.reseed_defaults(database)
    await database.dispose()
