"""`punchline line setup-richmenu` and `punchline messenger setup-profile` against a
running Punchline in sandbox mode: the menus land in the sandbox platforms."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from app import create_app
from core.settings import Settings
from tests.browser import free_port, serving

ROOT = Path(__file__).resolve().parents[2]


async def punchline_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from cli import app; app()", *args, cwd=ROOT,
        env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
async def test_setup_commands_install_the_rich_menu_and_messenger_profile(db, settings: Settings):
    port = free_port()
    settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    app = create_app(settings)
    env = {"PUBLIC_BASE_URL": settings.public_base_url, "SANDBOX": "true",
           "DATABASE_URL": db.url}
    async with serving(app, port):
        line_status, line_output = await punchline_cli("line", "setup-richmenu", env=env)
        profile_status, profile_output = await punchline_cli("messenger", "setup-profile", env=env)
        sandbox = app.state.sandbox
        menu = sandbox.default_rich_menu()
        profile = sandbox.messenger_profile()
    assert (line_status, profile_status) == (0, 0), line_output + profile_output
    assert menu is not None and menu.image is not None
    assert [area["action"]["data"] for area in menu.body["areas"]] == ["card", "stamps", "invite"]
    assert profile["get_started"] == {"payload": "GET_STARTED"}
    menu_items = profile["persistent_menu"][0]["call_to_actions"]
    assert [item["payload"] for item in menu_items] == ["card", "stamps", "invite"]


async def test_setup_richmenu_names_the_failed_step_when_line_cannot_be_reached():
    closed = f"http://127.0.0.1:{free_port()}"
    status, output = await punchline_cli("line", "setup-richmenu", env={
        "SANDBOX": "false", "LINE_API_BASE": closed, "LINE_DATA_API_BASE": closed})
    assert status == 1
    assert "could not create the rich menu: ClientConnectorError" in output
    assert "Traceback" not in output
