"""Process-wide settings, read from ``NEXUS_*`` environment variables.

Settings are an ordinary value: build one (``Settings()`` reads the
environment) and pass it to what needs it. Nothing in Nexus reads a global.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from nexus.config._logging import LOG_FORMATS, LOG_LEVELS
from nexus.errors import ConfigError

__all__ = ["Settings"]

_SCHEMES = ("duckdb://", "postgresql://", "postgres://")


class Settings(BaseSettings):
    """Where Nexus keeps its data and how it reaches its services.

    Parameters
    ----------
    home : Path
        ``NEXUS_HOME``; the folder for the embedded store, staging and models.
        Default ``./.nexus``.
    store_url : str, optional
        ``NEXUS_STORE_URL``; ``duckdb:///path/file.duckdb`` or
        ``postgresql://user@host:port/db``. Default: a DuckDB file
        ``nexus.duckdb`` under ``home``.
    model_slots : tuple of str
        ``NEXUS_MODEL_SLOTS`` (comma-separated); the model slots the registry
        always lists, champion or not. Default ``lstm,transformer`` (the two
        models of the dual-confirmation decision). Training may add any other.
    bus_url : str, optional
        ``NEXUS_BUS_URL``; ``redis://host:6379/0`` to run ingestors, the live
        engine and the API as separate processes (``rediss://`` and
        ``unix:///path.sock`` too). Default: the in-process bus.
    bus_prefix : str
        ``NEXUS_BUS_PREFIX``; the Redis channel prefix, so several deployments
        (or test runs) can share one Redis. Default ``nexus``.
    api_keys : tuple of str
        ``NEXUS_API_KEYS`` (comma-separated); the keys that may promote, roll
        back and retrain through the API (``X-API-Key``). None: those endpoints
        answer 403.
    cors_origins : tuple of str
        ``NEXUS_CORS_ORIGINS`` (comma-separated); origins allowed to call the
        API from a browser. Default: none (same origin only).
    fred_api_key : str, optional
        ``NEXUS_FRED_API_KEY``; the key of the FRED source (free from the St.
        Louis Fed).
    newsapi_key : str, optional
        ``NEXUS_NEWSAPI_KEY``; the key of the NewsAPI-style source, sent as
        ``X-Api-Key``.
    sentiment_model : Path, optional
        ``NEXUS_SENTIMENT_MODEL``; a local folder with a Hugging Face sequence
        classification model (FinBERT-style) and its tokenizer. Nothing is
        downloaded. Default: the offline finance lexicon scorer.
    log_level : str
        ``NEXUS_LOG_LEVEL``; the level of Nexus's own loggers: ``DEBUG``,
        ``INFO``, ``WARNING``, ``ERROR`` or ``CRITICAL``. Default ``INFO``.
    log_format : str
        ``NEXUS_LOG_FORMAT``; ``text`` (for people, on standard error) or
        ``json`` (one JSON object per line, for a log collector). Default ``text``.
    alert_webhook_url : str, optional
        ``NEXUS_ALERT_WEBHOOK_URL``; an ``http(s)://`` URL that receives every
        alert as a JSON POST (see ``nexus.monitoring.WebhookSink``). Often
        carries a token, so it is kept out of ``repr``. Default: no webhook
        (alerts still go to the log).
    alert_webhook_timeout : float
        ``NEXUS_ALERT_WEBHOOK_TIMEOUT``; seconds allowed for each attempt's
        connect, send and read. Default ``5``.
    alert_webhook_retries : int
        ``NEXUS_ALERT_WEBHOOK_RETRIES``; retries after the first attempt when
        the receiver times out, cannot be reached or answers 5xx or 429.
        Default ``3``.

    Examples
    --------
    >>> s = Settings(home="/tmp/nx")
    >>> s.resolved_store_url
    'duckdb:///tmp/nx/nexus.duckdb'
    >>> Settings(home="/tmp/nx", store_url="postgresql://localhost/nexus").store_backend
    'postgres'
    >>> Settings(model_slots="lstm, lightgbm").model_slots
    ('lstm', 'lightgbm')
    """

    model_config = SettingsConfigDict(env_prefix="NEXUS_", extra="ignore", frozen=True)

    home: Path = Field(default=Path(".nexus"))
    store_url: str | None = None
    model_slots: Annotated[tuple[str, ...], NoDecode] = ("lstm", "transformer")
    bus_url: str | None = None
    bus_prefix: str = Field(default="nexus", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    fred_api_key: str | None = Field(default=None, repr=False)
    newsapi_key: str | None = Field(default=None, repr=False)
    sentiment_model: Path | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    alert_webhook_url: str | None = Field(default=None, repr=False)
    alert_webhook_timeout: float = Field(default=5.0, gt=0)
    alert_webhook_retries: int = Field(default=3, ge=0)

    @field_validator("model_slots", "api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_slots(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ConfigError(
                f"NEXUS_LOG_LEVEL {value!r} is not a log level",
                fix=f"use one of {', '.join(LOG_LEVELS)}",
            )
        return level

    @field_validator("log_format")
    @classmethod
    def _check_log_format(cls, value: str) -> str:
        fmt = str(value).strip().lower()
        if fmt not in LOG_FORMATS:
            raise ConfigError(
                f"NEXUS_LOG_FORMAT {value!r} is not a log format",
                fix="use text (for people) or json (one JSON object per line)",
            )
        return fmt

    @field_validator("store_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(_SCHEMES):
            raise ConfigError(
                f"NEXUS_STORE_URL {value!r} has an unknown scheme",
                fix="use duckdb:///path/to/file.duckdb or postgresql://user@host:5432/db",
            )
        return value

    @field_validator("bus_url")
    @classmethod
    def _check_bus(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://", "memory://")):
            raise ConfigError(
                f"NEXUS_BUS_URL {value!r} has an unknown scheme",
                fix="use redis://127.0.0.1:6379/0, or leave it unset for the in-process bus",
            )
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.strip().lower().startswith(("http://", "https://")):
            raise ConfigError(
                f"NEXUS_ALERT_WEBHOOK_URL {value!r} is not an http(s) URL",
                fix="use https://host/path (the receiver of alert POSTs), or leave it unset",
            )
        return value.strip()

    @property
    def resolved_store_url(self) -> str:
        """The store URL, defaulting to a DuckDB file under :attr:`home`."""
        if self.store_url:
            return self.store_url
        return f"duckdb://{self.home.absolute() / 'nexus.duckdb'}"

    @property
    def store_backend(self) -> str:
        """``'duckdb'`` or ``'postgres'``."""
        return "duckdb" if self.resolved_store_url.startswith("duckdb://") else "postgres"

    @property
    def staging_dir(self) -> Path:
        """Where archives are extracted before they are read."""
        return self.home / "staging"
