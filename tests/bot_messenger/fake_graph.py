"""A small stand-in for the Graph API endpoints the Messenger adapter calls, served to an
httpx client through ASGITransport. It records each call and answers with scripted
refusals."""

from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

API_BASE = "http://graph.test/v21.0"
PAGE_TOKEN = "page-token"

OUTSIDE_WINDOW = (
    400,
    {
        "error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "type": "OAuthException",
            "code": 10,
            "error_subcode": 2018278,
        }
    },
)
RATE_LIMITED = (
    400,
    {"error": {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613}},
)
MARKETING_FREQUENCY = (
    400,
    {"error": {"message": "(#4) Frequency limit", "code": 4, "error_subcode": 2018354}},
)
SERVICE_DOWN = (503, {"error": {"message": "Service temporarily unavailable", "code": 2}})
BAD_PARAMETER = (400, {"error": {"message": "(#100) Invalid parameter", "code": 100}})


def _bad_token() -> JSONResponse:
    error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
    return JSONResponse({"error": error}, status_code=400)


@dataclass
class FakeGraph:
    # Per recipient, the answers to its next calls (None: accept); then accept.
    scripts: dict[str, list[tuple[int, dict[str, Any]] | None]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    profile_answer: tuple[int, dict[str, Any]] = (200, {"result": "success"})
    sends: list[dict[str, Any]] = field(default_factory=list)
    messenger_profiles: list[dict[str, Any]] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app()))

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v21.0/me/messages")
        async def send(request: Request) -> JSONResponse:
            if request.query_params.get("access_token") != PAGE_TOKEN:
                return _bad_token()
            body = await request.json()
            self.sends.append(body)
            recipient = body["recipient"]["id"]
            script = self.scripts.get(recipient, [])
            answer = script.pop(0) if script else None
            if answer is not None:
                return JSONResponse(answer[1], status_code=answer[0])
            return JSONResponse({"recipient_id": recipient, "message_id": f"m_{len(self.sends)}"})

        @app.get("/v21.0/{psid}")
        async def profile(psid: str, request: Request) -> JSONResponse:
            if request.query_params.get("access_token") != PAGE_TOKEN:
                return _bad_token()
            assert request.query_params.get("fields") == "first_name,last_name,locale"
            if psid not in self.profiles:
                error = {"message": "Unsupported get request.", "code": 100}
                return JSONResponse({"error": error}, status_code=400)
            return JSONResponse({"id": psid, **self.profiles[psid]})

        @app.post("/v21.0/me/messenger_profile")
        async def messenger_profile(request: Request) -> JSONResponse:
            if request.query_params.get("access_token") != PAGE_TOKEN:
                return _bad_token()
            self.messenger_profiles.append(await request.json())
            return JSONResponse(self.profile_answer[1], status_code=self.profile_answer[0])

        return app
