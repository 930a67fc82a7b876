"""The staff page's guessing limits: passwords, and short codes typed by hand.

Each is counted per account (or username) and per address, so neither one busy attacker
address nor many addresses aimed at one account get far.
"""

from dataclasses import dataclass, field

from handlers.ratelimit import RateLimiter, TooManyAttempts

LOGIN_WINDOW_SECONDS = 15 * 60
SHORT_CODE_WINDOW_SECONDS = 60


@dataclass(slots=True)
class StaffLimits:
    # A shop's staff may share one address, so the address limit is the looser one.
    login_per_account: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=8, window_seconds=LOGIN_WINDOW_SECONDS)
    )
    login_per_address: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=30, window_seconds=LOGIN_WINDOW_SECONDS)
    )
    # A barista types a code when a camera fails, a few a minute at most.
    code_per_account: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=15, window_seconds=SHORT_CODE_WINDOW_SECONDS)
    )
    code_per_address: RateLimiter = field(
        default_factory=lambda: RateLimiter(limit=40, window_seconds=SHORT_CODE_WINDOW_SECONDS)
    )

    def check_login(self, *, username: str, address: str, locale: str) -> None:
        """Counted before the password is checked, so a flood costs no argon2 work."""
        account_ok = self.login_per_account.hit(username.strip().lower())
        address_ok = self.login_per_address.hit(address)
        if not (account_ok and address_ok):
            raise TooManyAttempts(locale)

    def check_short_code(self, *, staff_id: int, address: str, locale: str) -> None:
        account_ok = self.code_per_account.hit(str(staff_id))
        address_ok = self.code_per_address.hit(address)
        if not (account_ok and address_ok):
            raise TooManyAttempts(locale)
