"""The staff page's guessing limits: passwords (the policy is loyalty.login_throttle),
and short codes typed by hand, counted per account and per address.
"""

from dataclasses import dataclass, field

from handlers.ratelimit import RateLimiter, TooManyAttempts
from loyalty.login_throttle import LoginThrottle

SHORT_CODE_WINDOW_SECONDS = 60


@dataclass(slots=True)
class StaffLimits:
    login: LoginThrottle = field(default_factory=LoginThrottle)
    # A barista types a code when a camera fails, a few a minute at most.
    code_per_account: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=15, window_seconds=SHORT_CODE_WINDOW_SECONDS)
    )
    code_per_address: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=40, window_seconds=SHORT_CODE_WINDOW_SECONDS)
    )

    def check_login(self, *, username: str, address: str, locale: str) -> None:
        """Asked before the password is checked, so a flood costs no argon2 work; the
        attempt counts as a failure until `login_succeeded`."""
        if self.login.attempt(username=username, address=address):
            raise TooManyAttempts(locale)

    def login_succeeded(self, *, username: str, address: str) -> None:
        self.login.succeeded(username=username, address=address)

    def check_short_code(self, *, staff_id: int, address: str, locale: str) -> None:
        account_ok = self.code_per_account.hit(str(staff_id))
        address_ok = self.code_per_address.hit(address)
        if not (account_ok and address_ok):
            raise TooManyAttempts(locale)
