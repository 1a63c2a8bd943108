"""Steward's settings: one typed object read from ``STEWARD_*`` environment variables.

Every process (app, worker, scoring service, CLI) builds its settings here, so
they agree on where the database, data folder and artifacts live.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from steward.core.errors import ConfigurationError

DEFAULT_SECRET_KEY = "steward-insecure-default-secret-change-me"  # noqa: S105 - a known value production refuses
OWASP_SCRYPT_N = 2**17
# The cookie_secret of .streamlit/secrets.toml.example; a copy left unchanged signs cookies anyone can forge.
COOKIE_SECRET_PLACEHOLDER = "REPLACE-WITH-A-LONG-RANDOM-STRING"  # noqa: S105 - a known value production refuses
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Runtime configuration. Field names map to ``STEWARD_<NAME>`` variables."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", extra="ignore", frozen=True)

    data_dir: Path = Path(".steward")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to an SQLite file in the data folder."
    )
    artifact_root: Path | None = Field(default=None, description="Defaults to <data_dir>/artifacts.")
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    production: bool = False

    app_port: Annotated[int, Field(ge=1, le=65535)] = 8501
    app_address: str = "localhost"
    scoring_port: Annotated[int, Field(ge=1, le=65535)] = 8600
    scoring_address: str = "127.0.0.1"
    # The API key load tests present to the scoring service (one scoped to the environments tested).
    loadtest_api_key: SecretStr | None = None

    # Sessions Steward controls (the Streamlit cookie alone cannot be revoked).
    session_idle_minutes: Annotated[int, Field(ge=1)] = 30
    session_absolute_hours: Annotated[int, Field(ge=1)] = 12

    # Password hashing: scrypt at OWASP's parameters; tests lower N for speed.
    scrypt_n: Annotated[int, Field(ge=2**10)] = OWASP_SCRYPT_N

    # Failed sign-ins: free attempts before each further one must wait, doubling up to the cap.
    # Per account, and more per source: many people may sign in from one address (an office's NAT).
    login_free_attempts: Annotated[int, Field(ge=1)] = 3
    login_source_free_attempts: Annotated[int, Field(ge=1)] = 20
    login_max_delay_seconds: Annotated[int, Field(ge=1)] = 900

    # Databases pipelines may train from with a SQL query: {"name": "sqlalchemy-url"}.
    source_databases: dict[str, str] = Field(default_factory=dict)
    max_upload_bytes: Annotated[int, Field(ge=1)] = 1024**3

    # Single sign-on: which ID-token claims carry the groups and the user name.
    sso_groups_claim: str = "groups"
    sso_username_claims: tuple[str, ...] = ("preferred_username", "email", "sub")
    # A first SSO sign-in with the verified e-mail of an existing account uses it (docs/security.md).
    sso_link_verified_email: bool = True

    # The worker: how often it checkpoints the audit chain and looks for monitors that are due.
    checkpoint_every_minutes: Annotated[int, Field(ge=1)] = 60
    monitor_check_minutes: Annotated[int, Field(ge=1)] = 15

    # Heartbeats and probes: every process beats every `heartbeat_seconds`; one silent for longer than
    # `heartbeat_timeout_seconds` (or three of its own intervals, if longer) is lost. The worker records
    # probes every `infra_check_seconds` and keeps per-minute history for `infra_history_hours`.
    heartbeat_seconds: Annotated[float, Field(gt=0)] = 5.0
    heartbeat_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    infra_check_seconds: Annotated[int, Field(ge=1)] = 30
    infra_history_hours: Annotated[int, Field(ge=1)] = 24
    job_run_retention_days: Annotated[int, Field(ge=1)] = 30

    # One worker leads (a lease in the database); a leader silent for this long is replaced.
    worker_lease_seconds: Annotated[float, Field(gt=0)] = 30.0
    # Prometheus text on http://<address>:<port>/metrics from the worker; off unless a port is set.
    worker_metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    worker_metrics_address: str = "127.0.0.1"

    checkpoint_dir: Path | None = Field(
        default=None,
        description="Where audit checkpoints go; outside the database. Defaults to <data_dir>/checkpoints.",
    )
    # The audit chain's keys, kept outside the database: a keyring JSON document in this variable, or
    # else the key file (generated with a random key on first use). See docs/security.md.
    audit_keys: SecretStr | None = None
    audit_key_file: Path | None = Field(default=None, description="Defaults to <data_dir>/audit-keys.json.")
    # Every signed checkpoint is also appended to this JSON-lines file (opened O_APPEND); off when unset.
    audit_sink: Path | None = None

    @field_validator("scrypt_n")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError("scrypt_n must be a power of two")
        return value

    @field_validator("heartbeat_timeout_seconds")
    @classmethod
    def _timeout_outlasts_interval(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("heartbeat_seconds")
        if interval is not None and value < 2 * interval:
            raise ValueError(
                f"must be at least twice STEWARD_HEARTBEAT_SECONDS ({value:g} < 2 x {interval:g})"
            )
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'steward.db').resolve()}"

    @property
    def resolved_artifact_root(self) -> Path:
        return self.artifact_root or self.data_dir / "artifacts"

    @property
    def resolved_checkpoint_dir(self) -> Path:
        return self.checkpoint_dir or self.data_dir / "checkpoints"

    @property
    def resolved_audit_key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "audit-keys.json"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def problems_for_production(self) -> list[str]:
        """What makes these settings unfit for production; empty when fit."""
        problems = []
        if self.secret_key.get_secret_value() == DEFAULT_SECRET_KEY:
            problems.append("STEWARD_SECRET_KEY is the default; set a long random value")
        elif len(self.secret_key.get_secret_value()) < MIN_SECRET_LENGTH:
            problems.append(f"STEWARD_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters")
        if self.scrypt_n < OWASP_SCRYPT_N:
            problems.append(f"STEWARD_SCRYPT_N is below OWASP's minimum {OWASP_SCRYPT_N}")
        return problems


def _example_placeholder(example: Path) -> str | None:
    try:
        value = tomllib.loads(example.read_text(encoding="utf-8")).get("auth", {}).get("cookie_secret")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def streamlit_secrets_problems(start_dir: Path) -> list[str]:
    """What makes the login cookie's signing key unfit for production; empty when fit or when SSO is off.

    Streamlit reads ``.streamlit/secrets.toml`` from the folder it is started
    in. Its ``[auth] cookie_secret`` signs the login cookie: a missing, short
    or published value lets anyone forge a sign-in. Without an ``[auth]``
    section there is no SSO and nothing to check.
    """
    folder = start_dir / ".streamlit"
    path = folder / "secrets.toml"
    shown = ".streamlit/secrets.toml"
    if not path.is_file():
        return []
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{shown} cannot be read ({exc.__class__.__name__})"]
    except tomllib.TOMLDecodeError as exc:
        return [f"{shown} is not valid TOML ({str(exc).splitlines()[0]})"]
    auth = secrets.get("auth")
    if auth is None:
        return []
    if not isinstance(auth, dict):
        return [f"{shown}: auth must be a [auth] section"]
    secret = auth.get("cookie_secret")
    where = f"{shown} [auth] cookie_secret"
    if secret is None:
        return [f"{where} is missing; set a long random value"]
    if not isinstance(secret, str) or not secret.strip():
        return [f"{where} is empty; set a long random value"]
    placeholders = {COOKIE_SECRET_PLACEHOLDER, _example_placeholder(folder / "secrets.toml.example")}
    if secret.strip() in placeholders:
        return [f"{where} is still the placeholder from secrets.toml.example; set a long random value"]
    if len(secret) < MIN_SECRET_LENGTH:
        return [f"{where} is shorter than {MIN_SECRET_LENGTH} characters"]
    return []


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value is a one-line ConfigurationError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "settings"
        raise ConfigurationError(f"setting STEWARD_{field.upper()}: {first['msg']}") from None


def ensure_writable_dir(path: Path, what: str) -> Path:
    """Create ``path`` if needed and prove it is writable, or say which folder is the problem."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"{what} {path} cannot be created: {exc.strerror}") from None
    if not path.is_dir():
        raise ConfigurationError(f"{what} {path} is not a folder")
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigurationError(f"{what} {path} is not writable")
    return path
