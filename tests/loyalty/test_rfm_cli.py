"""`punchline rfm recompute` and `punchline rfm export`, and the nightly job."""

import csv

from typer.testing import CliRunner

import cli
from tests.imports.test_cli import add_store, history

runner = CliRunner()
VISITS = ("C-1,Daan,2026-03-01,100\nC-1,Daan,2026-03-05,100\nC-2,Daan,2026-03-02,50\n"
          "C-3,Daan,2025-01-01,10\n")


def test_recompute_as_of_a_day_then_export_one_row_per_scored_member(database_url, tmp_path):
    add_store(database_url)
    assert runner.invoke(cli.app, ["import", "visits", str(history(tmp_path, VISITS))]
                         ).exit_code == 0
    out = tmp_path / "rfm.csv"

    recomputed = runner.invoke(cli.app, ["rfm", "recompute", "--as-of", "2026-03-05"])
    exported = runner.invoke(cli.app, ["rfm", "export", str(out)])

    assert recomputed.exit_code == 0, recomputed.output
    assert "RFM as of 2026-03-05" in recomputed.stdout and "2 members scored" in recomputed.stdout
    assert exported.exit_code == 0, exported.output
    assert list(csv.reader(out.open(newline=""))) == [
        ["member_key", "recency_days", "frequency", "monetary", "r", "f", "m", "segment"],
        ["C-1", "0", "2", "20000", "5", "5", "5", "Loyal Customers"],
        ["C-2", "3", "1", "5000", "1", "1", "1", "Lost"],
    ]


def test_recompute_refuses_a_date_that_is_not_yyyy_mm_dd(database_url):
    result = runner.invoke(cli.app, ["rfm", "recompute", "--as-of", "5 March"])
    assert result.exit_code == 2


def test_jobs_list_shows_the_nightly_rfm_recompute(database_url):
    result = runner.invoke(cli.app, ["jobs", "list"])
    assert result.exit_code == 0, result.output
    assert "rfm-recompute" in result.stdout and "hour=3 minute=30" in result.stdout


def test_the_rfm_job_runs_and_records_its_counts(database_url, tmp_path):
    add_store(database_url)
    runner.invoke(cli.app, ["import", "visits", str(history(tmp_path, VISITS))])

    result = runner.invoke(cli.app, ["jobs", "run", "rfm-recompute"])

    assert result.exit_code == 0, result.output
    assert "rfm-recompute succeeded" in result.stdout and "scored" in result.stdout
