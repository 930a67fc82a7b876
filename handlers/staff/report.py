"""The store report at /staff/report: what was done at the chosen store today and over
the last seven days, in total and per staff account (managers and admins)."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from core.clock import utcnow
from core.i18n import t
from handlers.deps import DatabaseDep, SettingsDep
from handlers.staff.auth import at_counter
from handlers.staff.pages import HOME, forbidden, page_locale, redirect, render
from loyalty.reports import Period, PeriodReport, StaffFigures, StoreFigures, store_report

REPORT_DAYS = 7
_DAY = "%m/%d"
# The store figures in the order the page lists them, each with its label's key.
STORE_ROWS = (
    "stamps", "visits", "rewards_issued", "rewards_redeemed", "voids", "adjustments",
    "members_served", "new_members",
)


@dataclass(frozen=True, slots=True)
class StaffLine:
    name: str
    stamps: int
    redemptions: int
    voids: int


@dataclass(frozen=True, slots=True)
class ReportColumn:
    """One period as the page shows it."""

    title: str
    store: StoreFigures
    staff: list[StaffLine]


router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/report", response_class=HTMLResponse)
async def report_page(request: Request, settings: SettingsDep, db: DatabaseDep) -> Response:
    """The chosen store's figures for today and the last seven days."""
    locale = page_locale(request, settings)
    now = utcnow()
    async with db.transaction() as session:
        at = await at_counter(request, session, settings, now)
        if at is None:
            return redirect(HOME)  # the counter sends them to sign in or choose a store
        if not at.may_see_report:
            return forbidden(request, settings, "staff.error.not_manager_report")
        reports = await store_report(
            session, store_id=at.store.id, timezone=at.store.timezone, now=now,
            days=REPORT_DAYS,
        )
    columns = [_column(report, locale) for report in reports]
    return render(
        request, settings, "report.html", locale, staff=at.staff, store=at.store, columns=columns,
        store_rows=STORE_ROWS, csrf_token=at.session.csrf_token,
        generated=now.astimezone(ZoneInfo(at.store.timezone)).strftime("%H:%M"),
    )


def _column(report: PeriodReport, locale: str) -> ReportColumn:
    return ReportColumn(
        title=_period_title(report.period, locale),
        store=report.store,
        staff=[_staff_line(figures, locale) for figures in report.staff],
    )


def _period_title(period: Period, locale: str) -> str:
    first, last = period.starts_on.strftime(_DAY), period.ends_on.strftime(_DAY)
    return t(f"staff.report.period.{period.key}", locale, first=first, last=last)


def _staff_line(figures: StaffFigures, locale: str) -> StaffLine:
    name = figures.username if figures.staff_id is not None else None
    return StaffLine(
        name=name or t("staff.report.pos", locale),
        stamps=figures.stamps,
        redemptions=figures.redemptions,
        voids=figures.voids,
    )
