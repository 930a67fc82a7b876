"""What the console's forms share: the CSRF check (the session's token, the same one the
staff page's forms carry), the one refusal page for a failed check, and the "asks once"
confirmation of a destructive action."""

import hmac

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from handlers.console.rendering import Viewer, render

MAX_FIELD = 100  # a CSRF token or a short form value


def csrf_matches(viewer: Viewer, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token.encode(), viewer.csrf_token.encode())


def csrf_refused(request: Request, viewer: Viewer, section: str) -> HTMLResponse:
    response = render(request, viewer, "refused.html", section=section,
                      message=viewer.text("staff.error.csrf"))
    response.status_code = 403
    return response


def confirm_page(request: Request, viewer: Viewer, *, section: str, question: str,
                 action: str, back: str) -> HTMLResponse:
    """The one question before a delete; `question` names the members it touches."""
    return render(request, viewer, "confirm.html", section=section, question=question,
                  action=action, back=back)


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
