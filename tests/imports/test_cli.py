"""`punchline import visits` against a temporary SQLite database."""

import csv
from pathlib import Path

from typer.testing import CliRunner

import cli
from core.db import Database
from loyalty.stores import create_store
from tests.databases import run_in_thread

runner = CliRunner()
GOOD = "C-1,Daan,2026-03-01,120.50\nC-2,Daan,2026-03-02T09:00,80\n"
BAD = "C-3,Nowhere,2026-03-01,1\nC-4,Daan,soon,1\nC-5,Daan,2026-03-01,-3\n"


def add_store(url: str) -> None:
    async def add() -> None:
        database = Database(url)
        try:
            async with database.transaction() as session:
                await create_store(session, name="Daan")
        finally:
            await database.dispose()

    run_in_thread(add())


def history(tmp_path: Path, body: str, header: str = "member_key,store,visited_at,amount") -> Path:
    path = tmp_path / "history.csv"
    path.write_text(f"{header}\n{body}", encoding="utf-8")
    return path


def test_import_prints_loaded_duplicates_and_rejections_with_their_lines(database_url, tmp_path):
    add_store(database_url)
    path = history(tmp_path, GOOD + BAD)

    first = runner.invoke(cli.app, ["import", "visits", str(path), "--show", "2"])
    again = runner.invoke(cli.app, ["import", "visits", str(path)])

    assert first.exit_code == 0, first.output
    assert "loaded 2, skipped as duplicates 0, rejected 3" in first.stdout
    assert "line 4: unknown store 'Nowhere'" in first.stdout
    assert "line 5: visited_at 'soon'" in first.stdout
    assert "line 6" not in first.stdout and "1 more" in first.stdout
    assert again.exit_code == 0
    assert "loaded 0, skipped as duplicates 2, rejected 3" in again.stdout


def test_rejects_writes_every_rejected_row_as_csv(database_url, tmp_path):
    add_store(database_url)
    rejects = tmp_path / "rejects.csv"

    result = runner.invoke(cli.app, ["import", "visits", str(history(tmp_path, GOOD + BAD)),
                                     "--rejects", str(rejects), "--show", "0"])

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(rejects.open(newline="")))
    assert rows[0] == ["line", "reason", "member_key", "store", "visited_at", "amount"]
    assert [(row[0], row[2]) for row in rows[1:]] == [("4", "C-3"), ("5", "C-4"), ("6", "C-5")]
    assert "amount is negative" in rows[3][1]


def test_a_wrong_header_or_a_missing_file_exits_non_zero(database_url, tmp_path):
    wrong = runner.invoke(cli.app, ["import", "visits",
                                    str(history(tmp_path, GOOD, header="id,shop,at,amount"))])
    missing = runner.invoke(cli.app, ["import", "visits", str(tmp_path / "nope.csv")])

    assert wrong.exit_code == 1 and "header must be member_key,store,visited_at,amount" in (
        wrong.stderr)
    assert missing.exit_code == 1 and "cannot read" in missing.stderr


def test_a_file_that_is_not_utf8_exits_non_zero(database_url, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"member_key,store,visited_at,amount\nC-1,Caf\xe9,2026-03-01,1\n")

    result = runner.invoke(cli.app, ["import", "visits", str(path)])

    assert result.exit_code == 1 and "not UTF-8" in result.stderr
