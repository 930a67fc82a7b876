"""One error type for everything the app refuses, and the handlers that render every
refusal (ours, a request that does not fit the schema, and the framework's own: a body
that does not parse, an unknown route, a wrong method) in one shape:
`{"error": {"code", "message"}}`."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match

from core.i18n import preferred_locale, t

# Stable codes for the statuses the framework itself answers with.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


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


class ErrorDetail(BaseModel):
    code: str = Field(examples=["token_expired"])
    message: str = Field(examples=["QR Code 已過期，已傳送新會員卡給顧客"])
    fields: list[str] | None = Field(
        default=None, description="With `invalid_request`: the fields at fault.")


class ErrorBody(BaseModel):
    """Every refusal, whatever the route."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the refusals a route can answer, all in the one shape."""
    return {status: {"model": ErrorBody} for status in statuses}


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


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """The framework's refusals, in the one shape with a stable code: a body that does not
    parse (400), an unknown route (404), a method the path does not have (405)."""
    assert isinstance(exc, HTTPException)
    locale = preferred_locale(request.headers.get("accept-language"))
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = t(f"errors.{code}", locale) if code in HTTP_CODES.values() else str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return JSONResponse({"error": {"code": code, "message": message}},
                        status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on this path. Starlette names only the first route
    that matches the path, so a GET and a POST route on one path would answer `Allow: GET`."""
    routes = request.app.router.routes
    return [method for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                   for route in routes)]


def install_error_handler(app: FastAPI) -> None:
    """Every refusal in the one shape; and in the OpenAPI schema, the 422 FastAPI documents
    for input that does not fit in that shape too (FastAPI then lists it on every route)."""
    app.add_exception_handler(AppError, app_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(HTTPException, http_error_handler)
    app.router.responses.setdefault(422, {"model": ErrorBody})
