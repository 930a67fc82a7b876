"""One settings class, read from the environment and `.env` (see .env.example)."""

from functools import lru_cache
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
# Where the sandbox serves each platform API, under /sandbox of the app.
SANDBOX_PATHS = {"line_api_base": "line", "line_data_api_base": "line-data",
                 "messenger_api_base": "graph"}


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

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be set to at least 32 random characters")
            if self.sandbox:
                raise ValueError("SANDBOX must be false in production")
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
        return getattr(self, base_field).rstrip("/")


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
    return Settings()
