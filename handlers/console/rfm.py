"""RFM: the recency-by-frequency heat map with counts and segment colours, members per
segment, and segment sizes over time as a stacked area chart. A cell or a segment links
to the member list narrowed to it (exportable there)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from handlers.console.access import ViewerDep
from handlers.console.rendering import Viewer, render, segment_colour
from handlers.deps import SessionDep
from loyalty.rfm_overview import SCORES, SizeHistory, rfm_grid, segment_counts, segment_sizes

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/rfm", response_class=HTMLResponse)
async def rfm_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    cells = await rfm_grid(session)
    counts = await segment_counts(session)
    history = await segment_sizes(session)
    largest = max((cell.members for cell in cells), default=0)
    return render(request, viewer, "rfm.html", section="rfm", cells=cells, scores=SCORES,
                  largest=largest, counts=counts, scored=sum(counts.values()),
                  charts={"sizes": _sizes_chart(viewer, history)})


def _sizes_chart(viewer: Viewer, history: SizeHistory) -> dict[str, Any]:
    return {
        "type": "line",
        "stacked": True,
        "labels": [viewer.day(day) for day in history.days],
        "datasets": [{"label": viewer.segment(segment), "data": sizes,
                      "color": segment_colour(segment)}
                     for segment, sizes in history.sizes.items()],
    }
