"""Throw-away databases for the test run: a migrated SQLite file copied per test, and a
PostgreSQL database created once per run, emptied after each test, dropped at the end.

Set PUNCHLINE_TEST_POSTGRES_URL to point the PostgreSQL half at another server
(default postgresql://postgres@127.0.0.1:5432/postgres). With PUNCHLINE_REQUIRE_POSTGRES=1
(as .ci/run sets) an unreachable server fails the run instead of skipping that half.
"""

import asyncio
import os
import secrets
import shutil
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import text

import migrations
from core.db import Base, Database
from migrations.model_modules import import_all_models

POSTGRES_ADMIN_URL = os.environ.get(
    "PUNCHLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("PUNCHLINE_REQUIRE_POSTGRES") == "1"


T = TypeVar("T")


def run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on its own loop, from sync code or a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def make_sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    migrations.upgrade(f"sqlite:///{path}")
    return path


def fresh_sqlite_url(template: Path, folder: Path) -> str:
    path = folder / f"test-{secrets.token_hex(4)}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


async def postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


async def create_postgres_database() -> str:
    name = f"punchline_test_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = _with_database(POSTGRES_ADMIN_URL, name)
    await asyncio.to_thread(migrations.upgrade, url)
    return url


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def empty_postgres_tables(database: Database) -> None:
    import_all_models()
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def reseed_defaults(database: Database) -> None:
    """Rows the migrations seed (a default program, ...) come back after TRUNCATE."""
    from migrations.seed import seed_defaults

    async with database.transaction() as session:
        await seed_defaults(session)
