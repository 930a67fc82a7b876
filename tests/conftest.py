"""Fixtures shared by the whole suite. Database tests take `db`, which runs each test
once on SQLite and once on PostgreSQL."""

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.db import Database
from core.settings import Settings, get_settings
from tests import databases

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove the run's temporary files (SQLite copies, camera videos); screenshots stay
    in test-artifacts/."""
    shutil.rmtree(session.config.option.basetemp, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other files a person may want to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.make_sqlite_template(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite file as DATABASE_URL, for CLI commands that read the settings."""
    url = databases.fresh_sqlite_url(sqlite_template, tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    # Sync, and run on its own loop in a thread: `db` asks for it lazily from inside
    # the running test loop, so the PostgreSQL half is set up only when it runs.
    if not databases.run_in_thread(databases.postgres_reachable()):
        if databases.REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL required, not reachable: {databases.POSTGRES_ADMIN_URL}")
        pytest.skip("no PostgreSQL server reachable; set PUNCHLINE_TEST_POSTGRES_URL")
    url = databases.run_in_thread(databases.create_postgres_database())
    yield url
    databases.run_in_thread(databases.drop_postgres_database(url))


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
