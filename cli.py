"""The `punchline` command line."""

import asyncio
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

import migrations
from core.i18n import t
from core.settings import get_settings

app = typer.Typer(help="Punchline: a membership card for LINE and Messenger.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
line_app = typer.Typer(help="LINE Official Account setup.", no_args_is_help=True)
messenger_app = typer.Typer(help="Messenger page setup.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(line_app, name="line")
app.add_typer(messenger_app, name="messenger")
console = Console()

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]

# The three menu entries of the LINE rich menu and the Messenger persistent menu.
MENU_PAYLOADS = ("card", "stamps", "invite")
MENU_LABEL_KEYS = ("menu.card", "menu.stamps", "menu.invite")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations to DATABASE_URL."""
    settings = get_settings()
    migrations.upgrade(settings.database_url, revision)
    console.print(f"[green]database at {revision}[/green]: {settings.database_url}")


@app.command()
def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Start the server (settings from the environment and .env)."""
    uvicorn.run("app:create_app", factory=True, host=host, port=port, log_level="info")


@app.command()
def demo(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Migrate, seed a demo brand (two stores, 3 stamps for a free drink), and serve."""
    from loyalty.demo import seed_demo

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    seeded = asyncio.run(seed_demo(settings.database_url))
    base = f"http://{host}:{port}"
    table = Table(title=f"{settings.brand_name} is running", show_header=False)
    table.add_row("Chat simulator", f"{base}/simulator/")
    table.add_row("Staff page", f"{base}/staff/")
    table.add_row("API docs", f"{base}/docs")
    for line in seeded.describe():
        table.add_row(*line)
    console.print(table)
    serve(host=host, port=port)


def _menu_labels(locale: str) -> tuple[str, str, str]:
    labels = tuple(t(key, locale) for key in MENU_LABEL_KEYS)
    return labels[0], labels[1], labels[2]


@line_app.command("setup-richmenu")
def line_setup_richmenu() -> None:
    """Draw and upload the three-area rich menu (card, stamps, invite), set it default."""
    from bot.http import make_http_client
    from bot.line.richmenu import draw_richmenu_image, setup_richmenu

    settings = get_settings()
    labels = _menu_labels(settings.default_locale)
    image = draw_richmenu_image(labels, color=settings.brand_color)

    async def run() -> str:
        async with make_http_client() as client:
            return await setup_richmenu(
                client, api_base=settings.line_api_base, data_api_base=settings.line_data_api_base,
                access_token=settings.line_channel_access_token, labels=labels,
                payloads=MENU_PAYLOADS, image=image,
                chat_bar_text=t("line.richmenu.chat_bar", settings.default_locale),
            )

    console.print(f"[green]rich menu set as default:[/green] {asyncio.run(run())}")


@messenger_app.command("setup-profile")
def messenger_setup_profile() -> None:
    """Set the Get Started button, the greeting and the persistent menu."""
    from bot.http import make_http_client
    from bot.messenger.profile_setup import setup_messenger_profile

    settings = get_settings()
    labels = _menu_labels(settings.default_locale)

    async def run() -> None:
        async with make_http_client() as client:
            await setup_messenger_profile(
                client, api_base=settings.messenger_api_base,
                page_access_token=settings.messenger_page_access_token,
                menu=list(zip(labels, MENU_PAYLOADS, strict=True)),
                greeting={"default": t("menu.greeting", settings.default_locale,
                                       brand=settings.brand_name)},
            )

    asyncio.run(run())
    console.print("[green]Messenger profile set[/green]: Get Started, greeting, persistent menu")
