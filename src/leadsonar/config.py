"""Settings: one typed object, read from ``LEADSONAR_*`` environment variables and an optional
``leadsonar.toml`` in the working folder (DESIGN.md §4 fixes the names)."""

from __future__ import annotations

import ipaddress
import socket
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from leadsonar.kit.db import DEFAULT_POOL_SIZE

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PROVIDERS = "email=known,website,smtp;phone=known,website"


def _default_helo_name() -> str:
    name = socket.getfqdn()
    return name if "." in name and not name.endswith(".localdomain") else "leadsonar.localhost"


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """All of LeadSonar's settings; each field's env name is ``LEADSONAR_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix="LEADSONAR_",
        toml_file="leadsonar.toml",
        extra="ignore",
        # Errors name the setting and the rule, never the value (keys, proxy passwords).
        hide_input_in_errors=True,
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./leadsonar.db",
        description="SQLAlchemy async URL; PostgreSQL: postgresql+psycopg://user@host/db",
    )
    database_pool_size: int = Field(
        default=DEFAULT_POOL_SIZE,
        ge=1,
        le=1000,
        description="PostgreSQL connections a process keeps in its session pool (as many more "
        "open while it is busy) and the most its pool of hot-path reads opens",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for API-key hashes; when unset one is generated once and kept in "
        "the database.",
    )

    dns_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated ip[:port]; empty = system resolver"
    )
    dns_timeout: float = Field(default=5.0, description="seconds for one DNS query, all tries")
    dns_check_name: str = Field(
        default=".",
        description="a name that must exist: the resolver self-check asks for it at start, in "
        "/readyz and before trusting a 'does not exist' answer ('.' is the root zone; empty "
        "turns the check off)",
    )
    allowed_private_networks: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=list,
        description="comma-separated CIDRs the prober and crawler may reach although private or "
        "loopback (tests, intranets); also admits the reserved .test/.example domains",
    )

    smtp_helo_name: str = Field(
        default_factory=_default_helo_name,
        description="EHLO name of the prober: a name you control, with matching A and PTR "
        "records (default: this machine's FQDN)",
    )
    smtp_mail_from: str = Field(
        default="", description="envelope sender of RCPT probes (default verify@<HELO name>)"
    )
    smtp_port: int = Field(default=25, description="port of the mail servers probed")
    smtp_timeout: float = Field(default=10.0, description="seconds per SMTP command reply")
    smtp_connect_timeout: float = Field(
        default=10.0, description="seconds to open a TCP connection"
    )
    smtp_banner_timeout: float = Field(default=20.0, description="seconds to wait for the 220")
    smtp_proxy: SecretStr | None = Field(
        default=None,
        description="socks5://[user:pass@]host:port: every prober connection goes through this "
        "SOCKS5 proxy (for hosts whose outbound port 25 is blocked; docs/prober.md)",
    )
    smtp_max_connections_per_host: int = Field(
        default=2, ge=1, le=20, description="open SMTP connections per mail server, process-wide"
    )
    smtp_idle_seconds: float = Field(
        default=15.0, ge=0, description="seconds an idle SMTP session is kept for reuse"
    )
    smtp_greylist_delay: float = Field(
        default=65.0, ge=0, description="seconds before retrying a greylisted address"
    )
    smtp_block_backoff: float = Field(
        default=6 * 3600.0, ge=0, description="seconds to leave a domain alone after a block"
    )

    crawl_max_pages: int = Field(
        default=8, ge=1, le=50, description="pages one website crawl may fetch (robots.txt apart)"
    )
    crawl_timeout: float = Field(
        default=10.0, gt=0, description="seconds one website request may take, body included"
    )
    crawl_max_bytes: int = Field(
        default=2_000_000, ge=1024, description="bytes of one page body read at most"
    )
    crawl_delay: float = Field(
        default=0.5, ge=0, description="seconds between two requests to one web host"
    )
    crawl_ttl: timedelta = Field(
        default=timedelta(days=7), description="how long a website crawl is reused (seconds)"
    )
    crawl_scheme: Literal["https", "http"] = Field(
        default="https",
        description="scheme tried first for a bare domain; https falls back to http",
    )
    crawl_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="port for bare domains (default 443 for https, 80 for http); tests only",
    )

    company_wikidata: bool = Field(
        default=True,
        description="ask Wikidata's public API for a company's official website (P856) before "
        "guessing its domain",
    )
    company_wikidata_url: str = Field(
        default="https://www.wikidata.org/w/api.php",
        description="the MediaWiki API endpoint Wikidata is asked at",
    )
    company_source_timeout: float = Field(
        default=10.0,
        gt=0,
        description="seconds one company source (Wikidata, a provider's company search) may take",
    )
    company_max_guesses: int = Field(
        default=200, ge=1, le=1000, description="domains guessed from a company name (DNS-checked)"
    )
    company_max_sites: int = Field(
        default=20,
        ge=1,
        le=50,
        description="guessed domains that exist in DNS whose home page is checked, most likely "
        "first",
    )
    company_dns_concurrency: int = Field(
        default=16, ge=1, le=256, description="DNS queries in flight for one company's guesses"
    )

    providers: str = Field(
        default=DEFAULT_PROVIDERS,
        description="provider order per field, e.g. email=known,smtp,hunter;phone=known",
    )
    provider_timeout: float = Field(default=45.0, description="seconds one provider may take")
    lookup_deadline: float = Field(default=60.0, description="seconds one lookup may take")

    # Commercial providers (docs/providers.md): each is `unconfigured` until its key is set; the
    # base URL is a setting so tests and proxies can point it elsewhere.
    hunter_api_key: SecretStr | None = None
    hunter_base_url: str = "https://api.hunter.io/v2"
    prospeo_api_key: SecretStr | None = None
    prospeo_base_url: str = "https://api.prospeo.io"
    leadmagic_api_key: SecretStr | None = None
    leadmagic_base_url: str = "https://api.leadmagic.io"
    findymail_api_key: SecretStr | None = None
    findymail_base_url: str = "https://app.findymail.com"
    icypeas_api_key: SecretStr | None = None
    icypeas_base_url: str = "https://app.icypeas.com"
    dropcontact_api_key: SecretStr | None = None
    dropcontact_base_url: str = "https://api.dropcontact.com"
    apollo_api_key: SecretStr | None = None
    apollo_base_url: str = "https://api.apollo.io"
    pdl_api_key: SecretStr | None = None
    pdl_base_url: str = "https://api.peopledatalabs.com"
    lusha_api_key: SecretStr | None = None
    lusha_base_url: str = "https://api.lusha.com"
    provider_limits: str = Field(
        default="",
        description="per-provider rate limits overriding the documented defaults, `limits` "
        "syntax: 'hunter=15/second,500/minute;apollo=50/minute'",
    )
    provider_concurrency: str = Field(
        default="", description="per-provider cap on requests in flight: 'hunter=5;lusha=2'"
    )
    provider_costs: str = Field(
        default="", description="per-provider cost of one answer, in your own unit: 'hunter=1.5'"
    )
    provider_poll_interval: float | None = Field(
        default=None,
        gt=0,
        description="seconds between polls of submit-then-poll providers "
        "(default: each provider's documented pace)",
    )
    provider_breaker_failures: int = Field(
        default=5, ge=1, description="consecutive failures that open a provider's circuit"
    )
    provider_breaker_reset: float = Field(
        default=30.0, gt=0, description="seconds an open circuit waits before one probe call"
    )
    provider_throttle_cooldown: float = Field(
        default=10.0,
        ge=0,
        description="seconds a throttled provider rests when it gave no Retry-After",
    )
    provider_quota_cooldown: float = Field(
        default=300.0,
        ge=0,
        description="seconds an out-of-credits provider is skipped before one probe call",
    )
    provider_auth_cooldown: float = Field(
        default=600.0, ge=0, description="seconds a provider whose key was rejected is skipped"
    )
    declarative_providers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="providers defined by configuration: [declarative_providers.<name>] tables",
    )
    declarative_providers_file: str | None = Field(
        default=None, description="a TOML file with more [declarative_providers.<name>] tables"
    )
    confidence_bar: Literal["high", "medium", "low"] = Field(
        default="high", description="the cascade stops at the first answer at least this sure"
    )
    lookup_cache_ttl: float = Field(
        default=86400.0,
        ge=0,
        description="seconds an identical lookup is answered from cache (0 turns the cache off)",
    )
    http_timeout: float = Field(
        default=30.0, gt=0, description="seconds for one provider HTTP read, write or pool wait"
    )
    http_connect_timeout: float = Field(
        default=5.0, gt=0, description="seconds to open a connection to a provider"
    )

    rate_limit: str = Field(default="10/second", description="requests per API key (limits syntax)")
    auth_failure_limit: str = Field(
        default="20/minute",
        description="failed authentications allowed per client address (limits syntax); "
        "over it, every request from that address gets 429 until the window frees",
    )
    auth_cache_ttl: float = Field(
        default=5.0,
        ge=0,
        description="seconds an authenticated API key is remembered by a process (0: ask the "
        "database on every request); a key revoked through the API stops working at once in "
        "the process that revoked it, in other processes within this many seconds",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="server log lines: text, or json (one object per line)"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="memory:// for one process, redis://host:6379 when processes share limits",
    )

    refund_not_found: bool = Field(
        default=False, description="give the credit back when a lookup finds nothing"
    )
    initial_credits: int = Field(
        default=1000, description="credits of the account made on first start"
    )
    job_concurrency: int = Field(
        default=8, ge=1, le=64, description="bulk-job contacts worked at once per process"
    )
    job_poll_interval: float = Field(
        default=1.0, gt=0, description="seconds between checks for due bulk-job work"
    )
    worker_heartbeat: float = Field(
        default=10.0,
        gt=0,
        description="seconds between a queue worker's heartbeats and its checks for stalled "
        "workers (PostgreSQL)",
    )
    worker_stall_timeout: float = Field(
        default=30.0,
        gt=0,
        description="seconds without a heartbeat after which a worker counts as dead and its "
        "items in flight are worked again (PostgreSQL)",
    )
    worker_shutdown_timeout: float = Field(
        default=30.0,
        ge=0,
        description="seconds a stopping worker lets its items in flight finish (PostgreSQL)",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, description="seconds one webhook POST may take before it is retried"
    )
    webhook_retry_delay: float = Field(
        default=30.0,
        gt=0,
        description="seconds before a failed webhook's first retry; doubles per retry (at most "
        "1 hour apart), retries stop 24 hours after the job ended",
    )

    @field_validator("dns_servers", mode="before")
    @classmethod
    def _dns_servers(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("crawl_ttl", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        """Plain seconds (``LEADSONAR_CRAWL_TTL=3600``) as well as ISO 8601 (``P7D``)."""
        if isinstance(value, str):
            try:
                return timedelta(seconds=float(value))
            except ValueError:
                return value
        return value

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        value = _split_csv(value)
        if isinstance(value, list):
            return [ipaddress.ip_network(v, strict=False) for v in value]
        return value

    @field_validator("smtp_proxy")
    @classmethod
    def _proxy(cls, value: SecretStr | None) -> SecretStr | None:
        from leadsonar.kit.net.socks import parse_proxy_url

        if value is None or not value.get_secret_value().strip():
            return None
        parse_proxy_url(value.get_secret_value())  # ValueError: a sentence without the password
        return value

    @cached_property
    def mail_from(self) -> str:
        """The envelope sender for RCPT probes: ``LEADSONAR_SMTP_MAIL_FROM`` or
        ``verify@<HELO name>``."""
        return self.smtp_mail_from or f"verify@{self.smtp_helo_name}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def get_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment, ``leadsonar.toml`` and ``overrides``."""
    return Settings(**overrides)


def describe_settings(settings: Settings | None = None) -> list[tuple[str, str, str]]:
    """Every setting as ``(env name, value, meaning)``; with ``settings`` the current values,
    without them the defaults. Secrets (API keys) are shown only as set or unset."""
    rows = []
    for name, field in Settings.model_fields.items():
        env = f"LEADSONAR_{name.upper()}"
        if settings is not None:
            value: Any = getattr(settings, name)
        elif field.default_factory is not None:
            value = "(computed)" if name == "smtp_helo_name" else field.default_factory()  # type: ignore[call-arg]
        else:
            value = field.default
        if isinstance(value, SecretStr) or name.endswith(("_api_key", "secret_key")):
            shown = "(set)" if value else "(unset)"
        elif isinstance(value, list):
            shown = ",".join(str(v) for v in value)
        elif isinstance(value, timedelta):
            shown = f"{value.total_seconds():g} s"
        else:
            shown = "" if value is None else str(value)
        meaning = field.description or ""
        if not meaning and name.endswith("_api_key"):
            meaning = f"API key of {name.removesuffix('_api_key')}; unset = provider unconfigured"
        elif not meaning and name.endswith("_base_url"):
            meaning = f"API base URL of {name.removesuffix('_base_url')}"
        rows.append((env, shown, meaning))
    return rows
