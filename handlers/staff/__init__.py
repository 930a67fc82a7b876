"""The staff page: mobile web for the counter at /staff/ (log in, choose the store, scan or
type a member's code, stamp, redeem, void, adjust), the store report at /staff/report,
and its JSON endpoints under /staff/api/."""

from fastapi import APIRouter

from handlers.staff.api import api_router
from handlers.staff.limits import StaffLimits
from handlers.staff.pages import pages_router
from handlers.staff.report import report_router


def staff_router(limits: StaffLimits | None = None) -> APIRouter:
    """The staff page's routes; each app gets its own guessing limits."""
    limits = limits or StaffLimits()
    router = APIRouter()
    router.include_router(pages_router(limits))
    router.include_router(report_router())
    router.include_router(api_router(limits))
    return router
