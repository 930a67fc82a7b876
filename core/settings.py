"""One settings class, read from the environment and `.env` (see .env.example)."""

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # also the default of .env.example
# Settings whose defaults (repeated in .env.example) are public: in production each must
# be replaced, or anyone who read them could sign webhooks or call the platforms as us.
PUBLISHED_SECRETS = (
    "secret_key",
    "line_channel_secret",
    "line_channel_access_token",
    "messenger_app_secret",
    "messenger_verify_token",
    "messenger_page_access_token",
)
MIN_SECRET_KEY_LENGTH = 32
# Where the sandbox serves each platform API, under /sandbox of the app.
SANDBOX_PATHS = {"line_api_base": "line", "line_data_api_base": "line-data",
                 "messenger_api_base": "graph"}


Score = Annotated[int, Field(ge=1, le=5)]


class RfmSegmentRule(BaseModel):
    """One row of the RFM segment table: a member whose r, f and m scores each lie in
    the row's inclusive [lower, upper] range belongs to `name` (see loyalty.rfm)."""

    name: str = Field(min_length=1, max_length=64)
    r: tuple[Score, Score]
    f: tuple[Score, Score]
    m: tuple[Score, Score]

    @model_validator(mode="after")
    def _ranges_in_order(self) -> "RfmSegmentRule":
        for letter in ("r", "f", "m"):
            lower, upper = getattr(self, letter)
            if lower > upper:
                raise ValueError(f"{self.name}: {letter} range {lower}-{upper} is empty")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    secret_key: str = DEV_SECRET_KEY
    database_url: str = "sqlite+aiosqlite:///./punchline.db"
    public_base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Taipei"
    default_locale: Literal["zh-TW", "en"] = "zh-TW"

    brand_name: str = "Punchline Coffee"
    brand_color: str = "#0F766E"

    # Sandbox: serve fake LINE and Messenger APIs plus the chat simulator in this process.
    sandbox: bool = True

    line_channel_secret: str = "sandbox-line-channel-secret"
    line_channel_access_token: str = "sandbox-line-access-token"
    line_api_base: str = "https://api.line.me"
    line_data_api_base: str = "https://api-data.line.me"
    line_liff_id: str = ""
    line_bot_basic_id: str = "@punchline"

    messenger_app_secret: str = "sandbox-messenger-app-secret"
    messenger_page_access_token: str = "sandbox-messenger-page-token"
    messenger_verify_token: str = "sandbox-verify-token"
    messenger_api_base: str = "https://graph.facebook.com/v21.0"
    messenger_page_username: str = "punchline"

    qr_token_ttl_seconds: int = 300
    card_image_token_ttl_seconds: int = 300
    link_code_ttl_seconds: int = 600
    webhook_max_body_bytes: int = 1024 * 1024
    webhook_workers: int = 16

    # Run the scheduler in this process (one leads per deployment; see broadcast.scheduler).
    scheduler_enabled: bool = True
    # How often a standby scheduler tries to take the lead, and the leader checks it holds it.
    scheduler_check_seconds: float = 10.0

    # Digits of the brand currency's minor unit: imported amounts ("120.50") are stored
    # as integers of minor units, like every amount (2: 120.50 is 12050).
    currency_minor_digits: int = Field(default=2, ge=0, le=4)
    # RFM (loyalty.rfm): frequency and spend count the visits of this many days.
    rfm_window_days: int = Field(default=365, ge=1, le=3650)
    # The RFM segment table, in order, a later matching row overriding an earlier one;
    # None: loyalty.rfm.DEFAULT_SEGMENTS (the CRAN rfm package's example table).
    rfm_segments: list[RfmSegmentRule] | None = None
    # RFM frequency scores from fixed visit counts instead of quintiles over distinct
    # values: the fewest visits in the window that score F = 2, 3, 4 and 5, comma-
    # separated (docs/rfm.md). None: quintiles over distinct values.
    rfm_frequency_thresholds: Annotated[tuple[int, int, int, int] | None, NoDecode] = None

    # Production expects PostgreSQL; SQLite (one process, one machine) only when chosen.
    allow_sqlite_in_production: bool = False

    # Proxies (comma-separated addresses or networks, "*" for any) whose
    # X-Forwarded-For / X-Forwarded-Proto name the client. Empty: none, so the address a
    # login limit counts is always the connecting one.
    forwarded_allow_ips: str = ""

    @field_validator("rfm_frequency_thresholds", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",")) if value.strip() else None
        return value

    @field_validator("rfm_frequency_thresholds")
    @classmethod
    def _increasing_from_two(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and not (2 <= value[0] < value[1] < value[2] < value[3]):
            raise ValueError("the fewest visits of F = 2, 3, 4, 5: increasing, from 2 up")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise UnsafeProduction(problems)
        return self

    def uses_sandbox_for(self, base_field: str) -> bool:
        """In sandbox mode an API base left at its real default means the sandbox."""
        return self.sandbox and getattr(self, base_field) == type(self).model_fields[
            base_field].default

    def api_base(self, base_field: str) -> str:
        """Where to reach a platform API from outside the server process (the CLI): the
        running server's mounted sandbox, or the configured base."""
        if self.uses_sandbox_for(base_field):
            return f"{self.public_base_url.rstrip('/')}/sandbox/{SANDBOX_PATHS[base_field]}"
        base: str = getattr(self, base_field)
        return base.rstrip("/")


class UnsafeProduction(ValueError):
    """Production settings that must not start, one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class SettingsError(Exception):
    """Settings that cannot be used, one line per problem, ready to print."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def production_problems(settings: Settings) -> list[str]:
    """What keeps `settings` from running in production, one sentence each."""
    problems = [
        f"{name.upper()} is the public placeholder of .env.example (or empty): set your own"
        for name in PUBLISHED_SECRETS
        if getattr(settings, name) in ("", Settings.model_fields[name].default)
    ]
    if settings.secret_key not in ("", DEV_SECRET_KEY) and (
        len(settings.secret_key) < MIN_SECRET_KEY_LENGTH
    ):
        problems.append(f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters")
    if settings.sandbox:
        problems.append("SANDBOX must be false in production")
    if not settings.public_base_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be an https:// address in production")
    if async_url(settings.database_url).startswith("sqlite") and not (
        settings.allow_sqlite_in_production
    ):
        problems.append("DATABASE_URL is SQLite: use PostgreSQL in production, or set "
                        "ALLOW_SQLITE_IN_PRODUCTION=true to run one process on SQLite")
    return problems


def _problem_lines(error: ValidationError) -> list[str]:
    lines = []
    for detail in error.errors():
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, UnsafeProduction):
            lines.extend(cause.problems)
        else:
            name = ".".join(str(part) for part in detail["loc"]).upper() or "settings"
            lines.append(f"{name}: {detail['msg']}")
    return lines


def load_settings() -> Settings:
    """The settings from the environment and .env; SettingsError lists what is wrong."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_problem_lines(error)) from None


def async_url(url: str) -> str:
    """Accept the usual spellings and pick the async driver for each database."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


@lru_cache
def get_settings() -> Settings:
    return load_settings()
