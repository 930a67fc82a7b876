"""One error type for everything the app refuses, and one handler that renders it."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from core.i18n import preferred_locale, t


class AppError(Exception):
    """A refusal with a stable machine-readable code and a human message."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, message: str, status_code: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class TokenInvalid(AppError):
    status_code = 400
    code = "token_invalid"


class TokenExpired(AppError):
    status_code = 400
    code = "token_expired"

    def __init__(self, message: str, *, member_id: int | None = None) -> None:
        super().__init__(message)
        # An expired but authentic token still names its member, who gets a fresh card.
        self.member_id = member_id


async def app_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(
        {"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status_code
    )


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """A body or query that does not fit the schema: the same error shape, with the
    fields at fault, in the caller's language."""
    assert isinstance(exc, RequestValidationError)
    locale = preferred_locale(request.headers.get("accept-language"))
    fields = [".".join(str(part) for part in error["loc"]) for error in exc.errors()]
    body = {"code": "invalid_request", "message": t("errors.invalid_request", locale),
            "fields": fields}
    return JSONResponse({"error": body}, status_code=422)


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
