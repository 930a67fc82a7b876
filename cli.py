"""The `punchline` command line."""

import asyncio
import csv
import json
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

import migrations
from core.i18n import t
from core.settings import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from core.db import Database
    from loyalty.imports import Rejection

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
jobs_app = typer.Typer(help="Scheduled jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
import_app = typer.Typer(help="Import a shop's history.", no_args_is_help=True)
app.add_typer(import_app, name="import")
rfm_app = typer.Typer(help="Members' RFM scores and segments.", no_args_is_help=True)
app.add_typer(rfm_app, name="rfm")
console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]

# The three menu entries of the LINE rich menu and the Messenger persistent menu.
MENU_PAYLOADS = ("card", "stamps", "invite")
MENU_LABEL_KEYS = ("menu.card", "menu.stamps", "menu.invite")


@app.callback()
def check_settings() -> None:
    """Every command reads the settings: unusable ones stop it with one line each."""
    try:
        get_settings()
    except SettingsError as error:
        for problem in error.problems:
            err_console.print(f"[red]{problem}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations to DATABASE_URL."""
    settings = get_settings()
    migrations.upgrade(settings.database_url, revision)
    console.print(f"[green]database at {revision}[/green]: {settings.database_url}")


@app.command()
def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Start the server (settings from the environment and .env)."""
    uvicorn.run("app:create_app", factory=True, host=host, port=port, log_level="info",
                **proxy_options(get_settings()))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn reads X-Forwarded-For only from the proxies FORWARDED_ALLOW_IPS names (by
    default it trusts 127.0.0.1, so anyone connecting through a local tunnel or sidecar
    could pick the address a login limit counts)."""
    trusted = settings.forwarded_allow_ips.strip()
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or None}


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
    seeded = asyncio.run(seed_demo(settings.database_url, timezone=settings.timezone,
                                   rfm_window_days=settings.rfm_window_days))
    table = Table(title=f"{settings.brand_name} is running", show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("Chat simulator", f"{base}/simulator/")
    table.add_row("Staff page", f"{base}/staff/")
    table.add_row("Console", f"{base}/console/ (sign in as marketer)")
    table.add_row("API docs", f"{base}/docs")
    for line in seeded.describe():
        table.add_row(*line)
    console.print(table)
    # Secrets go on lines of their own, never wrapped, so that copying one copies it whole.
    for label, secret in seeded.credentials():
        typer.echo(f"{label}:")
        typer.echo(secret)
    serve(host=host, port=port)


def _menu_labels(locale: str) -> tuple[str, str, str]:
    labels = tuple(t(key, locale) for key in MENU_LABEL_KEYS)
    return labels[0], labels[1], labels[2]


@line_app.command("setup-richmenu")
def line_setup_richmenu() -> None:
    """Draw and upload the three-area rich menu (card, stamps, invite), set it default."""
    from bot.line.management import LineApiError, LineManagement
    from bot.line.richmenu import RichMenuImageError, draw_richmenu_image, setup_richmenu

    settings = get_settings()
    labels = _menu_labels(settings.default_locale)
    image = draw_richmenu_image(labels, color=settings.brand_color)

    async def run() -> str:
        async with LineManagement(
            api_base=settings.api_base("line_api_base"),
            data_api_base=settings.api_base("line_data_api_base"),
            access_token=settings.line_channel_access_token,
        ) as line:
            return await setup_richmenu(
                line, labels=labels, payloads=MENU_PAYLOADS, image=image,
                chat_bar_text=t("line.richmenu.chat_bar", settings.default_locale),
            )

    try:
        richmenu_id = asyncio.run(run())
    except (LineApiError, RichMenuImageError) as error:
        err_console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]rich menu set as default:[/green] {richmenu_id}")


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


@store_app.command("link")
def store_link(store_id: int) -> None:
    """Print the store's join links: the page to put behind a QR on the counter, and
    the LINE and Messenger links it opens. Members who join through them are counted
    as joined at this store."""
    from core.i18n import DEFAULT_LOCALE
    from handlers.referral_page import chat_links, store_link_url
    from loyalty.join_links import active_store, store_ref

    settings = get_settings()
    if _in_transaction(lambda session: active_store(session, store_id)) is None:
        err_console.print(f"[red]no active store {store_id}[/red]")
        raise typer.Exit(1)
    links = chat_links(settings, ref=store_ref(store_id), prefilled=t(
        "store_link.prefill", DEFAULT_LOCALE, store_id=store_id))
    typer.echo(f"page\t{store_link_url(settings, store_id)}")
    for platform, url in links.items():
        typer.echo(f"{platform}\t{url}")


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
    max_stamps_per_visit: Annotated[int | None, typer.Option(help="The most stamps one visit "
                                                                  "earns, whatever was spent.")]
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
            "stamps_per_visit": stamps_per_visit, "max_stamps_per_visit": max_stamps_per_visit,
            "welcome_stamps": welcome_stamps,
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


def _local_time(moment: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    if moment is None:
        return "—"
    return f"{moment.astimezone(ZoneInfo(get_settings().timezone)):%Y-%m-%d %H:%M}"


def _counts_text(counts: dict[str, int] | None) -> str:
    return ", ".join(f"{name} {value}" for name, value in (counts or {}).items()) or "—"


@jobs_app.command("list")
def jobs_list() -> None:
    """The scheduled jobs: when each is due next and how its last run went."""
    from zoneinfo import ZoneInfo

    from broadcast.job_runs import last_job_runs
    from broadcast.jobs import JOBS
    from core.clock import utcnow

    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    last_runs = _in_transaction(
        lambda session: last_job_runs(session, jobs=[job.name for job in JOBS]))
    now = utcnow()
    table = Table(title=f"Scheduled jobs (times in {settings.timezone})")
    for column, no_wrap in (("job", True), ("schedule", False), ("next run", True),
                            ("last run", True), ("outcome", False)):
        table.add_column(column, no_wrap=no_wrap)
    for job in JOBS:
        run = last_runs.get(job.name)
        table.add_row(
            job.name, " ".join(f"{field}={value}" for field, value in job.cron.items()),
            _local_time(job.next_run_after(now, zone)),
            _local_time(run.started_at) if run else "never",
            f"{run.outcome} ({run.cause})" if run else "—",
        )
    console.print(table)
    for job in JOBS:
        run = last_runs.get(job.name)
        did = f" Last run: {run.error or _counts_text(run.counts)}." if run else ""
        console.print(f"{job.name}: {job.description}{did}", markup=False)


@jobs_app.command("run")
def jobs_run(name: str) -> None:
    """Run a scheduled job now; the run is recorded like a scheduled one."""
    from broadcast.jobs import JOBS, find_job, run_job
    from broadcast.models import JobRun
    from core.db import Database

    job = find_job(name)
    if job is None:
        err_console.print(f"[red]no job {name!r}[/red]; jobs: "
                          f"{', '.join(known.name for known in JOBS)}")
        raise typer.Exit(1)
    settings = get_settings()

    async def run() -> JobRun:
        database = Database(settings.database_url)
        try:
            return await run_job(database, job, cause="manual", timezone=settings.timezone)
        finally:
            await database.dispose()

    with console.status(f"running {name}…"):
        finished = asyncio.run(run())
    assert finished.finished_at is not None  # run_job returns the record once finished
    seconds = (finished.finished_at - finished.started_at).total_seconds()
    if finished.outcome != "succeeded":
        err_console.print(f"[red]{name} {finished.outcome}[/red] after {seconds:.1f} s: "
                          f"{finished.error}")
        raise typer.Exit(1)
    console.print(f"[green]{name} succeeded[/green] in {seconds:.1f} s: "
                  f"{_counts_text(finished.counts)}")


@app.command()
def scheduler() -> None:
    """Run the scheduler as a process of its own, without the web server (for web
    workers started with SCHEDULER_ENABLED=false). Ctrl-C or SIGTERM stops it."""
    import logging
    import signal

    from rich.logging import RichHandler

    from broadcast.scheduler import Scheduler
    from core.db import Database

    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=err_console, show_path=False)])
    settings = get_settings()

    async def run() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        database = Database(settings.database_url)
        job_scheduler = Scheduler(database, timezone=settings.timezone,
                                  check_seconds=settings.scheduler_check_seconds)
        try:
            await job_scheduler.start()
            state = ("leading" if job_scheduler.is_leader
                     else "standing by (another scheduler leads)")
            console.print(f"[green]scheduler {state}[/green]; Ctrl-C stops it")
            await stopping.wait()
        finally:
            await job_scheduler.stop()
            await database.dispose()
        console.print("scheduler stopped")

    asyncio.run(run())


ImportReportT = TypeVar("ImportReportT")


def _run_import(file: Path, rejects: Path | None, header: list[str],
                load: "Callable[[Database, Iterator[str], Callable[[Rejection], None]], "
                      "Awaitable[ImportReportT]]") -> ImportReportT:
    """Reads `file` through `load` with a progress bar by bytes read, writing every
    rejected row to `rejects` (CSV: line, reason, the row). Exits 1 when the file
    cannot be read or is not CSV text with `header`."""
    from core.db import Database
    from loyalty.imports import ImportFileError

    settings = get_settings()
    try:
        size = file.stat().st_size
        source = file.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        err_console.print(f"[red]cannot read {file}: {error.strerror}[/red]")
        raise typer.Exit(1) from None
    rejects_file = rejects.open("w", newline="", encoding="utf-8") if rejects else None
    rejects_csv = csv.writer(rejects_file) if rejects_file else None
    if rejects_csv:
        rejects_csv.writerow(["line", "reason", *header])

    def write_rejection(rejection: "Rejection") -> None:
        if rejects_csv:
            rejects_csv.writerow([rejection.line, rejection.reason, *rejection.fields])

    def counted(progress: Progress, task: Any) -> Iterator[str]:
        for line in source:
            progress.advance(task, len(line.encode()))
            yield line

    async def run(progress: Progress, task: Any) -> ImportReportT:
        database = Database(settings.database_url)
        try:
            return await load(database, counted(progress, task), write_rejection)
        finally:
            await database.dispose()

    try:
        with source, Progress(console=err_console, transient=True) as progress:
            task = progress.add_task(f"importing {file.name}", total=size)
            return asyncio.run(run(progress, task))
    except ImportFileError as error:
        err_console.print(f"[red]{file}: {error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        if rejects_file:
            rejects_file.close()


def _print_rejections(rejected: int, first: "list[Rejection]", rejects: Path | None) -> None:
    for rejection in first:
        console.print(f"line {rejection.line}: {rejection.reason}", markup=False,
                      highlight=False)
    if rejected > len(first):
        hint = f" (all in {rejects})" if rejects else "; --rejects FILE writes them all"
        console.print(f"… and {rejected - len(first)} more{hint}", markup=False,
                      highlight=False)


RejectsOption = Annotated[Path | None, typer.Option(
    help="Write every rejected row here (CSV with its line and reason).")]
ShowOption = Annotated[int, typer.Option(help="Rejections to print.")]


@import_app.command("visits")
def import_visits_command(
    file: Annotated[Path, typer.Argument(help="CSV: member_key,store,visited_at,amount.")],
    rejects: RejectsOption = None,
    show: ShowOption = 20,
) -> None:
    """Import past visits (for RFM and reports; they grant no stamps). Running it again
    on the same file changes nothing. Exits 0 once the file was read, even with
    rejected rows; 1 when it cannot be read or its header is wrong."""
    from core.clock import utcnow
    from loyalty.imports import HEADER, import_visits

    settings = get_settings()
    report = _run_import(file, rejects, HEADER, lambda database, lines, on_reject: import_visits(
        database, lines, minor_digits=settings.currency_minor_digits, now=utcnow(),
        locale=settings.default_locale, on_reject=on_reject, keep_rejections=show))
    console.print(f"[green]loaded {report.loaded}[/green], skipped as duplicates "
                  f"{report.duplicates}, rejected {report.rejected}")
    if report.loaded:
        _rebuild_visit_summary()
    _print_rejections(report.rejected, report.first_rejections, rejects)


@import_app.command("tags")
def import_tags_command(
    file: Annotated[Path, typer.Argument(help="CSV: member_key,tag.")],
    rejects: RejectsOption = None,
    show: ShowOption = 20,
) -> None:
    """Tag members from a shop's own records (source: import). Unknown member keys are
    rejected; running it again on the same file changes nothing. Exits 0 once the file
    was read, even with rejected rows; 1 when it cannot be read or its header is wrong."""
    from core.clock import utcnow
    from loyalty.tag_imports import HEADER, import_tags

    report = _run_import(file, rejects, HEADER, lambda database, lines, on_reject: import_tags(
        database, lines, now=utcnow(), on_reject=on_reject, keep_rejections=show))
    console.print(f"[green]tagged {report.tagged}[/green], already tagged "
                  f"{report.already_tagged}, rejected {report.rejected}")
    _print_rejections(report.rejected, report.first_rejections, rejects)


@rfm_app.command("recompute")
def rfm_recompute(
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", formats=["%Y-%m-%d"],
        help="Score as of the end of this day (YYYY-MM-DD, in TIMEZONE); today by default.")]
    = None,
) -> None:
    """Recompute every member's RFM scores and segment; segment changes go to history."""
    from zoneinfo import ZoneInfo

    from core.clock import utcnow
    from loyalty.rfm import RECOMPUTE_STEPS, RecomputeReport, recompute_scores
    from loyalty.tag_rules import RfmTagSync, sync_rfm_tags

    settings = get_settings()
    now = utcnow()
    day: date = as_of.date() if as_of else now.astimezone(ZoneInfo(settings.timezone)).date()
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task(f"RFM as of {day}", total=RECOMPUTE_STEPS + 1)

        def step(description: str) -> None:
            progress.update(task, advance=1, description=description)

        async def recompute(session: AsyncSession) -> tuple[RecomputeReport, RfmTagSync]:
            report = await recompute_scores(
                session, as_of=day, timezone=settings.timezone,
                window_days=settings.rfm_window_days, now=now, rules=settings.rfm_segments,
                frequency_thresholds=settings.rfm_frequency_thresholds, on_step=step)
            tags = await sync_rfm_tags(session, now=now)
            step("segment tags in step")
            return report, tags

        report, tags = _in_transaction(recompute)
    console.print(f"[green]RFM as of {day}[/green]: {report.scored} members scored, "
                  f"{report.segment_changes} segment changes, {report.unscored} unscored")
    console.print(f"segment tags: {tags.added} added, {tags.removed} removed")
    _rebuild_visit_summary()


def _rebuild_visit_summary() -> None:
    """Rebuilds the segments' visit summary as of now (after a recompute or an import)."""
    from core.clock import utcnow
    from loyalty.visit_summary import rebuild

    settings = get_settings()
    with err_console.status("rebuilding the visit summary"):
        summarised = _in_transaction(lambda session: rebuild(
            session, now=utcnow(), timezone=settings.timezone))
    console.print(f"visit summary rebuilt: {summarised} members")


@rfm_app.command("export")
def rfm_export(file: Annotated[Path, typer.Argument(help="The CSV file to write.")]) -> None:
    """Write every scored member's figures, scores and segment as CSV."""
    from loyalty.rfm import EXPORT_HEADER, exported_scores

    async def write(session: AsyncSession) -> int:
        written = 0
        with file.open("w", newline="", encoding="utf-8") as out:
            rows = csv.writer(out)
            rows.writerow(EXPORT_HEADER)
            async for row in exported_scores(session):
                rows.writerow(row)
                written += 1
        return written

    try:
        written = _in_transaction(write)
    except OSError as error:
        err_console.print(f"[red]cannot write {file}: {error.strerror}[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]{written} members[/green] written to {file}")
