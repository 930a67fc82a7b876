"""Run the sandbox platforms alone: `python -m bot.sandbox --port 8765`.

With --webhooks-base, the chat simulator is served at /simulator/ too, delivering to
`{webhooks-base}/webhooks/line` and `/webhooks/messenger`.
"""

import argparse

import uvicorn

from bot.sandbox.app import create_sandbox_app
from bot.sandbox.delivery import http_deliverer
from bot.sandbox.simulator import simulator_router
from bot.sandbox.state import SandboxConfig, SandboxState
from core.settings import get_settings


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--line-access-token", default=settings.line_channel_access_token)
    parser.add_argument(
        "--messenger-page-access-token", default=settings.messenger_page_access_token
    )
    parser.add_argument("--webhooks-base", help="Punchline's base URL, to serve the simulator")
    parser.add_argument("--reply-token-ttl", type=float, default=60.0, help="seconds")
    parser.add_argument("--monthly-quota", type=int, default=None)
    parser.add_argument("--narrowcast-phase-seconds", type=float, default=1.0)
    args = parser.parse_args()

    state = SandboxState(
        SandboxConfig(
            reply_token_ttl_seconds=args.reply_token_ttl,
            monthly_quota=args.monthly_quota,
            narrowcast_phase_seconds=args.narrowcast_phase_seconds,
        )
    )
    app = create_sandbox_app(
        state,
        line_access_token=args.line_access_token,
        messenger_page_access_token=args.messenger_page_access_token,
    )
    if args.webhooks_base:
        simulator = simulator_router(
            state,
            deliver=http_deliverer(args.webhooks_base),
            line_channel_secret=settings.line_channel_secret,
            messenger_app_secret=settings.messenger_app_secret,
            brand_name=settings.brand_name,
        )
        app.include_router(simulator, prefix="/simulator")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
