"""What the outside world may send, bounded where it enters.

An id column holds a signed 32-bit integer on PostgreSQL: a larger id or amount, passed on
unchecked, fails inside the driver (a 500) instead of being refused. Every id and number
in a path, query or body is declared with one of these types, so it is refused with a 422
in the error shape, and its limits show in the OpenAPI schema (/docs).
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from core.db import MAX_INTEGER

# Every id column is an Integer: 32 bits on PostgreSQL (core.db.MAX_INTEGER). A larger id
# names no row, and the driver would refuse to send it (a 500), so it is refused here.
MAX_ID = MAX_INTEGER
# A sale of a million in the major unit (minor units: two decimals) is a typo, not a sale.
MAX_AMOUNT = 100_000_000


def _a_json_number(value: Any) -> Any:
    """In a JSON body a number must be a JSON number: "12000" or true is a client bug to
    report, not a number to guess at. (1.0 is the integer 1 in JSON and in JSON Schema.)"""
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON integer")
    return value


# Ids: in a path or query an id arrives as text (DbId); in a JSON body it must be a JSON
# number (JsonDbId). The JSON-number check goes last: pydantic then runs it first, and
# still writes the limits into the schema.
_JSON_NUMBER = BeforeValidator(_a_json_number)
DbId = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id.")]
JsonDbId = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id."), _JSON_NUMBER]
JsonInt = Annotated[int, _JSON_NUMBER]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="Spent, in minor units."),
                   _JSON_NUMBER]
# A position in a list the server hands out (0: from the start).
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]


def exactly_one_of(**types: str) -> dict[str, Any]:
    """A model's JSON-schema rule that exactly one of the optional fields is given (of
    its JSON type; the others absent or null), e.g. `exactly_one_of(token="string",
    short_code="string")`, for `model_config = ConfigDict(json_schema_extra=...)`. The model
    (or the service it calls) still checks the rule itself."""
    return {"oneOf": [{"required": [name], "properties": {name: {"type": json_type}}}
                      for name, json_type in types.items()]}
