"""Real server processes for benchmarks: Punchline under uvicorn (one worker), the
standalone sandbox, and throw-away databases. Everything started here is stopped and
removed when the context exits."""

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

import migrations
from tests import databases
from tests.browser import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@contextmanager
def process(args: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(health_url)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A migrated, empty database URL of `kind` ("sqlite" or "postgresql")."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="punchline-bench-") as folder:
            url = f"sqlite:///{folder}/bench.db"
            migrations.upgrade(url)
            yield url
        return
    import asyncio

    if not asyncio.run(databases.postgres_reachable()):
        raise RuntimeError(f"PostgreSQL not reachable at {databases.POSTGRES_ADMIN_URL}")
    url = asyncio.run(databases.create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(databases.drop_postgres_database(url))


@contextmanager
def sandbox() -> Iterator[str]:
    """The standalone sandbox platforms; yields their base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "bot.sandbox", "--port", str(port), "--reply-token-ttl", "3600"]
    with process(args, {}, f"{base}/control/users"):
        yield base


@contextmanager
def punchline(database_url: str, sandbox_base: str, **settings: str) -> Iterator[str]:
    """Punchline under uvicorn, one worker, sending to the standalone sandbox."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "DATABASE_URL": database_url,
        "SANDBOX": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": base,
        "LINE_API_BASE": f"{sandbox_base}/line",
        "LINE_DATA_API_BASE": f"{sandbox_base}/line-data",
        "MESSENGER_API_BASE": f"{sandbox_base}/graph",
        **{key.upper(): value for key, value in settings.items()},
    }
    args = [sys.executable, "-m", "uvicorn", "app:create_app", "--factory", "--host",
            "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning",
            "--no-access-log"]
    with process(args, env, f"{base}/healthz"):
        yield base
