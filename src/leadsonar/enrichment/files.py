"""The one reader of lead-list CSV files: uploads, ``leadsonar enrich`` and ``leadsonar import``.

Lead lists come out of Excel, Google Sheets, HubSpot, Apollo and LinkedIn exports, so the reader
accepts what those really write:

- **Encoding.** A byte-order mark decides (UTF-8, UTF-16 LE/BE, as Excel's "Unicode text"
  writes); otherwise UTF-8 if every byte decodes, else Windows-1252 (Excel's "CSV" on Western
  Windows), else Latin-1, which decodes any byte.
- **Delimiter.** ``,``, ``;`` (Excel in locales with a decimal comma) or tab, whichever the
  header line holds most of outside quotes (``,`` on a tie or for a one-column file).
- **Header names.** Folded to lower-case letters and digits (``First Name``, ``first_name``,
  ``FIRSTNAME`` → ``firstname``) and matched against :data:`ALIASES` (``Company Name``,
  ``Company Domain``, ``Website``, ``Email Address``, …). A ``Full Name``/``Name`` column stands
  in for first and last name when those are missing.

A file that lacks what its use needs is refused with one sentence naming the missing column and
the columns that were found (:class:`~leadsonar.exceptions.BadRequest`, a 400 over HTTP and exit
status 2 in the CLI).
"""

from __future__ import annotations

import _csv
import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from anyascii import anyascii

from leadsonar.exceptions import BadRequest

SAMPLE_BYTES = 64 * 1024
NOT_TEXT = "save the list as CSV (UTF-8, or Excel's 'CSV' or 'Unicode text') and upload that."
# Control characters no header line of a text CSV holds (tab, CR and LF excepted): a workbook,
# a zip archive or a PDF uploaded by mistake.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DELIMITERS = (",", ";", "\t")

# Canonical column → the folded header names lead lists use for it (first match wins).
ALIASES: dict[str, tuple[str, ...]] = {
    "firstname": ("firstname", "first", "givenname", "fname", "prenom", "vorname"),
    "lastname": (
        "lastname",
        "last",
        "surname",
        "familyname",
        "lname",
        "nom",
        "nomdefamille",
        "nachname",
    ),
    "fullname": ("fullname", "name", "contactname", "personname"),
    "company": (
        "company",
        "companyname",
        "organization",
        "organisation",
        "organizationname",
        "accountname",
        "account",
        "employer",
        "entreprise",
        "societe",
        "firma",
        "unternehmen",
    ),
    "website": (
        "website",
        "domain",
        "companydomain",
        "companywebsite",
        "companyurl",
        "websiteurl",
        "url",
        "web",
        "site",
        "siteweb",
        "siteinternet",
        "emaildomain",
    ),
    "email": ("email", "emailaddress", "workemail", "businessemail", "mail", "email1"),
    "phone": ("phone", "phonenumber", "directphone", "mobile", "mobilephone", "telephone"),
}


def fold_header(header: str) -> str:
    """A header folded for matching: ``First Name`` → ``firstname``, ``Prénom`` → ``prenom``."""
    return re.sub(r"[^a-z0-9]", "", anyascii(header).strip().lower())


def detect_encoding(sample: bytes, *, complete: bool) -> str:
    """The codec of a file from its first bytes (or all of them when ``complete``).

    Returns:
        ``utf-8-sig``, ``utf-16`` (BOM present), ``utf-16-le``/``utf-16-be`` (no BOM but NUL
        bytes in alternate positions), ``utf-8``, ``cp1252`` or ``latin-1``.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = sample[:4096]
    utf16 = _bomless_utf16(head)
    if utf16:
        return utf16
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _bomless_utf16(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when ``head`` reads as UTF-16 without a byte-order mark.

    Text never holds NUL bytes, UTF-16 holds one in every ASCII character (the header's
    letters, the commas, the line ends), on odd offsets in little-endian and even ones in
    big-endian. So: at least 5% NUL bytes, 90% of them on one side, and the bytes decode.
    A share rule (rather than "a third of the bytes are NUL") keeps a list whose rows are
    mostly Cyrillic, Greek or CJK names, whose characters hold no NUL, recognised.
    """
    nul = head.count(0)
    if len(head) < 4 or nul * 20 < len(head):
        return None
    odd = head[1::2].count(0)
    even = nul - odd
    codec = "utf-16-le" if odd >= 9 * even else "utf-16-be" if even >= 9 * odd else None
    if codec is None:
        return None
    try:
        codecs.getincrementaldecoder(codec)().decode(head[: len(head) // 2 * 2], final=False)
    except UnicodeDecodeError:
        return None
    return codec


def _is_utf8(stream: BinaryIO) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(SAMPLE_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def sniff_delimiter(header_line: str) -> str:
    """``,``, ``;`` or tab: whichever the header line holds most of outside double quotes."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


@dataclass
class LeadTable:
    """A lead list ready to read.

    Attributes:
        name: the file's name (for messages).
        encoding: the codec used (see :func:`detect_encoding`).
        delimiter: ``,``, ``;`` or ``\\t``.
        header: the header cells as written (BOM and surrounding spaces removed).
        columns: canonical column (``firstname``, ``lastname``, ``fullname``, ``company``,
            ``website``, ``email``, ``phone``) → index in :attr:`header`.
    """

    name: str
    encoding: str
    delimiter: str
    header: list[str]
    columns: dict[str, int] = field(default_factory=dict)
    _text: io.TextIOBase | None = None
    _reader: _csv.Reader | None = None

    def close(self) -> None:
        """Close the file when its rows are not read (:meth:`rows` closes it at the end)."""
        if self._text is not None:
            self._text.close()

    def mapping(self) -> dict[str, str]:
        """Canonical column → the header it was read from (``{"company": "Company Name"}``)."""
        return {key: self.header[index] for key, index in self.columns.items()}

    def has_name(self) -> bool:
        return {"firstname", "lastname"} <= self.columns.keys() or "fullname" in self.columns

    def require(self, use: str) -> None:
        """Refuse a file that lacks the columns ``use`` needs.

        Args:
            use: ``enrich`` (a name and a company or website), ``verify`` (an email),
                ``contacts`` (first and last name, for ``leadsonar import``) or ``companies``
                (a company and a website).

        Raises:
            BadRequest: one sentence naming the missing column and the columns found.
        """
        found = ", ".join(repr(h) for h in self.header if h) or "none"
        if len(found) > 300:
            found = found[:300] + "…"
        missing = None
        if use == "verify" and "email" not in self.columns:
            missing = "an email column (such as 'Email')"
        elif use in ("enrich", "contacts") and not self.has_name():
            missing = "first-name and last-name columns (such as 'First Name' and 'Last Name')"
        elif use == "enrich" and not self.columns.keys() & {"company", "website"}:
            missing = "a company or website column (such as 'Company Name' or 'Website')"
        elif use == "companies" and not {"company", "website"} <= self.columns.keys():
            missing = "a company column and a website column (such as 'Company' and 'Website')"
        if missing:
            raise BadRequest(
                f"{self.name} has no {missing}; the columns found are {found} "
                f"(read as {self.encoding} with {_delimiter_name(self.delimiter)})."
            )

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line number, cells)`` for every non-blank data row, padded to the header's width.

        The line number is the physical line the row starts on (a quoted cell may span lines).

        Raises:
            BadRequest: a row is not CSV, the text stops decoding, or a quote opened in a cell
                is never closed where it should be, so that whole rows were read into one cell
                (:func:`_swallowed_rows`); Python's csv reader would read them silently.
        """
        assert self._reader is not None, "rows() can be read once"
        reader, self._reader = self._reader, None
        width = len(self.header)
        line = 1
        try:
            for cells in reader:
                start, line = line + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                swallowed = _swallowed_rows(cells, self.delimiter, width)
                if swallowed:
                    raise BadRequest(
                        f'{self.name} line {start} opens a quote (") that is not closed before '
                        f"line {start + swallowed}, so the rows in between would be read as one "
                        "cell: close the quote or remove it, and upload the file again."
                    )
                # NUL is no character of any lead list, and PostgreSQL text cannot hold it.
                cells = [cell.replace("\x00", "") for cell in cells]
                yield start, cells + [""] * (width - len(cells))
        except csv.Error as exc:
            raise BadRequest(f"{self.name} line {line + 1} is not valid CSV: {exc}.") from None
        except UnicodeDecodeError:
            raise BadRequest(
                f"{self.name} is not {self.encoding} text after line {line}: {NOT_TEXT}"
            ) from None
        finally:
            if self._text is not None:
                self._text.close()

    def records(self) -> Iterator[tuple[int, list[str], dict[str, str]]]:
        """``(line number, cells, {canonical column: stripped cell})``; a full name is split
        into ``firstname`` and ``lastname`` (first word, rest) when those columns are missing."""
        split_name = "fullname" in self.columns and not (
            {"firstname", "lastname"} <= self.columns.keys()
        )
        for line, cells in self.rows():
            record = {key: cells[index].strip() for key, index in self.columns.items()}
            if split_name:
                first, _, last = record.get("fullname", "").partition(" ")
                record["firstname"] = record.get("firstname") or first.strip()
                record["lastname"] = record.get("lastname") or last.strip()
            yield line, cells, record


def _swallowed_rows(cells: list[str], delimiter: str, width: int) -> int:
    """How many lines into a row a cell swallowed a whole row of the table, or 0.

    A stray ``"`` at the start of a cell (``"Acme`` for ``Acme``) makes every CSV reader keep
    reading that cell, across line breaks, until the next ``"`` in the file: the rows in
    between become text of one cell. A quoted cell may hold line breaks (a note, an address),
    so a cell is taken as a swallow only when a line inside it, after its first, splits into
    at least as many fields as the header has columns (a whole row), in a table of two or more
    columns.

    Returns:
        the offset, in lines from the row's first line, of the first swallowed row; 0 if none.
    """
    if width < 2:
        return 0
    lines_before = 0  # line breaks in the row's earlier cells
    for cell in cells:
        for offset, text in enumerate(cell.splitlines()[1:], start=1):
            if text.count(delimiter) >= width - 1:
                return lines_before + offset
        lines_before += len(cell.splitlines()) - 1 if cell else 0
    return 0


def _delimiter_name(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter]


def _map_columns(header: list[str]) -> dict[str, int]:
    folded = [fold_header(h) for h in header]
    columns: dict[str, int] = {}
    for key, aliases in ALIASES.items():
        for alias in aliases:
            if alias in folded and folded.index(alias) not in columns.values():
                columns[key] = folded.index(alias)
                break
    return columns


def _table(name: str, text: io.TextIOBase, encoding: str) -> LeadTable:
    try:
        first_line = text.readline(SAMPLE_BYTES)
    except UnicodeDecodeError:
        text.close()
        raise BadRequest(f"{name} is not {encoding} text: {NOT_TEXT}") from None
    if not first_line.strip():
        text.close()
        raise BadRequest(f"{name} is empty: a header line naming its columns is needed.")
    if _BINARY.search(first_line):
        text.close()
        looks = (
            "it looks like an Excel workbook or a zip archive"
            if first_line.startswith("PK")
            else "it holds binary data"
        )
        raise BadRequest(f"{name} is not a CSV text file ({looks}): {NOT_TEXT}")
    delimiter = sniff_delimiter(first_line)
    text.seek(0)
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = [h.replace("\ufeff", "").strip() for h in next(reader)]
    except csv.Error as exc:
        text.close()
        raise BadRequest(f"{name}'s header line is not valid CSV: {exc}.") from None
    return LeadTable(
        name=name,
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        columns=_map_columns(header),
        _text=text,
        _reader=reader,
    )


def read_bytes(data: bytes, name: str = "The file") -> LeadTable:
    """A :class:`LeadTable` over an uploaded file held in memory.

    Raises:
        BadRequest: the file is empty or its header is not CSV.
    """
    encoding = detect_encoding(data, complete=True)
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    return _table(name, text, encoding)


def read_path(path: Path) -> LeadTable:
    """A :class:`LeadTable` streaming from a file on disk (large files need little memory:
    the encoding check reads the file once in chunks).

    Raises:
        BadRequest: the file is empty or its header is not CSV.
    """
    with path.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        encoding = detect_encoding(sample, complete=False)
        if encoding == "utf-8":
            raw.seek(0)
            if not _is_utf8(raw):
                encoding = detect_encoding(path.read_bytes(), complete=True)
    text = path.open(encoding=encoding, newline="")
    return _table(path.name, text, encoding)  # type: ignore[arg-type]
