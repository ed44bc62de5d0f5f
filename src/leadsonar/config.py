"""Settings: one typed object, read from ``LEADSONAR_*`` environment variables and an optional
``leadsonar.toml`` in the working folder (DESIGN.md §4 fixes the names)."""

from __future__ import annotations

import ipaddress
import socket
from functools import cached_property
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PROVIDERS = "email=known,smtp;phone=known"


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
    )

    database_url: str = "sqlite+aiosqlite:///./leadsonar.db"
    secret_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for API-key hashes; when unset one is generated once and kept in "
        "the database.",
    )

    dns_servers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated ip[:port]; empty = system resolver"
    )
    dns_timeout: float = Field(default=5.0, description="seconds for one DNS query, all tries")
    allowed_private_networks: Annotated[list[IPNetwork], NoDecode] = Field(default_factory=list)

    smtp_helo_name: str = Field(default_factory=_default_helo_name)
    smtp_mail_from: str = ""
    smtp_port: int = 25
    smtp_timeout: float = Field(default=10.0, description="seconds per SMTP command reply")
    smtp_connect_timeout: float = Field(
        default=10.0, description="seconds to open a TCP connection"
    )
    smtp_banner_timeout: float = Field(default=20.0, description="seconds to wait for the 220")
    smtp_proxy: str | None = None

    providers: str = DEFAULT_PROVIDERS
    provider_timeout: float = Field(default=45.0, description="seconds one provider may take")
    lookup_deadline: float = Field(default=60.0, description="seconds one lookup may take")

    rate_limit: str = "10/second"
    rate_limit_storage: str = "memory://"

    refund_not_found: bool = False
    initial_credits: int = 1000
    job_concurrency: int = Field(default=4, ge=1, le=64)
    job_poll_interval: float = 1.0

    @field_validator("dns_servers", mode="before")
    @classmethod
    def _dns_servers(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("allowed_private_networks", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        value = _split_csv(value)
        if isinstance(value, list):
            return [ipaddress.ip_network(v, strict=False) for v in value]
        return value

    @field_validator("smtp_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value:
            raise ValueError(
                "LEADSONAR_SMTP_PROXY is not supported yet; unset it to probe directly."
            )
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
