"""`punchline store link STORE_ID` prints a store's join page and the chat links it opens."""

from typer.testing import CliRunner

import cli
from tests.imports.test_cli import add_store

runner = CliRunner()


def test_store_link_prints_the_page_and_both_chat_links(database_url, monkeypatch):
    monkeypatch.setenv("SANDBOX", "false")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example")
    monkeypatch.setenv("LINE_BOT_BASIC_ID", "@punch")
    monkeypatch.setenv("MESSENGER_PAGE_USERNAME", "punchcafe")
    add_store(database_url)
    result = runner.invoke(cli.app, ["store", "link", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "page\thttps://shop.example/j/1",
        "line\thttps://line.me/R/oaMessage/%40punch/?%E9%96%80%E5%B8%82%201",
        "messenger\thttps://m.me/punchcafe?ref=store-1",
    ]


def test_store_link_refuses_an_unknown_store(database_url):
    result = runner.invoke(cli.app, ["store", "link", "7"])
    assert result.exit_code == 1 and "no active store 7" in result.output
