# The POS API tests' running shop, for the tag routes and the counter's rules.
from tests.pos_api.conftest import shop  # noqa: F401
