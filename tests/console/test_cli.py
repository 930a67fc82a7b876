"""`punchline staff add NAME --role marketer|admin`: console accounts from the CLI."""

import pytest
from typer.testing import CliRunner

import cli
from loyalty.staff import authenticate_staff
from tests.counter.test_cli import query


@pytest.mark.parametrize("role", ["marketer", "admin"])
def test_staff_add_makes_a_console_account_without_a_store(database_url, role):
    result = CliRunner().invoke(cli.app, ["staff", "add", "Mia", "--role", role,
                                          "--generate-password"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("password: ")]
    staff = query(database_url, lambda session: authenticate_staff(
        session, username="mia", password=line.removeprefix("password: ")))
    assert staff is not None and staff.role == role
