"""The visit summary is rebuilt at the end of `punchline import visits`, after
`punchline rfm recompute`, and by the nightly RFM job."""

from typer.testing import CliRunner

import cli
from tests.imports.test_cli import add_store, history

runner = CliRunner()
VISITS = "C-1,Daan,2026-03-01,100\nC-1,Daan,2026-03-05,100\nC-2,Daan,2026-03-02,50\n"


def test_an_import_then_a_recompute_each_rebuild_the_visit_summary(database_url, tmp_path):
    add_store(database_url)

    imported = runner.invoke(cli.app, ["import", "visits", str(history(tmp_path, VISITS))])
    recomputed = runner.invoke(cli.app, ["rfm", "recompute"])

    assert imported.exit_code == 0, imported.output
    assert "visit summary rebuilt: 2 members" in imported.stdout
    assert recomputed.exit_code == 0, recomputed.output
    assert "visit summary rebuilt: 2 members" in recomputed.stdout


def test_an_import_that_loads_nothing_leaves_the_summary_alone(database_url, tmp_path):
    add_store(database_url)
    file = history(tmp_path, VISITS)
    runner.invoke(cli.app, ["import", "visits", str(file)])

    again = runner.invoke(cli.app, ["import", "visits", str(file)])

    assert again.exit_code == 0, again.output
    assert "skipped as duplicates 3" in again.stdout
    assert "visit summary" not in again.stdout


def test_the_nightly_rfm_job_rebuilds_the_visit_summary(database_url, tmp_path):
    add_store(database_url)
    runner.invoke(cli.app, ["import", "visits", str(history(tmp_path, VISITS))])

    result = runner.invoke(cli.app, ["jobs", "run", "rfm-recompute"])

    assert result.exit_code == 0, result.output
    assert "visit_summary_members" in result.stdout
