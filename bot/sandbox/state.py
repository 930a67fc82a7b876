"""Everything the sandbox platforms know: simulated users, what the bot sent, reply
tokens, retry keys, the Messenger window, rich menus, narrowcasts, audiences, quota, rate
limits and faults.

Every method is synchronous and holds one lock while it reads or changes the state, so a
check and the change it guards (a reply token spent, a retry key remembered) happen at
once, both between coroutines of one event loop and between threads.
"""

import asyncio
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox import ids
from bot.sandbox.faults import Fault, FaultSwitch
from bot.sandbox.limits import EndpointKind, RateLimit, TokenBucket, default_rate_limits
from bot.sandbox.records import (
    AcceptedRetry,
    CustomerAction,
    NarrowcastRequest,
    RecordedMessage,
    RichMenu,
    SendEndpoint,
    SimulatedUser,
    TranscriptEntry,
    UploadedAudience,
)
from bot.types import Platform
from core.clock import utcnow

Clock = Callable[[], float]
HOUR = 3600.0
DAY = 24 * HOUR


def wall_clock() -> float:
    return utcnow().timestamp()


@dataclass
class SandboxConfig:
    """The sandbox's limits. Values docs/platforms.md marks unconfirmed are settings here."""

    reply_token_ttl_seconds: float = 60.0
    retry_key_ttl_seconds: float = DAY
    messenger_window_seconds: float = DAY
    human_agent_window_seconds: float = 7 * DAY
    # How long a narrowcast stays in each of "waiting" and "sending".
    narrowcast_phase_seconds: float = 1.0
    narrowcast_min_recipients: int = 50
    # LINE's monthly message quota; None is an unlimited plan ({"type": "none"}).
    monthly_quota: int | None = None
    rate_limits: dict[EndpointKind, RateLimit] = field(default_factory=default_rate_limits)
    # How late a "timeout" fault answers: beyond any sensible client timeout.
    fault_timeout_seconds: float = 30.0
    line_bot_user_id: str = "U5a4db0c8e1f34b0f9c3d2e1a7b6c5d40"
    messenger_page_id: str = "104857600000001"
    random_seed: int | None = None


class SandboxState:
    def __init__(self, config: SandboxConfig | None = None, *, clock: Clock = wall_clock) -> None:
        self.config = config or SandboxConfig()
        self.clock = clock
        self._lock = threading.RLock()
        self._waiters: list[asyncio.Future[None]] = []
        self._clear()

    def _clear(self) -> None:
        self._next_id = 1
        self._users: dict[tuple[Platform, str], SimulatedUser] = {}
        self._sent: list[RecordedMessage] = []
        self._sent_by_user: dict[tuple[Platform, str], list[RecordedMessage]] = defaultdict(list)
        self._actions: list[CustomerAction] = []
        self._reply_tokens: dict[str, tuple[str, float]] = {}
        self._retry_keys: dict[str, AcceptedRetry] = {}
        self._messenger_inbound: dict[str, float] = {}
        self._rich_menus: dict[str, RichMenu] = {}
        self.default_rich_menu_id: str | None = None
        self._messenger_profile: dict[str, Any] = {}
        self._narrowcasts: dict[str, NarrowcastRequest] = {}
        self._audiences: dict[int, UploadedAudience] = {}
        self._quota_usage = 0
        self._buckets: dict[EndpointKind, TokenBucket] = {}
        self._faults = FaultSwitch(random.Random(self.config.random_seed))

    def reset(self) -> None:
        """Forget everything but the configuration."""
        with self._lock:
            self._clear()

    def _take_id(self) -> int:
        taken = self._next_id
        self._next_id += 1
        return taken

    # Simulated users

    def register_user(
        self,
        platform: Platform,
        user_id: str | None = None,
        *,
        display_name: str,
        language: str = "zh-TW",
        following: bool | None = None,
    ) -> SimulatedUser:
        """Add (or update) a simulated person; a LINE id or a Messenger PSID is generated
        when none is given."""
        if user_id is None:
            user_id = ids.line_user_id() if platform == "line" else ids.messenger_psid()
        with self._lock:
            user = self._users.get((platform, user_id))
            if user is None:
                user = SimulatedUser(platform, user_id, display_name, language)
                self._users[(platform, user_id)] = user
            user.display_name = display_name
            user.language = language
            if following is not None:
                user.following = following
                user.has_followed = user.has_followed or following
            return user

    def user(self, platform: Platform, user_id: str) -> SimulatedUser | None:
        with self._lock:
            return self._users.get((platform, user_id))

    def users(self, platform: Platform | None = None) -> list[SimulatedUser]:
        with self._lock:
            return [u for u in self._users.values() if platform in (None, u.platform)]

    def set_following(self, user_id: str, following: bool) -> bool:
        """A LINE follow (friend added, or unblocked) or unfollow (blocked). True when the
        user had been a friend before (so a follow is an unblock)."""
        with self._lock:
            user = self._users.get(("line", user_id))
            if user is None:
                return False
            had_followed = user.has_followed
            user.following = following
            user.has_followed = had_followed or following
            return had_followed

    def line_followers(self) -> list[str]:
        with self._lock:
            return [u.user_id for u in self._users.values() if u.platform == "line" and u.following]

    # LINE reply tokens

    def issue_reply_token(self, user_id: str) -> str:
        """A fresh single-use token bound to `user_id`, valid for the configured TTL."""
        token = ids.line_reply_token()
        with self._lock:
            self._reply_tokens[token] = (user_id, self.clock())
        return token

    def consume_reply_token(self, token: str) -> str | None:
        """Spend a token: the user it answers, or None when unknown, spent or expired."""
        with self._lock:
            issued = self._reply_tokens.pop(token, None)
            if issued is None:
                return None
            user_id, issued_at = issued
            if self.clock() - issued_at > self.config.reply_token_ttl_seconds:
                return None
            return user_id

    # LINE retry keys

    def accepted_retry(self, retry_key: str) -> AcceptedRetry | None:
        with self._lock:
            accepted = self._retry_keys.get(retry_key)
            if accepted is None:
                return None
            if self.clock() - accepted.accepted_at > self.config.retry_key_ttl_seconds:
                del self._retry_keys[retry_key]
                return None
            return accepted

    def remember_retry(
        self, retry_key: str, request_id: str, sent_messages: list[dict[str, str]]
    ) -> None:
        with self._lock:
            self._retry_keys[retry_key] = AcceptedRetry(request_id, self.clock(), sent_messages)

    # The Messenger window

    def record_messenger_inbound(self, user_id: str, at: float | None = None) -> None:
        """The person wrote or tapped: the standard 24-hour window opens again."""
        with self._lock:
            self._messenger_inbound[user_id] = self.clock() if at is None else at

    def seconds_since_inbound(self, user_id: str) -> float | None:
        with self._lock:
            last = self._messenger_inbound.get(user_id)
            return None if last is None else self.clock() - last

    # Messages both ways

    def record_sent(
        self,
        *,
        platform: Platform,
        endpoint: SendEndpoint,
        user_ids: Iterable[str],
        messages: list[dict[str, Any]],
        request_id: str,
        messaging_type: str | None = None,
        tag: str | None = None,
        retry_key: str | None = None,
    ) -> list[RecordedMessage]:
        """Record each message for each recipient, as the platform accepted them."""
        new_id = ids.line_message_id if platform == "line" else ids.messenger_mid
        with self._lock:
            now = self.clock()
            recorded = []
            for user_id in user_ids:
                for message in messages:
                    entry = RecordedMessage(
                        id=self._take_id(),
                        platform=platform,
                        endpoint=endpoint,
                        user_id=user_id,
                        message=message,
                        message_id=new_id(),
                        request_id=request_id,
                        sent_at=now,
                        messaging_type=messaging_type,
                        tag=tag,
                        retry_key=retry_key,
                    )
                    self._sent.append(entry)
                    self._sent_by_user[(platform, user_id)].append(entry)
                    recorded.append(entry)
        self._wake_waiters()
        return recorded

    def record_customer_action(
        self,
        platform: Platform,
        user_id: str,
        kind: str,
        *,
        text: str | None = None,
        payload: str | None = None,
    ) -> CustomerAction:
        with self._lock:
            action = CustomerAction(
                self._take_id(), platform, user_id, kind, self.clock(), text, payload
            )
            self._actions.append(action)
            return action

    def messages_for(self, platform: Platform, user_id: str) -> list[RecordedMessage]:
        """What this person received from the bot, oldest first."""
        self.settle_narrowcasts()
        with self._lock:
            return list(self._sent_by_user.get((platform, user_id), ()))

    def all_messages(
        self,
        *,
        platform: Platform | None = None,
        user_id: str | None = None,
        after_id: int = 0,
    ) -> list[RecordedMessage]:
        """Every message the fake APIs accepted, oldest first, optionally filtered."""
        self.settle_narrowcasts()
        with self._lock:
            source = (
                self._sent_by_user.get((platform, user_id), [])
                if platform is not None and user_id is not None
                else self._sent
            )
            return [
                m
                for m in source
                if m.id > after_id
                and platform in (None, m.platform)
                and user_id in (None, m.user_id)
            ]

    def sent_count(self, platform: Platform | None = None) -> int:
        self.settle_narrowcasts()
        with self._lock:
            return sum(1 for m in self._sent if platform in (None, m.platform))

    def transcript(
        self, platform: Platform, user_id: str, after_id: int = 0
    ) -> list[TranscriptEntry]:
        """The conversation both ways, as the simulator shows it."""
        bot: list[TranscriptEntry] = list(
            self.all_messages(platform=platform, user_id=user_id, after_id=after_id)
        )
        with self._lock:
            mine: list[TranscriptEntry] = [
                a
                for a in self._actions
                if a.id > after_id and a.platform == platform and a.user_id == user_id
            ]
        return sorted(bot + mine, key=lambda entry: entry.id)

    async def wait_for_messages(
        self,
        platform: Platform,
        user_id: str,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 (the brief's signature)
    ) -> list[RecordedMessage]:
        """Wait until `user_id` has received at least `count` messages; return them all.
        Raises TimeoutError naming how many arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            received = self.messages_for(platform, user_id)
            if len(received) >= count:
                return received
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"{user_id} on {platform} received {len(received)} of {count} messages"
                )
            waiter: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._waiters.append(waiter)
            # Wake on every record, and poll too: a narrowcast completes by time alone.
            try:
                await asyncio.wait_for(waiter, min(remaining, 0.05))
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)

    def _wake_waiters(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.get_loop().call_soon_threadsafe(_resolve, waiter)

    # LINE rich menus and the Messenger profile

    def create_rich_menu(self, body: dict[str, Any]) -> str:
        rich_menu_id = ids.line_rich_menu_id()
        with self._lock:
            self._rich_menus[rich_menu_id] = RichMenu(rich_menu_id, body)
        return rich_menu_id

    def rich_menu(self, rich_menu_id: str) -> RichMenu | None:
        with self._lock:
            return self._rich_menus.get(rich_menu_id)

    def set_rich_menu_image(self, rich_menu_id: str, image: bytes, content_type: str) -> None:
        with self._lock:
            menu = self._rich_menus[rich_menu_id]
            menu.image, menu.image_type = image, content_type

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        with self._lock:
            self.default_rich_menu_id = rich_menu_id

    def default_rich_menu(self) -> RichMenu | None:
        with self._lock:
            if self.default_rich_menu_id is None:
                return None
            return self._rich_menus.get(self.default_rich_menu_id)

    def update_messenger_profile(self, fields: dict[str, Any]) -> None:
        with self._lock:
            self._messenger_profile.update(fields)

    def messenger_profile(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._messenger_profile)

    # LINE narrowcast

    def start_narrowcast(
        self, recipients: list[str], messages: list[dict[str, Any]], retry_key: str | None
    ) -> NarrowcastRequest:
        """Accept a narrowcast; it delivers after its waiting and sending phases."""
        request = NarrowcastRequest(ids.ulid(), self.clock(), recipients, messages, retry_key)
        if len(recipients) < self.config.narrowcast_min_recipients:
            request.phase = "failed"
            request.error_code = 4
            request.failed_description = "audience is too small"
            request.completed_at = request.accepted_at
        with self._lock:
            self._narrowcasts[request.request_id] = request
        return request

    def narrowcast(self, request_id: str) -> NarrowcastRequest | None:
        self.settle_narrowcasts()
        with self._lock:
            return self._narrowcasts.get(request_id)

    def settle_narrowcasts(self) -> None:
        """Move each narrowcast on by the time passed, delivering those that finish."""
        phase_seconds = self.config.narrowcast_phase_seconds
        with self._lock:
            now = self.clock()
            pending = [r for r in self._narrowcasts.values() if r.phase in ("waiting", "sending")]
            finished = []
            for request in pending:
                elapsed = now - request.accepted_at
                if elapsed >= 2 * phase_seconds:
                    request.phase, request.completed_at = "succeeded", now
                    finished.append(request)
                elif elapsed >= phase_seconds:
                    request.phase = "sending"
        for request in finished:
            self.record_sent(
                platform="line",
                endpoint="narrowcast",
                user_ids=request.recipients,
                messages=request.messages,
                request_id=request.request_id,
                retry_key=request.retry_key,
            )

    # LINE audiences

    def create_audience(self, description: str, user_ids: Iterable[str]) -> UploadedAudience:
        with self._lock:
            audience = UploadedAudience(self._take_id(), description, self.clock(), set(user_ids))
            self._audiences[audience.audience_group_id] = audience
            return audience

    def add_to_audience(self, audience_group_id: int, user_ids: Iterable[str]) -> bool:
        """False when there is no such audience."""
        with self._lock:
            audience = self._audiences.get(audience_group_id)
            if audience is None:
                return False
            audience.user_ids.update(user_ids)
            return True

    def audience(self, audience_group_id: int) -> UploadedAudience | None:
        with self._lock:
            return self._audiences.get(audience_group_id)

    def delete_audience(self, audience_group_id: int) -> bool:
        with self._lock:
            return self._audiences.pop(audience_group_id, None) is not None

    # LINE monthly quota

    def quota_usage(self) -> int:
        with self._lock:
            return self._quota_usage

    def consume_quota(self, recipients: int) -> bool:
        """Count `recipients` against the monthly quota; False (and nothing counted) when
        it would be exceeded."""
        with self._lock:
            limit = self.config.monthly_quota
            if limit is not None and self._quota_usage + recipients > limit:
                return False
            self._quota_usage += recipients
            return True

    # Rate limits and faults

    def take_rate_token(self, endpoint: EndpointKind) -> bool:
        """False when this call is over the endpoint's rate limit."""
        with self._lock:
            limit = self.config.rate_limits.get(endpoint)
            if limit is None:
                return True
            bucket = self._buckets.get(endpoint)
            if bucket is None or bucket.limit != limit:
                bucket = self._buckets[endpoint] = TokenBucket(limit, self.clock())
            return bucket.take(self.clock())

    def set_rate_limit(self, endpoint: EndpointKind, limit: RateLimit | None) -> None:
        """Change (or, with None, lift) one endpoint's limit; its bucket starts full."""
        with self._lock:
            if limit is None:
                self.config.rate_limits.pop(endpoint, None)
            else:
                self.config.rate_limits[endpoint] = limit
            self._buckets.pop(endpoint, None)

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.add(fault)

    def clear_faults(self, endpoint: EndpointKind | None = None) -> None:
        with self._lock:
            self._faults.clear(endpoint)

    def faults(self) -> list[Fault]:
        with self._lock:
            return self._faults.active()

    def take_fault(self, endpoint: EndpointKind) -> Fault | None:
        with self._lock:
            return self._faults.take(endpoint)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
