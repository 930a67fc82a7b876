"""The console's home: is the card working? Members over time, joins by source, the
funnel per store, monthly cohorts and active members (loyalty.insights)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.clock import utcnow
from handlers.console.access import ViewerDep
from handlers.console.rendering import Viewer, render
from handlers.deps import SessionDep
from loyalty import insights

router = APIRouter(prefix="/console", include_in_schema=False)

SOURCE_COLOURS = {"line": "#06c755", "messenger": "#0866ff", "referral": "#f59e0b",
                  "store_link": "#7c3aed", "import": "#6b7280"}
STEP_COLOURS = ("#c7d2fe", "#818cf8", "#6366f1", "#4338ca", "#f59e0b")


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, viewer: ViewerDep, session: SessionDep,
               by: str = "week") -> HTMLResponse:
    now = utcnow()
    unit: insights.Unit = "day" if by == "day" else "week"
    growth = await insights.members_over_time(session, now=now, timezone=viewer.timezone,
                                              unit=unit)
    sources = await insights.joins_by_source(session)
    funnel = await insights.funnel(session, now=now)
    cohorts = await insights.cohorts(session, now=now, timezone=viewer.timezone)
    active = await insights.active_members(session, now=now, timezone=viewer.timezone)
    charts = {
        "growth": _growth_chart(viewer, growth),
        "sources": _sources_chart(viewer, sources),
        "funnel": _funnel_chart(viewer, funnel),
    }
    return render(request, viewer, "home.html", section="home", unit=unit, growth=growth,
                  sources=sources, funnel=funnel, steps=insights.FUNNEL_STEPS,
                  cohorts=cohorts, active=active, charts=charts)


def _growth_chart(viewer: Viewer, growth: list[insights.GrowthPoint]) -> dict[str, Any]:
    return {
        "type": "line",
        "labels": [viewer.day(point.starts_on) for point in growth],
        "datasets": [{"label": viewer.text("console.home.members"),
                      "data": [point.members for point in growth], "color": "#0f766e"}],
    }


def _sources_chart(viewer: Viewer, sources: dict[str, int]) -> dict[str, Any]:
    return {
        "type": "bar",
        "horizontal": True,
        "labels": [viewer.text(f"console.source.{source}") for source in sources],
        "datasets": [{"label": viewer.text("console.home.joins"),
                      "data": list(sources.values()),
                      "colors": [SOURCE_COLOURS[source] for source in sources]}],
    }


def _funnel_chart(viewer: Viewer, rows: list[insights.FunnelRow]) -> dict[str, Any]:
    return {
        "type": "bar",
        "labels": [row.store_name or viewer.text("console.funnel.all_stores") for row in rows],
        "datasets": [
            {"label": viewer.text(f"console.funnel.{step}"),
             "data": [row.steps()[index] for row in rows], "color": STEP_COLOURS[index]}
            for index, step in enumerate(insights.FUNNEL_STEPS)
        ],
    }
