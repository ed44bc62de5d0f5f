"""Bodies of ``POST /enrich`` and ``GET /enrich/{jobId}`` (spec field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from leadsonar.lookup.schemas import Name, OptionalText

MAX_CONTACTS = 100
Website = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=300)]


class ContactIn(BaseModel):
    """One contact: the spec's ``website``, or (a superset of the spec) ``companyName`` alone,
    which the job resolves to a domain once per distinct company."""

    model_config = ConfigDict(extra="ignore")

    firstName: Name = Field(validation_alias=AliasChoices("firstName", "first_name"))
    lastName: Name = Field(validation_alias=AliasChoices("lastName", "last_name"))
    website: Website = Field(default=None, validation_alias=AliasChoices("website", "domain"))
    companyName: OptionalText = Field(
        default=None, validation_alias=AliasChoices("companyName", "company_name", "company")
    )

    @model_validator(mode="after")
    def _website_or_company(self) -> ContactIn:
        if not self.website and not self.companyName:
            raise ValueError("provide website, or companyName to have the company resolved.")
        return self


class EnrichRequest(BaseModel):
    """``contacts`` (1..100), ``findEmail`` (default true), ``findPhone`` (default false)."""

    model_config = ConfigDict(extra="ignore")

    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_CONTACTS)
    findEmail: StrictBool = Field(
        default=True, validation_alias=AliasChoices("findEmail", "find_email")
    )
    findPhone: StrictBool = Field(
        default=False, validation_alias=AliasChoices("findPhone", "find_phone")
    )
    webhookUrl: str | None = Field(
        default=None,
        validation_alias=AliasChoices("webhookUrl", "webhook_url"),
        description="POSTed the job's final JSON, signed, when the job ends (docs/api.md).",
    )
    source: Literal["api", "dashboard"] = Field(
        default="api", description="``dashboard`` when the web dashboard sent the job."
    )

    @model_validator(mode="after")
    def _something_to_find(self) -> EnrichRequest:
        if not self.findEmail and not self.findPhone:
            raise ValueError("Set findEmail or findPhone to true: there is nothing to find.")
        return self


class JobAccepted(BaseModel):
    jobId: str
    status: str
    total: int
    message: str
    credits_used: int


class JobResult(BaseModel):
    """One finished row: the spec's five fields, then the same additive fields as a single
    lookup (``reason`` says why an answer is missing or weak)."""

    firstName: str
    lastName: str
    email: str | None
    phone: str | None
    confidence: str | None
    position: int
    domain: str | None = None
    domainSource: str | None = None
    domainReason: str | None = None
    sources: int = 0
    phoneType: str | None = None
    provider: str | None = None
    verification: str | None = None
    reason: str | None = None
    companyPhone: str | None = None
    duplicateOf: int | None = None


class JobStatus(BaseModel):
    jobId: str
    status: str
    total: int
    completed: int
    results: list[JobResult]
    smtpConnections: int = 0
    smtpRcpts: int = 0
    kind: str = "enrich"
    source: str = "api"
    createdAt: datetime | None = None
    finishedAt: datetime | None = None


class JobSummary(BaseModel):
    """A job in ``GET /enrich`` (no results: fetch ``GET /enrich/{jobId}`` for those)."""

    jobId: str
    status: str
    kind: str
    source: str
    total: int
    completed: int
    createdAt: datetime
    finishedAt: datetime | None
    fileName: str | None = None
    findEmail: bool
    findPhone: bool
    webhookUrl: str | None = None


class JobList(BaseModel):
    """A page of jobs, newest first; ``nextCursor`` fetches the next page (``null`` at the
    end)."""

    jobs: list[JobSummary]
    nextCursor: str | None


class JobCancelled(BaseModel):
    jobId: str
    status: str
    cancelled: int
    credits_refunded: int


class FilePreview(BaseModel):
    """What an upload would do (``dryRun=true``): nothing is stored or charged."""

    fileName: str
    kind: str
    rows: int
    lookups: int
    duplicates: int
    skipped: int
    skippedReasons: list[str]
    columns: dict[str, str]
    header: list[str]
    encoding: str
    delimiter: str
    credits_needed: int
    balance: int
    enough: bool
    sample: list[dict[str, str]]
