"""The numbers the outside world may send, bounded where they enter.

A database column holds a signed 64-bit integer at most: a larger id or amount, passed on
unchecked, fails inside the driver (a 500) instead of being refused. Every id and number
in a path, query or body is declared with one of these types, so it is refused with a 422
in the error shape, and its limits show in the OpenAPI schema (/docs).
"""

from typing import Annotated

from pydantic import Field, StrictInt

# Well under a signed 64-bit column's limit (SQLite INTEGER, PostgreSQL BIGINT), and the
# largest integer a JSON number keeps exactly as a double: in JavaScript clients and in the
# OpenAPI schema, whose limits FastAPI writes as floats (2**63 - 1 would print as 2**63).
MAX_ID = 2**53 - 1
# A sale of a million in the major unit (minor units: two decimals) is a typo, not a sale.
MAX_AMOUNT = 100_000_000

# In a path or query an id arrives as text; in a JSON body it must be a JSON integer
# ("5" or true there is a client bug to report, not a number to guess at).
DbId = Annotated[int, Field(ge=1, le=MAX_ID, description="A row id.")]
StrictDbId = Annotated[StrictInt, Field(ge=1, le=MAX_ID, description="A row id.")]
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT, description="Spent, in minor units.")]
# A position in a list the server hands out (0: from the start).
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]
