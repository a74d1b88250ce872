"""The one settings object: environment variables `XINDAI_*`, SQLite by default.

    XINDAI_DATABASE_URL   SQLAlchemy URL; default sqlite:///<data_dir>/xindai.db
    XINDAI_DATA_DIR       where local files live; default the user data directory
                          (e.g. ~/.local/share/xindai)
    XINDAI_ECHO_SQL       log every SQL statement (true/false)
    XINDAI_PII_KEY        base64 of 32 bytes: encryption of personal data at rest
    XINDAI_SECRET_KEY     base64 of ≥ 32 bytes: keyed hashes (lookups, SMS codes, tokens)
    XINDAI_PROVIDERS_URL  base URL of the external services (default: the local simulators)
    XINDAI_PROVIDER_SECRET  shared secret of signed provider callbacks
    XINDAI_PUBLIC_URL     this platform's base URL, for provider callbacks
    XINDAI_PAYMENTS_RESOLVE_AFTER_MINUTES  ask the channel about requests without a result
                          after this long (default 10)
    XINDAI_WITHHOLD_DAILY_UNTIL_DPD, XINDAI_WITHHOLD_THEN_EVERY_DAYS  automatic withholding
                          (代扣) every day until a loan is 7 days past due, then every 7th
                          day (defaults; see origination.withholding)
    XINDAI_TRUSTED_PROXIES  reverse proxies (IPs / CIDRs, comma-separated) whose
                          X-Forwarded-For / -Proto `serve` believes; default none

Empty keys fall back to fixed development keys (`dev_key`), and the provider secret to the
simulators' published one, never for production: `xindai serve` refuses them
(`development_defaults`) on anything but loopback.

`get_settings()` reads the environment once and caches it; tests replace the result with
`override_settings(...)`, or call `reset_settings()` to re-read the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "xindai"
DATABASE_FILENAME = "xindai.db"
SIMULATOR_PROVIDER_SECRET = "xindai-simulator-secret"  # published: the simulators' default


def default_data_dir() -> Path:
    """The per-user data directory of the platform, e.g. ~/.local/share/xindai on Linux."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite database file at `path` (made absolute)."""
    return f"sqlite:///{path.expanduser().resolve().as_posix()}"


class Settings(BaseSettings):
    """Platform configuration; every field can be set by the env var `XINDAI_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="XINDAI_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir)
    # empty means the SQLite file xindai.db in data_dir
    database_url: str = ""
    echo_sql: bool = False
    pii_key: str = ""
    secret_key: str = ""
    providers_url: str = "http://127.0.0.1:8700"
    provider_secret: str = SIMULATOR_PROVIDER_SECRET
    public_url: str = "http://127.0.0.1:8000"
    trusted_proxies: str = ""  # IPs / CIDRs whose forwarded headers `serve` trusts
    lender_name: str = "信贷示范小额贷款有限公司 Xindai Demo Microcredit Co."
    strategy_name: str = "origination"  # the decision strategy every application runs
    bureau_cache_days: int = 30  # a person's credit report is reused this long
    review_sla_minutes: int = 120  # manual review must decide within this
    # a payout, collection, refund or card check without a result this long is asked about
    payments_resolve_after_minutes: int = 10
    credit_line_days: int = 180  # a pre-granted credit line lasts this long
    # automatic withholding (代扣) at close of business: every day until a loan is this many
    # days past due, from then on only every `withhold_then_every_days` days (DPD 14, 21 …)
    withhold_daily_until_dpd: int = Field(default=7, ge=0)
    withhold_then_every_days: int = Field(default=7, ge=1)  # 1: every day, however late
    scorecard_model: str = ""  # a model file from `xindai scorecard fit` (default: the shipped one)
    blocked_regions: str = ""  # province codes (ID digits 1-2) not served, comma-separated

    def key_bytes(self, name: str) -> bytes:
        """The configured key `name` ("pii" or "secret") as bytes, or its development key."""
        import base64
        import hashlib

        text = self.pii_key if name == "pii" else self.secret_key
        if not text:
            return dev_key(name)
        raw = base64.b64decode(text)
        if len(raw) < 32:
            raise ValueError(f"XINDAI_{name.upper()}_KEY must be at least 32 bytes")
        return raw if name != "pii" else hashlib.sha256(raw).digest() if len(raw) != 32 else raw

    @property
    def uses_dev_keys(self) -> bool:
        return not (self.pii_key and self.secret_key)

    def development_defaults(self) -> list[str]:
        """The env vars of the secrets still at a public development value: an empty or
        development PII or token key, an empty or the simulators' provider secret."""
        found = [
            f"XINDAI_{name.upper()}_KEY"
            for name in ("pii", "secret")
            if not (self.pii_key if name == "pii" else self.secret_key)
            or self.key_bytes(name) == dev_key(name)
        ]
        if self.provider_secret.strip() in ("", SIMULATOR_PROVIDER_SECRET):
            found.append("XINDAI_PROVIDER_SECRET")
        return found

    @model_validator(mode="after")
    def _default_database_in_data_dir(self) -> Settings:
        if not self.database_url:
            # frozen model: the validator is the one place that may fill the default in
            object.__setattr__(self, "database_url", sqlite_url(self.data_dir / DATABASE_FILENAME))
        return self


def dev_key(name: str) -> bytes:
    """A fixed development key: public, so never for real data."""
    import hashlib

    return hashlib.sha256(f"xindai-development-only-{name}".encode()).digest()


_override: Settings | None = None


@lru_cache(maxsize=1)
def _settings_from_environment() -> Settings:
    return Settings()


def get_settings() -> Settings:
    """The process's settings: the active override if any, else the environment (cached)."""
    if _override is not None:
        return _override
    return _settings_from_environment()


def reset_settings() -> None:
    """Forget the cached settings so that the next `get_settings()` re-reads the environment."""
    _settings_from_environment.cache_clear()


@contextmanager
def override_settings(settings: Settings | None = None, **values: Any) -> Iterator[Settings]:
    """Make `get_settings()` return `settings` (or `Settings(**values)`) inside the block."""
    global _override
    previous = _override
    _override = settings if settings is not None else Settings(**values)
    try:
        yield _override
    finally:
        _override = previous
