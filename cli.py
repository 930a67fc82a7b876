"""The `punchline` command line."""

import asyncio
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

import migrations
from core.i18n import t
from core.settings import Settings, get_settings

app = typer.Typer(help="Punchline: a membership card for LINE and Messenger.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
line_app = typer.Typer(help="LINE Official Account setup.", no_args_is_help=True)
messenger_app = typer.Typer(help="Messenger page setup.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(line_app, name="line")
app.add_typer(messenger_app, name="messenger")
store_app = typer.Typer(help="Stores and their POS keys.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
program_app = typer.Typer(help="The stamp rules.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(staff_app, name="staff")
app.add_typer(program_app, name="program")
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

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

    base = f"http://{host}:{port}"
    if get_settings().public_base_url == Settings.model_fields["public_base_url"].default:
        # Card images and pages must point at where the demo really listens.
        os.environ["PUBLIC_BASE_URL"] = base
        get_settings.cache_clear()
    settings = get_settings()
    migrations.upgrade(settings.database_url)
    seeded = asyncio.run(seed_demo(settings.database_url))
    table = Table(title=f"{settings.brand_name} is running", show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # keys and passwords are shown whole, never cut
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
                client, api_base=settings.api_base("line_api_base"),
                data_api_base=settings.api_base("line_data_api_base"),
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
                client, api_base=settings.api_base("messenger_api_base"),
                page_access_token=settings.messenger_page_access_token,
                menu=list(zip(labels, MENU_PAYLOADS, strict=True)),
                greeting={"default": t("menu.greeting", settings.default_locale,
                                       brand=settings.brand_name)},
            )

    asyncio.run(run())
    console.print("[green]Messenger profile set[/green]: Get Started, greeting, persistent menu")


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on DATABASE_URL; a refusal ends the command."""
    from core.db import Database
    from core.errors import AppError

    async def run() -> T:
        database = Database(get_settings().database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except AppError as error:
        err_console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None


@store_app.command("add")
def store_add(
    name: str,
    timezone: Annotated[str, typer.Option(help="IANA time zone the store shows times in.")]
    = "Asia/Taipei",
) -> None:
    """Add a store; prints its id."""
    from zoneinfo import available_timezones

    from loyalty.stores import create_store

    if timezone not in available_timezones():
        err_console.print(f"[red]unknown time zone {timezone!r}[/red]")
        raise typer.Exit(1)
    store = _in_transaction(lambda session: create_store(session, name=name, timezone=timezone))
    typer.echo(store.id)


@store_app.command("key")
def store_key(store_id: int) -> None:
    """Issue a new POS key for the store; prints it (it is shown this once only)."""
    from loyalty.pos_keys import issue_pos_key

    _, plaintext = _in_transaction(lambda session: issue_pos_key(session, store_id=store_id))
    err_console.print("[yellow]Store this key now: it is not shown again.[/yellow]")
    typer.echo(plaintext)


@staff_app.command("add")
def staff_add(
    username: str,
    role: Annotated[str, typer.Option(help="staff, manager, marketer or admin.")],
    store: Annotated[list[int] | None, typer.Option(help="A store id they work at "
                                                        "(repeat for several).")] = None,
    generate_password: Annotated[bool, typer.Option(help="Generate the password and print "
                                                         "it once instead of asking.")] = False,
) -> None:
    """Add a staff account; asks for its password, or generates one."""
    from loyalty.models import STAFF_ROLES
    from loyalty.staff import create_staff

    if role not in STAFF_ROLES:
        err_console.print(f"[red]role must be one of {', '.join(STAFF_ROLES)}[/red]")
        raise typer.Exit(1)
    if generate_password:
        password = secrets.token_urlsafe(12)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    staff = _in_transaction(lambda session: create_staff(
        session, username=username, password=password, role=role, store_ids=store or []))
    console.print(f"[green]staff account {staff.id}[/green]: {staff.username} ({role})")
    if generate_password:
        typer.echo(f"password: {password}")


@program_app.command("show")
def program_show() -> None:
    """The stamp rules in force now."""
    from core.clock import utcnow
    from loyalty.programs import RULE_NAMES, current_program

    program = _in_transaction(lambda session: current_program(session, at=utcnow()))
    table = Table(title=f"Program {program.id}, from {program.starts_at:%Y-%m-%d %H:%M} UTC",
                  show_header=False)
    for name in RULE_NAMES:
        value = getattr(program, name)
        table.add_row(name, json.dumps(value, ensure_ascii=False) if value is not None else "—")
    console.print(table)


@program_app.command("set")
def program_set(
    stamps_required: Annotated[int | None, typer.Option(help="Stamps for a reward.")] = None,
    reward_zh: Annotated[str | None, typer.Option(help="The reward's name in zh-TW.")] = None,
    reward_en: Annotated[str | None, typer.Option(help="The reward's name in English.")] = None,
    cooldown_hours: Annotated[int | None, typer.Option(help="Hours between two stamps of "
                                                            "one member at one store.")] = None,
    stamps_per_visit: Annotated[int | None, typer.Option()] = None,
    spend_per_stamp: Annotated[int | None, typer.Option(help="One stamp per this many minor "
                                                             "units spent; 0 turns it off.")]
    = None,
    stamp_expiry_days: Annotated[int | None, typer.Option(help="0: stamps never expire.")]
    = None,
    reward_expiry_days: Annotated[int | None, typer.Option(help="0: rewards never expire.")]
    = None,
    welcome_stamps: Annotated[int | None, typer.Option()] = None,
    referral_reward: Annotated[bool | None, typer.Option("--referral-reward/--no-referral-reward")]
    = None,
    birthday_reward: Annotated[bool | None, typer.Option("--birthday-reward/--no-birthday-reward")]
    = None,
    tier_rules: Annotated[str | None, typer.Option(help="Tier rules as JSON; 'null' for none.")]
    = None,
    starts_at: Annotated[datetime | None, typer.Option(help="When the new rules start (in "
                                                            "TIMEZONE if no offset); now "
                                                            "by default.")] = None,
) -> None:
    """A new version of the stamp rules: the rules in force, with the given ones changed.
    What members already earned keeps the rules it was earned under."""
    from zoneinfo import ZoneInfo

    from core.clock import utcnow
    from loyalty.programs import current_program, set_program

    rules: dict[str, Any] = {
        name: value for name, value in {
            "stamps_required": stamps_required, "cooldown_hours": cooldown_hours,
            "stamps_per_visit": stamps_per_visit, "welcome_stamps": welcome_stamps,
            "referral_reward": referral_reward, "birthday_reward": birthday_reward,
        }.items() if value is not None
    }
    for name, value in {"spend_per_stamp": spend_per_stamp,
                        "stamp_expiry_days": stamp_expiry_days,
                        "reward_expiry_days": reward_expiry_days}.items():
        if value is not None:
            rules[name] = value or None
    if tier_rules is not None:
        rules["tier_rules"] = json.loads(tier_rules)
    start = starts_at or utcnow()
    if start.tzinfo is None:
        start = start.replace(tzinfo=ZoneInfo(get_settings().timezone))

    async def change(session: AsyncSession) -> int:
        if reward_zh or reward_en:
            names = dict((await current_program(session, at=start)).reward_name)
            names.update({k: v for k, v in (("zh-TW", reward_zh), ("en", reward_en)) if v})
            rules["reward_name"] = names
        return (await set_program(session, starts_at=start, **rules)).id

    program_id = _in_transaction(change)
    console.print(f"[green]program {program_id}[/green] in force from {start.isoformat()}")
    program_show()
