"""Jobs before they are stored: a :class:`JobDraft` from ``POST /enrich``'s JSON or from an
uploaded lead list, with the credit rules applied to its rows.

Credits (spec: 1 per contact per requested type; 1 per verified address) are counted for the
rows that will really be looked up: a person repeated in one job (same folded name at the same
domain or company; the same address for verification) is looked up once and charged once, and
a file row that cannot be looked up at all (no name, no usable website or company) is answered
with its ``reason`` and not charged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsonar.domains.companies import company_key
from leadsonar.domains.contacts import name_key
from leadsonar.enrichment.files import LeadTable
from leadsonar.enrichment.schemas import EnrichRequest
from leadsonar.exceptions import BadRequest, InvalidDomain
from leadsonar.kit.emails import normalise_email
from leadsonar.kit.net.hostnames import domain_from_website

MAX_FILE_ROWS = 50_000
MAX_NAME = 100
MAX_COMPANY = 300
# The columns' lengths (enrichment/models.py): PostgreSQL refuses a longer string (SQLite keeps
# it), and a skip reason quotes the cell it is about, which may be thousands of characters.
MAX_REASON = 300
MAX_EMAIL = 320
MAX_FILE_NAME = 255


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


API_COLUMNS = ["firstName", "lastName", "website", "companyName"]


@dataclass
class ItemDraft:
    """One input row. ``website`` is an A-label domain or ``""`` (look the company up);
    ``email`` is the address to check (verify jobs); ``skipped`` is why the row cannot be
    worked (answered at once, not charged)."""

    first_name: str = ""
    last_name: str = ""
    website: str = ""
    company_name: str | None = None
    email: str | None = None
    input_cells: list[str] | None = None
    skipped: str | None = None
    verification: str | None = None


@dataclass
class JobDraft:
    """A job before it is stored (see the module docstring for the credit rules)."""

    kind: str
    find_email: bool
    find_phone: bool
    source: str
    items: list[ItemDraft] = field(default_factory=list)
    file_name: str | None = None
    input_columns: list[str] | None = None
    webhook_url: str | None = None
    _duplicates: list[int | None] | None = field(default=None, repr=False)

    @property
    def per_item(self) -> int:
        """Credits per looked-up row: 1 for a verification, else 1 per requested type."""
        return 1 if self.kind == "verify" else int(self.find_email) + int(self.find_phone)

    def repeat_key(self, item: ItemDraft) -> str | None:
        if item.skipped:
            return None
        if self.kind == "verify":
            return item.email
        place = item.website or "company:" + company_key(item.company_name or "")
        return f"{name_key(item.first_name, item.last_name)}@{place}"

    def duplicates(self) -> list[int | None]:
        """For each item, the position of the earlier item it repeats (``None`` if none);
        computed once (the items must not change afterwards)."""
        if self._duplicates is not None and len(self._duplicates) == len(self.items):
            return self._duplicates
        first: dict[str, int] = {}
        out: list[int | None] = []
        for position, item in enumerate(self.items):
            key = self.repeat_key(item)
            if key is None:
                out.append(None)
            elif key in first:
                out.append(first[key])
            else:
                first[key] = position
                out.append(None)
        self._duplicates = out
        return out

    def lookups(self) -> int:
        """Rows that will really be looked up (not skipped, not repeats)."""
        return sum(
            1
            for item, dup in zip(self.items, self.duplicates(), strict=True)
            if not item.skipped and dup is None
        )

    def cost(self) -> int:
        return self.lookups() * self.per_item


def draft_from_request(body: EnrichRequest, allow_reserved: bool) -> JobDraft:
    """A draft from ``POST /enrich``'s body.

    Raises:
        InvalidDomain: a contact's ``website`` is unusable (400 naming the contact).
    """
    draft = JobDraft(
        kind="enrich",
        find_email=body.findEmail,
        find_phone=body.findPhone,
        source=body.source,
        input_columns=list(API_COLUMNS),
    )
    for index, contact in enumerate(body.contacts):
        domain = ""  # companyName only: the runner resolves the company when the item runs
        if contact.website:
            try:
                domain = domain_from_website(contact.website, allow_reserved=allow_reserved)
            except InvalidDomain as exc:
                raise InvalidDomain(f"contacts[{index}].website: {exc.message}") from None
        draft.items.append(
            ItemDraft(
                first_name=contact.firstName,
                last_name=contact.lastName,
                website=domain,
                company_name=contact.companyName,
            )
        )
    return draft


def _enrich_row(record: dict[str, str], allow_reserved: bool) -> ItemDraft:
    first, last = record.get("firstname", ""), record.get("lastname", "")
    company = record.get("company", "")[:MAX_COMPANY] or None
    item = ItemDraft(first_name=first[:MAX_NAME], last_name=last[:MAX_NAME], company_name=company)
    if not first or not last:
        item.skipped = "Skipped: the row has no first name or no last name."
        return item
    website = record.get("website", "")
    if website:
        try:
            item.website = domain_from_website(website, allow_reserved=allow_reserved)
        except InvalidDomain as exc:
            if not company:
                item.skipped = f"Skipped: {exc.message}"
    elif not company:
        item.skipped = "Skipped: the row has neither a company nor a website."
    return item


def _verify_row(record: dict[str, str], allow_reserved: bool) -> ItemDraft:
    raw = record.get("email", "")
    item = ItemDraft(
        first_name=record.get("firstname", "")[:MAX_NAME],
        last_name=record.get("lastname", "")[:MAX_NAME],
        email=raw,
    )
    if not raw:
        item.skipped = "Skipped: the row has no email address."
        return item
    try:
        item.email = normalise_email(raw, allow_reserved=allow_reserved)
        item.website = item.email.rpartition("@")[2]
    except BadRequest as exc:
        item.skipped, item.verification = exc.message, "invalid"
    return item


def draft_from_table(
    table: LeadTable,
    *,
    kind: str,
    find_email: bool,
    find_phone: bool,
    source: str,
    allow_reserved: bool,
    webhook_url: str | None = None,
) -> JobDraft:
    """A draft from an uploaded CSV (:mod:`leadsonar.enrichment.files`).

    Raises:
        BadRequest: a missing column (naming it), more than :data:`MAX_FILE_ROWS` rows, no data
            row, or no row that can be looked up.
    """
    table.require(kind)
    draft = JobDraft(
        kind=kind,
        find_email=find_email if kind == "enrich" else True,
        find_phone=find_phone if kind == "enrich" else False,
        source=source,
        file_name=_clip(table.name, MAX_FILE_NAME),
        input_columns=list(table.header),
        webhook_url=webhook_url,
    )
    row_of = _verify_row if kind == "verify" else _enrich_row
    for count, (_line, cells, record) in enumerate(table.records(), start=1):
        if count > MAX_FILE_ROWS:
            raise BadRequest(
                f"{table.name} has more than {MAX_FILE_ROWS:,} rows; split it into several files."
            )
        item = row_of(record, allow_reserved)
        if item.skipped:
            item.skipped = _clip(item.skipped, MAX_REASON)
        if item.email:
            item.email = _clip(item.email, MAX_EMAIL)
        item.input_cells = cells[: len(table.header)]
        draft.items.append(item)
    if not draft.items:
        raise BadRequest(f"{table.name} has a header but no data rows.")
    if not any(not item.skipped for item in draft.items):
        first = next(item.skipped for item in draft.items if item.skipped)
        raise BadRequest(f"No row of {table.name} can be looked up (the first: {first})")
    return draft
