"""Production refuses to start with any public placeholder or unsafe setting, and says
why in one line per problem."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import PUBLISHED_SECRETS, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "k" * 48,
    "SANDBOX": "false",
    "PUBLIC_BASE_URL": "https://cards.example.com",
    "DATABASE_URL": "postgresql://punchline@db.internal:5432/punchline",
    "LINE_CHANNEL_SECRET": "a-real-line-channel-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "a-real-line-access-token",
    "MESSENGER_APP_SECRET": "a-real-messenger-app-secret",
    "MESSENGER_VERIFY_TOKEN": "a-real-verify-token",
    "MESSENGER_PAGE_ACCESS_TOKEN": "a-real-page-token",
}


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A fully configured production environment, with no .env to read."""
    monkeypatch.chdir(tmp_path)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return dict(PRODUCTION)


def problems_with(monkeypatch: pytest.MonkeyPatch, **changes: str) -> list[str]:
    for name, value in changes.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    return refused.value.problems


def test_a_fully_configured_production_starts(production: dict[str, str]) -> None:
    settings = load_settings()
    assert settings.environment == "production" and not settings.sandbox


def test_the_placeholders_are_what_env_example_publishes() -> None:
    published = env_example()
    for name in PUBLISHED_SECRETS:
        assert published[name.upper()] == Settings.model_fields[name].default


@pytest.mark.parametrize("name", PUBLISHED_SECRETS)
@pytest.mark.parametrize("source", ["env.example", "empty"])
def test_each_published_placeholder_is_refused_with_its_own_line(
    production: dict[str, str], monkeypatch: pytest.MonkeyPatch, name: str, source: str
) -> None:
    value = env_example()[name.upper()] if source == "env.example" else ""
    problems = problems_with(monkeypatch, **{name.upper(): value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name.upper()} is the public placeholder")


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"SECRET_KEY": "short-but-not-the-default"}, "SECRET_KEY must be at least 32"),
        ({"SANDBOX": "true"}, "SANDBOX must be false in production"),
        ({"PUBLIC_BASE_URL": "http://cards.example.com"}, "PUBLIC_BASE_URL must be an https"),
        ({"DATABASE_URL": "sqlite:///./punchline.db"}, "DATABASE_URL is SQLite"),
    ],
)
def test_unsafe_production_settings_are_refused_with_one_line_each(
    production: dict[str, str], monkeypatch: pytest.MonkeyPatch, changes: dict[str, str],
    line: str,
) -> None:
    problems = problems_with(monkeypatch, **changes)
    assert len(problems) == 1 and problems[0].startswith(line)


def test_sqlite_runs_in_production_only_when_chosen(
    production: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./punchline.db")
    monkeypatch.setenv("ALLOW_SQLITE_IN_PRODUCTION", "true")
    assert load_settings().allow_sqlite_in_production


def test_every_problem_is_listed_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Production with everything else left at its default: the whole list, in one go."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    problems = problems_with(monkeypatch, ENVIRONMENT="production")
    assert len(problems) == len(PUBLISHED_SECRETS) + 3  # and sandbox, http, SQLite


@pytest.mark.parametrize("command", [["db", "upgrade"], ["serve", "--port", "1"]])
def test_the_cli_prints_one_line_per_problem_and_exits_non_zero(
    production: dict[str, str], command: list[str]
) -> None:
    env = {**os.environ, **production, "SANDBOX": "true", "MESSENGER_APP_SECRET": ""}
    result = subprocess.run(
        [sys.executable, "-c", "from cli import app; app()", *command],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "MESSENGER_APP_SECRET is the public placeholder of .env.example (or empty): set your own",
        "SANDBOX must be false in production",
    ]
    assert "Traceback" not in result.stderr + result.stdout


def test_the_app_started_by_uvicorn_prints_the_problems_without_a_traceback(
    production: dict[str, str],
) -> None:
    env = {**os.environ, **production, "PUBLIC_BASE_URL": "http://cards.example.com"}
    result = subprocess.run(
        [sys.executable, "-c", "from app import create_app; create_app()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "PUBLIC_BASE_URL must be an https:// address in production"
