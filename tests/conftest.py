"""Fixtures shared by the whole suite. Database tests take `db`, which runs each test
once on SQLite and once on PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from core.db import Database
from core.settings import Settings
from tests import databases

T = TypeVar("T")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other files a person may want to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.make_sqlite_template(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    # Sync, and run on its own loop in a thread: `db` asks for it lazily from inside
    # the running test loop, so the PostgreSQL half is set up only when it runs.
    if not run_in_thread(databases.postgres_reachable()):
        if databases.REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required, not reachable: {databases.POSTGRES_ADMIN_URL}")
        pytest.skip("no PostgreSQL server reachable; set PUNCHLINE_TEST_POSTGRES_URL")
    url = run_in_thread(databases.create_postgres_database())
    yield url
    run_in_thread(databases.drop_postgres_database(url))


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> AsyncIterator[Database]:
    """A migrated, empty database (with the migrations' seed rows)."""
    if request.param == "sqlite":
        database = Database(databases.fresh_sqlite_url(sqlite_template, tmp_path))
        yield database
        await database.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    database = Database(url, pool_size=60)
    yield database
    await databases.empty_postgres_tables(database)
    await databases.reseed_defaults(database)
    await database.dispose()


@pytest.fixture
def settings(db: Database) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=db.url,
        public_base_url="http://testserver",
        sandbox=True,
        # Scheduler tests turn it on themselves; elsewhere a 03:00 upkeep must not fire.
        scheduler_enabled=False,
    )
