import pytest


@pytest.fixture(scope="session", autouse=True)
def _postgres_first(postgres_url: str) -> str:
    return postgres_url
