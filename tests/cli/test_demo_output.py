"""`punchline demo` prints its secrets so that they can be copied whole."""

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

import cli
from core.settings import get_settings
from loyalty.models import ImportedVisit, RfmSegmentSize
from loyalty.pos_keys import authenticate_pos_key
from loyalty.staff import authenticate_staff
from tests.counter.test_cli import query


@pytest.fixture
def narrow_demo(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo's output on a 40-column terminal, without starting the server."""
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    monkeypatch.setattr(cli, "console", Console())  # reads COLUMNS, like a real terminal
    monkeypatch.setattr(cli, "serve", lambda **_: None)
    result = CliRunner().invoke(cli.app, ["demo"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_pos_key_stands_whole_on_a_line_of_its_own_and_authenticates(narrow_demo):
    lines = narrow_demo.splitlines()
    key = lines[lines.index("POS key (first store, shown once):") + 1]
    assert len(key) > 40
    assert query(get_settings().database_url,
                 lambda session: authenticate_pos_key(session, key)) is not None


@pytest.mark.parametrize("username", ["barista", "manager", "marketer"])
def test_each_password_stands_whole_on_a_line_of_its_own_and_signs_in(narrow_demo, username):
    lines = narrow_demo.splitlines()
    [label] = [line for line in lines if line.startswith(f"Password of {username} ")]
    password = lines[lines.index(label) + 1]
    assert query(get_settings().database_url, lambda session: authenticate_staff(
        session, username=username, password=password))


def test_the_demo_seeds_a_history_the_console_can_show(narrow_demo):
    url = get_settings().database_url
    visits = query(url, lambda session: session.scalar(
        select(func.count()).select_from(ImportedVisit)))
    recomputes = query(url, lambda session: session.scalar(
        select(func.count(func.distinct(RfmSegmentSize.as_of)))))
    assert "/console/" in narrow_demo
    assert visits > 100 and recomputes > 10
