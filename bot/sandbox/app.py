"""The sandbox platforms as one ASGI app: mount it in Punchline (at /sandbox) or run it
alone with `python -m bot.sandbox`."""

from fastapi import FastAPI

from bot.sandbox.control import control_router
from bot.sandbox.line_api import line_api_router
from bot.sandbox.messenger_api import messenger_api_router
from bot.sandbox.state import SandboxState


def create_sandbox_app(
    state: SandboxState | None = None,
    *,
    line_access_token: str,
    messenger_page_access_token: str,
) -> FastAPI:
    """LINE at /line (its data API at /line-data), the Graph API at /graph (a version
    segment such as /graph/v21.0 is accepted too), the control API at /control.
    The state is `app.state.sandbox`."""
    state = state or SandboxState()
    app = FastAPI(title="Punchline sandbox platforms", openapi_url="/openapi.json")
    app.state.sandbox = state
    line = line_api_router(state, access_token=line_access_token)
    app.include_router(line, prefix="/line")
    app.include_router(line, prefix="/line-data")
    graph = messenger_api_router(state, page_access_token=messenger_page_access_token)
    app.include_router(graph, prefix="/graph")
    app.include_router(graph, prefix="/graph/{graph_version}")
    app.include_router(control_router(state), prefix="/control", tags=["control"])
    return app
