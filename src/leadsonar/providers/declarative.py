"""Declarative providers: a JSON API LeadSonar does not ship, added by configuration alone.

A provider is one TOML table, in ``leadsonar.toml`` or in the file named by
``LEADSONAR_DECLARATIVE_PROVIDERS_FILE`` (the same ``[declarative_providers.<name>]`` shape in
both)::

    [declarative_providers.acme]
    fields = ["email"]                       # and/or "phone"
    method = "POST"
    url = "{base_url}/v1/find"               # {placeholders} are URL-encoded in the URL
    base_url = "https://api.acme.example"    # LEADSONAR_ACME_BASE_URL overrides it
    auth_header = "Authorization"            # the key: LEADSONAR_ACME_API_KEY (or api_key)
    auth_template = "Bearer {api_key}"
    query = { domain = "{domain}" }          # optional query parameters
    body = { first = "{first_name}", last = "{last_name}", domain = "{domain}" }
    email_path = "data.email"                # dotted path; list items by index: data.emails.0
    phone_path = "data.phone"
    status_path = "data.status"
    statuses = { valid = "medium", catch_all = "low", invalid = "none" }
    verification = { valid = "valid", catch_all = "accept_all" }
    error_path = "error"                     # a 200 carrying an error there is a failure
    cost = 1.0
    rate_limit = "10/second"
    concurrency = 4

Placeholders: ``{first_name}``, ``{last_name}``, ``{full_name}``, ``{domain}``, ``{company}``
and ``{base_url}`` in ``url``, ``query`` and ``body``; ``auth_template`` takes ``{api_key}`` only.
The key travels in a header only: ``{api_key}`` anywhere else, or an unknown placeholder
anywhere, is refused when the configuration is read (the provider is then shown as invalid on
``/providers``), never at the first call. A body string that is exactly one placeholder is
replaced by the value itself (``null`` when unknown).

Status → finding: ``statuses`` maps the provider's word (case-insensitive) to ``high``,
``medium``, ``low`` or ``none`` (not an answer); a word not in the map, or no ``status_path``,
takes ``default_confidence`` (``low``). ``verification`` maps words to ``valid``,
``accept_all``, ``published``, ``guessed`` or ``unknown`` (default: the word itself when it is one
of those, else ``unknown``). Errors are mapped as for every HTTP adapter
(:mod:`leadsonar.providers.http.base`): 401/403 bad key, 402 out of credits, 429 throttled with
``Retry-After``, 5xx server error, ``not_found_statuses`` (default ``[404]``) not found;
placeholders such as ``email_not_unlocked@domain.com`` are never answers (FC-30).
"""

from __future__ import annotations

import os
import string
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from leadsonar.providers.base import (
    Company,
    Confidence,
    Finding,
    LookupContext,
    Person,
    ProviderBadResponse,
    ProviderError,
    ProviderQuotaExceeded,
    Verification,
)
from leadsonar.providers.http.base import (
    HttpProvider,
    Slots,
    Verdict,
    error_details,
    full_name,
    mentions_quota,
)

PLACEHOLDERS = frozenset({"first_name", "last_name", "full_name", "domain", "company", "base_url"})
_CONFIDENCE_WORDS = {"high": Confidence.HIGH, "medium": Confidence.MEDIUM, "low": Confidence.LOW}


class DeclarativeSpec(BaseModel):
    """One ``[declarative_providers.<name>]`` table, validated."""

    model_config = ConfigDict(extra="forbid")

    fields: list[Literal["email", "phone"]] = Field(default_factory=lambda: ["email"])
    method: Literal["GET", "POST", "PUT"] = "POST"
    url: str
    base_url: str = ""
    auth_header: str | None = "Authorization"
    auth_template: str = "Bearer {api_key}"
    api_key: SecretStr | None = None
    query: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    email_path: str | None = None
    phone_path: str | None = None
    phone_type_path: str | None = None
    status_path: str | None = None
    statuses: dict[str, Literal["high", "medium", "low", "none"]] = Field(default_factory=dict)
    verification: dict[str, Literal["valid", "accept_all", "published", "guessed", "unknown"]] = (
        Field(default_factory=dict)
    )
    default_confidence: Literal["high", "medium", "low"] = "low"
    error_path: str | None = None
    not_found_statuses: list[int] = Field(default_factory=lambda: [404])
    cost: float = Field(default=1.0, ge=0)
    rate_limit: str | None = None
    concurrency: int | None = Field(default=None, ge=1)

    @field_validator("url")
    @classmethod
    def _url_placeholders(cls, value: str) -> str:
        _check_template(value, PLACEHOLDERS)
        return value

    @field_validator("auth_template")
    @classmethod
    def _auth_placeholders(cls, value: str) -> str:
        _check_template(value, frozenset({"api_key"}))
        return value

    @field_validator("body")
    @classmethod
    def _body_placeholders(cls, value: Any) -> Any:
        for text in _strings(value):
            _check_template(text, PLACEHOLDERS)
        return value

    @field_validator("query")
    @classmethod
    def _query_placeholders(cls, value: dict[str, str]) -> dict[str, str]:
        for text in value.values():
            _check_template(text, PLACEHOLDERS)
        return value

    @field_validator("statuses", "verification", mode="before")
    @classmethod
    def _lower_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).strip().lower(): v for k, v in value.items()}
        return value


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for item in node.values() for s in _strings(item)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _check_template(text: str, allowed: frozenset[str]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad template {text!r}: {exc}") from None
    unknown = names - allowed
    if "api_key" in unknown:
        raise ValueError(
            f"template {text!r} uses {{api_key}}: the key may only travel in a header "
            "(auth_header + auth_template), never in the URL, query or body, which end up "
            "in logs"
        )
    if unknown:
        raise ValueError(
            f"template {text!r} uses unknown placeholder(s) {sorted(unknown)}; "
            f"known: {sorted(allowed)}"
        )


def extract(body: Any, path: str | None) -> Any:
    """The value at a dotted ``path`` (``data.emails.0.email``; a leading ``$.`` and ``[0]``
    indexes are accepted), or None when any step is missing."""
    if not path:
        return None
    text = path.strip().removeprefix("$").lstrip(".").replace("[", ".").replace("]", "")
    node = body
    for step in filter(None, text.split(".")):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.lstrip("-").isdigit():
            index = int(step)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def _render(template: Any, values: dict[str, Any], *, url: bool = False) -> Any:
    """Fill ``{placeholders}`` in ``template`` (recursively for dicts and lists)."""
    if isinstance(template, dict):
        return {key: _render(item, values, url=url) for key, item in template.items()}
    if isinstance(template, list):
        return [_render(item, values, url=url) for item in template]
    if not isinstance(template, str):
        return template
    parsed = list(string.Formatter().parse(template))
    if (
        not url
        and len(parsed) == 1
        and parsed[0][0] == ""
        and parsed[0][1] is not None
        and not parsed[0][2]
    ):
        return values.get(parsed[0][1])  # exactly one placeholder: the value itself
    filled = {
        k: ("" if v is None else (quote(str(v), safe="") if url and k != "base_url" else v))
        for k, v in values.items()
    }
    return template.format_map(filled)


class DeclarativeProvider(HttpProvider):
    """A provider defined by a :class:`DeclarativeSpec` (see the module docstring)."""

    def __init__(
        self,
        name: str,
        spec: DeclarativeSpec,
        http: httpx.AsyncClient,
        quotas: Slots | None = None,
    ) -> None:
        env = name.upper().replace("-", "_")
        key = os.environ.get(f"LEADSONAR_{env}_API_KEY")
        api_key = SecretStr(key) if key else spec.api_key
        base_url = os.environ.get(f"LEADSONAR_{env}_BASE_URL") or spec.base_url
        self.name = name  # type: ignore[misc]
        self.fields = frozenset(spec.fields)  # type: ignore[misc]
        self.default_cost = spec.cost  # type: ignore[misc]
        self.doc_url = "configuration"  # type: ignore[misc]
        super().__init__(http, api_key, base_url, quotas=quotas, cost=spec.cost)
        self.spec = spec
        self.statuses = {  # type: ignore[misc]
            word: None
            if level == "none"
            else Verdict(self._verification_for(word), _CONFIDENCE_WORDS[level])
            for word, level in spec.statuses.items()
        }

    def _verification_for(self, word: str) -> Verification:
        named = self.spec.verification.get(word, word)
        try:
            return Verification(named)
        except ValueError:
            return Verification.UNKNOWN

    def status_detail(self) -> str | None:
        if self.spec.auth_header is None:
            return None
        return super().status_detail()

    def auth_headers(self) -> dict[str, str]:
        if self.spec.auth_header is None:
            return {}
        value = self.spec.auth_template.format_map({"api_key": self.api_key})
        return {self.spec.auth_header: value}

    def verdict(self, status: Any) -> Verdict | None:
        if status is None or self.spec.status_path is None:
            level = _CONFIDENCE_WORDS[self.spec.default_confidence]
            return Verdict(Verification.UNKNOWN, level)
        key = str(status).strip().lower()
        if key in self.statuses:
            return self.statuses[key]
        return Verdict(self._verification_for(key), _CONFIDENCE_WORDS[self.spec.default_confidence])

    def classify(self, response: httpx.Response, body: Any) -> ProviderError | None:
        error = super().classify(response, body)
        if error is not None:
            return error
        inside = extract(body, self.spec.error_path)
        if inside:
            if mentions_quota(error_details({"error": inside})):
                return ProviderQuotaExceeded(f"{self.name} account is out of credits")
            return ProviderBadResponse(f"{self.name} answered with an error")
        return None

    async def _ask(self, person: Person, company: Company, ctx: LookupContext) -> Any | None:
        values: dict[str, Any] = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "full_name": full_name(person),
            "domain": company.domain,
            "company": company.name,
            "base_url": self.base_url,
        }
        url = _render(self.spec.url, values, url=True)
        query = {k: v for k, v in _render(self.spec.query, values).items() if v not in (None, "")}
        body = _render(self.spec.body, values) if self.spec.body is not None else None
        return await self.call(
            ctx,
            self.spec.method,
            url,
            params=query or None,
            json=body,
            not_found=tuple(self.spec.not_found_statuses),
        )

    async def find_email(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        if "email" not in self.fields or not self.spec.email_path:
            return None
        answer = await self._ask(person, company, ctx)
        if answer is None:
            return None
        finding = self.email_finding(
            extract(answer, self.spec.email_path), extract(answer, self.spec.status_path)
        )
        if finding is not None:
            ctx.spend(self.cost)
        return finding

    async def find_phone(
        self, person: Person, company: Company, ctx: LookupContext
    ) -> Finding | None:
        if "phone" not in self.fields or not self.spec.phone_path:
            return None
        answer = await self._ask(person, company, ctx)
        if answer is None:
            return None
        status = extract(answer, self.spec.status_path)
        verdict = self.verdict(status)
        if verdict is None:
            return None
        kind = extract(answer, self.spec.phone_type_path)
        kind = str(kind).lower() if kind in ("mobile", "direct", "office") else None
        finding = self.phone_finding(
            extract(answer, self.spec.phone_path), kind, verdict.confidence
        )
        if finding is not None:
            ctx.spend(self.cost)
        return finding


def load_specs(
    tables: dict[str, dict[str, Any]], file: str | None
) -> dict[str, DeclarativeSpec | str]:
    """Every configured declarative provider: its spec, or the sentence saying why it is
    invalid (so ``/providers`` can show it instead of it vanishing).

    Args:
        tables: ``[declarative_providers.<name>]`` tables from the settings.
        file: a TOML file with more such tables (``LEADSONAR_DECLARATIVE_PROVIDERS_FILE``).
    """
    merged: dict[str, Any] = dict(tables or {})
    if file:
        try:
            document = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            merged["declarative_providers_file"] = f"cannot read {file}: {type(exc).__name__}"
        else:
            merged.update(document.get("declarative_providers") or {})
    specs: dict[str, DeclarativeSpec | str] = {}
    for name, table in merged.items():
        key = str(name).strip().lower()
        if isinstance(table, str):
            specs[key] = table
            continue
        try:
            specs[key] = DeclarativeSpec.model_validate(table)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "table"
            specs[key] = f"invalid configuration: {where}: {first['msg']}"
    return specs
