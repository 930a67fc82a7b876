"""The API against its own OpenAPI schema (schemathesis): every documented route, with
and without credentials, on a running app. No server errors, no answer the schema does
not describe, no valid request refused, no invalid one accepted."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app import create_app
from core.settings import Settings
from tests.contract.served import Served, serve

# Enough to reach every documented status of each operation, small enough for the suite.
EXAMPLES_PER_OPERATION = 25

# The schema the app publishes, read without serving it (schemathesis parametrizes at
# import); test_the_served_schema_is_the_one_tested checks the running app agrees.
_SCHEMA_APP = create_app(Settings(_env_file=None, environment="test", sandbox=True,
                                  database_url="sqlite:///unused.db"))
schema = schemathesis.openapi.from_dict(_SCHEMA_APP.openapi())
contract = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)


# Refusals of a well-formed request that only the server's state explains: a random QR
# token is nobody's card (400), a second visit falls in the cooldown (409), an
# Idempotency-Key reused for another body (422, as the IETF idempotency draft says), an
# adjustment that would take stamps below zero (422).
# The built-in positive_data_acceptance check is excluded because it cannot tell those from
# a schema refusal (both 4xx); schema_valid_input_passes_validation below checks what it
# means to: that a request the schema allows is never refused as malformed.
MALFORMED_CODES = {"invalid_request", "bad_request"}


def schema_valid_input_passes_validation(
    ctx: object, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code in (400, 422) and "json" in response.headers.get(
            "content-type", [""])[0]:
        code = response.json().get("error", {}).get("code")
        assert code not in MALFORMED_CODES, (
            f"a request the schema allows was refused as malformed: {response.text}")


def check(case: schemathesis.Case, served: Served, headers: dict[str, str] | None) -> None:
    case.call_and_validate(
        base_url=served.base_url, headers=headers,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
        additional_checks=[schema_valid_input_passes_validation],
    )


@pytest.fixture(scope="module")
def served(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(sqlite_template, tmp_path_factory.mktemp("contract")) as running:
        yield running


def test_the_served_schema_is_the_one_tested(served: Served) -> None:
    assert httpx.get(f"{served.base_url}/openapi.json").json() == _SCHEMA_APP.openapi()


@schema.parametrize()
@contract
def test_every_route_keeps_the_contract_without_credentials(
    case: schemathesis.Case, served: Served
) -> None:
    check(case, served, None)


@schema.parametrize()
@contract
def test_every_route_keeps_the_contract_with_credentials(
    case: schemathesis.Case, served: Served
) -> None:
    check(case, served, served.credentials())
