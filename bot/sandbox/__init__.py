"""The sandbox platforms (fake LINE Messaging API and Messenger Graph API, with their
documented limits and errors) and the chat simulator. Without platform credentials the
whole product runs against these."""

from bot.sandbox.app import create_sandbox_app
from bot.sandbox.delivery import Deliver, http_deliverer
from bot.sandbox.faults import Fault
from bot.sandbox.limits import RateLimit
from bot.sandbox.line_api import line_api_router
from bot.sandbox.messenger_api import messenger_api_router
from bot.sandbox.simulator import simulator_router
from bot.sandbox.state import SandboxConfig, SandboxState

__all__ = [
    "Deliver",
    "Fault",
    "RateLimit",
    "SandboxConfig",
    "SandboxState",
    "create_sandbox_app",
    "http_deliverer",
    "line_api_router",
    "messenger_api_router",
    "simulator_router",
]
