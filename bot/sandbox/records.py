"""What the sandbox remembers: simulated users, messages both ways, narrowcast requests,
audiences."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from bot.types import Platform

# How a message reached the member: the LINE endpoint that took it, or Messenger's "send".
SendEndpoint = Literal["reply", "push", "multicast", "narrowcast", "broadcast", "send"]
NarrowcastPhase = Literal["waiting", "sending", "succeeded", "failed"]


def as_datetime(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)


def iso_millis(epoch_seconds: float) -> str:
    """LINE's timestamp format: 2020-12-03T10:15:30.121Z."""
    return as_datetime(epoch_seconds).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(slots=True)
class SimulatedUser:
    platform: Platform
    user_id: str
    display_name: str
    language: str = "zh-TW"
    # LINE: a friend of the account (follow) or not (never added, or blocked).
    following: bool = False
    # Was a friend once: a follow now is an unblock (LINE's follow.isUnblocked).
    has_followed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "user_id": self.user_id,
            "display_name": self.display_name,
            "language": self.language,
            "following": self.following,
        }


@dataclass(slots=True)
class RecordedMessage:
    """One message object one recipient received from the bot through a fake API."""

    id: int
    platform: Platform
    endpoint: SendEndpoint
    user_id: str
    message: dict[str, Any]
    message_id: str
    request_id: str
    sent_at: float
    messaging_type: str | None = None
    tag: str | None = None
    retry_key: str | None = None
    direction: Literal["bot"] = "bot"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "platform": self.platform,
            "endpoint": self.endpoint,
            "user_id": self.user_id,
            "message": self.message,
            "message_id": self.message_id,
            "request_id": self.request_id,
            "messaging_type": self.messaging_type,
            "tag": self.tag,
            "retry_key": self.retry_key,
            "sent_at": as_datetime(self.sent_at).isoformat(),
        }


@dataclass(slots=True)
class CustomerAction:
    """What the simulated customer did (typed, tapped, followed), for the transcript."""

    id: int
    platform: Platform
    user_id: str
    kind: str  # text, postback, tap, follow, unfollow, get_started, referral
    sent_at: float
    text: str | None = None
    payload: str | None = None
    direction: Literal["user"] = "user"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "direction": self.direction,
            "platform": self.platform,
            "user_id": self.user_id,
            "kind": self.kind,
            "text": self.text,
            "payload": self.payload,
            "sent_at": as_datetime(self.sent_at).isoformat(),
        }


TranscriptEntry = RecordedMessage | CustomerAction


@dataclass(slots=True)
class AcceptedRetry:
    """A retry key LINE accepted, remembered so a retry answers 409."""

    request_id: str
    accepted_at: float
    sent_messages: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class NarrowcastRequest:
    request_id: str
    accepted_at: float
    recipients: list[str]
    messages: list[dict[str, Any]]
    retry_key: str | None
    phase: NarrowcastPhase = "waiting"
    error_code: int | None = None
    failed_description: str | None = None
    completed_at: float | None = None

    def progress_json(self) -> dict[str, Any]:
        """The body of GET /v2/bot/message/progress/narrowcast."""
        body: dict[str, Any] = {"phase": self.phase, "acceptedTime": iso_millis(self.accepted_at)}
        if self.phase == "succeeded":
            body.update(
                successCount=len(self.recipients),
                failureCount=0,
                targetCount=len(self.recipients),
            )
        if self.phase == "failed":
            body.update(errorCode=self.error_code, failedDescription=self.failed_description)
        if self.completed_at is not None:
            body["completedTime"] = iso_millis(self.completed_at)
        return body


@dataclass(slots=True)
class RichMenu:
    rich_menu_id: str
    body: dict[str, Any]
    image: bytes | None = None
    image_type: str | None = None


@dataclass(slots=True)
class UploadedAudience:
    """A LINE audience for uploading user ids (by JSON)."""

    audience_group_id: int
    description: str
    created_at: float
    user_ids: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """audienceGroup in GET /v2/bot/audienceGroup/{audienceGroupId}."""
        return {
            "audienceGroupId": self.audience_group_id,
            "type": "UPLOAD",
            "description": self.description,
            "status": "READY",
            "audienceCount": len(self.user_ids),
            "created": int(self.created_at),
            "isIfaAudience": False,
            "permission": "READ_WRITE",
            "createRoute": "MESSAGING_API",
        }
