"""Every knob of hotstar-sync, in one Settings class read from the environment and `.env`.

`load_settings()` turns pydantic's validation errors into one `ConfigError` line that names
the environment variable (never its value: it may be a secret).
"""

from __future__ import annotations

import binascii
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
import structlog
from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotstar_sync.errors import ConfigError

#: Credentials of the built-in simulator. They are accepted only when the API base URL is
#: on this machine, so a real deployment can never run on them by accident.
DEMO_PARTNER_ID = "hotstar-sync-demo"
DEMO_AKAMAI_SECRET = "64656d6f2d7365637265742d6e6f742d666f722d70726f64"

DEFAULT_API_BASE_URL = "http://127.0.0.1:8765"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

ENV_PREFIX = "HOTSTAR_"

log = structlog.get_logger(__name__)


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hotstar-sync", appauthor=False))


class Settings(BaseSettings):
    """hotstar-sync's settings; each field is read from `HOTSTAR_<FIELD>` unless aliased."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        # "inf" is a float to Python, and a crash (or no rate limit) far from its variable.
        allow_inf_nan=False,
    )

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="PostgreSQL URL of the source database; unset: an embedded server.",
    )
    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL,
        description="Base URL of the partner API (the local simulator by default).",
    )
    partner_id: str | None = Field(default=None, description="Partner id of every request.")
    akamai_secret: SecretStr | None = Field(
        default=None, description="EdgeAuth secret, a hex string."
    )
    akamai_secret_file: Path | None = Field(
        default=None, description="A file holding the EdgeAuth secret, instead of the variable."
    )
    rate_limit_rps: float = Field(default=1.0, ge=0, description="Requests per second; 0: off.")
    token_window_seconds: int = Field(default=2000, gt=0, description="Lifetime of a token.")
    circuit_breaker_seconds: float = Field(
        default=60.0, ge=0, description="Wait after a 5xx or a slow response."
    )
    slow_response_seconds: float = Field(
        default=5.0, gt=0, description="A response slower than this trips the breaker."
    )
    request_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Timeout of one request, its whole answer included."
    )
    max_retries: int = Field(
        default=5, ge=0, description="Retries of one request before the run fails."
    )
    page_size: int = Field(default=1000, ge=1, le=1000, description="Items per request.")
    max_body_mb: float = Field(
        default=64,
        gt=0,
        description="The largest answer taken, decoded (a page of 1,000 items is ~2.5 MB).",
    )
    country_code: str = Field(default="in", min_length=1)
    platform_code: str = Field(default="ANDROID", min_length=1)
    region_code: str = Field(default="DL", min_length=1)
    client_code: str = Field(default="pt", min_length=1)
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Where the embedded PostgreSQL keeps its data.",
    )
    lookback_seconds: int = Field(default=3600, ge=0)
    delete_guard_fraction: float = Field(default=0.02, ge=0, le=1)
    reconcile_every_days: float = Field(default=7, ge=0)
    #: `health` warns when no run has checked a type's deletions for this long (a daily
    #: sync defers its count probe while the index is still settling).
    deletions_unchecked_days: float = Field(default=3, ge=0)
    sync_cron: str = Field(default="0 2 * * *", min_length=1)
    timezone: str = Field(default="Asia/Kolkata", min_length=1)
    alert_urls: str = Field(default="", description="Apprise URLs, separated by spaces.")

    @field_validator("akamai_secret", "akamai_secret_file", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `HOTSTAR_AKAMAI_SECRET=` (say, `${SECRET:-}` in a compose file) must not sign every
        # token with an empty key and hide HOTSTAR_AKAMAI_SECRET_FILE.
        return None if isinstance(value, str) and not value.strip() else value

    def __repr_args__(self) -> Any:
        # The settings show up in tracebacks and debuggers: never with the database password.
        for name, value in super().__repr_args__():
            yield name, _without_password(value) if name == "database_url" else value

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL")
        return value

    @property
    def api_is_local(self) -> bool:
        """True when the API base URL points at this machine (the simulator)."""
        return urlsplit(self.api_base_url).hostname in LOCAL_HOSTS

    def resolved_partner_id(self) -> str:
        if self.partner_id:
            return self.partner_id
        if self.api_is_local:
            return DEMO_PARTNER_ID
        raise ConfigError(
            f"HOTSTAR_PARTNER_ID is not set (required for {self.api_base_url})",
            hint="set it to the partner id Hotstar gave you",
        )

    def resolved_secret(self) -> bytes:
        """The EdgeAuth key as bytes; the secret itself is never put in a message."""
        if self.akamai_secret is not None and self.akamai_secret_file is not None:
            raise ConfigError(
                "HOTSTAR_AKAMAI_SECRET and HOTSTAR_AKAMAI_SECRET_FILE are both set: "
                "which secret is meant?",
                hint="unset one of them",
            )
        if self.akamai_secret is not None:
            text, name = self.akamai_secret.get_secret_value(), "HOTSTAR_AKAMAI_SECRET"
        elif self.akamai_secret_file is not None:
            name = "HOTSTAR_AKAMAI_SECRET_FILE"
            try:
                text = self.akamai_secret_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{name}: cannot read the file ({exc.strerror})") from None
        elif self.api_is_local:
            text, name = DEMO_AKAMAI_SECRET, "HOTSTAR_AKAMAI_SECRET"
        else:
            raise ConfigError(
                f"HOTSTAR_AKAMAI_SECRET is not set (required for {self.api_base_url})",
                hint="set it, or HOTSTAR_AKAMAI_SECRET_FILE, to the partner's EdgeAuth key",
            )
        try:
            return binascii.unhexlify(text.strip())
        except (binascii.Error, ValueError):
            raise ConfigError(f"{name}: the secret must be a hex string") from None

    @property
    def alert_url_list(self) -> list[str]:
        return self.alert_urls.split()


def _without_password(url: Any) -> Any:
    """`url` with its password, if any (before the host or as `?password=`), as ***."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}")
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return parts._replace(query=query).geturl()


def _variable_name(loc: str) -> str:
    """The environment variable behind an error's location (a field name or an alias)."""
    info = Settings.model_fields.get(loc)
    if info is None:
        return loc  # already the alias, e.g. DATABASE_URL
    if isinstance(info.validation_alias, str):
        return info.validation_alias
    return ENV_PREFIX + loc.upper()


#: Variables of ours that are not settings: the test suite's.
_NOT_SETTINGS = ("HOTSTAR_TEST_", "HOTSTAR_KEEP_")
#: What Kubernetes puts in every pod's environment for a Service named hotstar-sync.
_KUBERNETES = re.compile(r"_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT(_\d+_(TCP|UDP|SCTP)\w*)?)$")
_warned: set[str] = set()


def unknown_variables(names: Iterable[str]) -> list[str]:
    """HOTSTAR_* names no setting reads (in any case, as the settings are read): a
    misspelt one is otherwise silently ignored."""
    known = {_variable_name(name).upper() for name in Settings.model_fields}
    return sorted(
        name
        for name in names
        if name.upper().startswith(ENV_PREFIX)
        and name.upper() not in known
        and not name.upper().startswith(_NOT_SETTINGS)
        and not _KUBERNETES.search(name.upper())
    )


def _warn_unknown() -> None:
    """Name each unknown variable of the environment and of `.env`, once per process."""
    names = list(os.environ)
    dotenv = Path(".env")
    if dotenv.is_file():
        names += [name for name in dotenv_values(dotenv) if name]
    for name in unknown_variables(names):
        if name not in _warned:
            _warned.add(name)
            log.warning("unknown setting ignored: no such variable", variable=name)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad one raises `ConfigError` naming its variable."""
    _warn_unknown()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = first["loc"][0] if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{_variable_name(str(loc))}: {message}") from None
