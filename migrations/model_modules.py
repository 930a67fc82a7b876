"""Every module that defines tables, so Alembic and the tests see the whole schema."""

import importlib

MODEL_MODULES = (
    "broadcast.models",
    "cards.models",
    "handlers.inbox_models",
    "loyalty.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
