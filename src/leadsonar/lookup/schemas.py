"""Request and response bodies of ``/find-email`` and ``/find-phone`` (spec field names)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, model_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
OptionalText = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=300)]


class PersonLookup(BaseModel):
    """A person to look up: ``firstName``, ``lastName`` and at least one of ``company`` and
    ``website`` (snake_case aliases ``first_name``, ``last_name``, ``company_name``, ``domain``
    are accepted)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    firstName: Name = Field(validation_alias=AliasChoices("firstName", "first_name"))
    lastName: Name = Field(validation_alias=AliasChoices("lastName", "last_name"))
    company: OptionalText = Field(
        default=None, validation_alias=AliasChoices("company", "companyName", "company_name")
    )
    website: OptionalText = Field(default=None, validation_alias=AliasChoices("website", "domain"))

    @model_validator(mode="after")
    def _company_or_website(self) -> PersonLookup:
        self.company = self.company or None
        self.website = self.website or None
        if not self.company and not self.website:
            raise ValueError("Provide at least company or website alongside the name.")
        return self


class WaterfallSummary(BaseModel):
    """Which providers a lookup tried, which answered, and their provider-side cost (credits at
    the providers, not LeadSonar credits); ``cached`` when the answer came from the cache."""

    tried: list[str]
    answered: list[str]
    cost: float
    cached: bool


class EmailAnswer(BaseModel):
    """``/find-email`` answer: the spec's four fields, then additive ones."""

    email: str | None
    confidence: str | None
    sources: int
    credits_used: int
    domain: str | None = None
    domainSource: str | None = None
    domainReason: str | None = None
    provider: str | None = None
    verification: str | None = None
    reason: str | None = None
    smtpConnections: int = 0
    smtpRcpts: int = 0
    waterfall: WaterfallSummary | None = None


class PhoneAnswer(BaseModel):
    """``/find-phone`` answer: ``phone`` in the spec's form (``+1-415-555-0192``), ``type``
    ``direct`` or ``mobile`` (from the number's own range); both ``null`` when no number of the
    person was found. ``companyPhone`` (additive, same form) is the company's main line when
    one is known: it is never put in ``phone``, so a switchboard is never sold as a direct
    dial (issue 8 §2)."""

    phone: str | None
    type: str | None
    credits_used: int
    companyPhone: str | None = None
    e164: str | None = None
    domain: str | None = None
    domainSource: str | None = None
    domainReason: str | None = None
    provider: str | None = None
    confidence: str | None = None
    reason: str | None = None
    waterfall: WaterfallSummary | None = None
