"""The one lead-list reader (issue 11 §3): encodings, delimiters, header aliases, errors."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import pytest

from leadsonar.enrichment.files import read_bytes, read_path
from leadsonar.exceptions import BadRequest


def _records(data: bytes, name: str = "leads.csv") -> list[dict[str, str]]:
    return [record for _, _, record in read_bytes(data, name).records()]


def test_hubspot_style_headers_are_mapped() -> None:
    table = read_bytes(b"First Name,Last Name,Company Name,Company Domain,Email Address\n")
    assert table.mapping() == {
        "firstname": "First Name",
        "lastname": "Last Name",
        "company": "Company Name",
        "website": "Company Domain",
        "email": "Email Address",
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("first_name,last_name,domain", {"firstname", "lastname", "website"}),
        ("FIRSTNAME;LASTNAME;WEBSITE", {"firstname", "lastname", "website"}),
        ("Prénom\tNom de famille\tSociété", {"firstname"}),
        ("Full Name,Organization,URL", {"fullname", "company", "website"}),
    ],
)
def test_header_aliases_case_spaces_and_delimiters(header: str, expected: set[str]) -> None:
    assert expected <= read_bytes((header + "\n").encode()).columns.keys()


def test_latin1_semicolon_file_with_bom_less_accents() -> None:
    data = "Prénom;Nom;Société;Website\nÉlodie;Marchand;Crème SA;creme.fr\n".encode("latin-1")
    table = read_bytes(data)
    assert table.encoding in ("cp1252", "latin-1") and table.delimiter == ";"
    (record,) = [r for _, _, r in table.records()]
    assert record["firstname"] == "Élodie" and record["website"] == "creme.fr"


def test_utf16_with_bom_and_tabs_as_excel_unicode_text_writes() -> None:
    text = "First Name\tLast Name\tWebsite\r\nZoë\tÅberg\tfika.se\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    table = read_bytes(data)
    assert table.delimiter == "\t"
    assert next(r for _, _, r in table.records())["firstname"] == "Zoë"


def test_utf8_bom_is_not_part_of_the_first_header() -> None:
    table = read_bytes(codecs.BOM_UTF8 + b"first name,last name,website\nA,B,c.com\n")
    assert table.header[0] == "first name" and "firstname" in table.columns


def test_quoted_commas_do_not_confuse_the_delimiter() -> None:
    data = b'"Last, First";Company;Website\n"Lee, Mike";Linear;linear.app\n'
    assert read_bytes(data).delimiter == ";"


def test_full_name_is_split_when_first_and_last_are_missing() -> None:
    (record,) = _records(b"Name,Website\nMary Ann Smith,acme.com\n")
    assert (record["firstname"], record["lastname"]) == ("Mary", "Ann Smith")


def test_a_quote_never_closed_is_refused_naming_the_line_instead_of_swallowing_rows() -> None:
    # Python's csv reader reads everything up to the next quote into one cell, silently: the
    # rows of Bob and Cy would vanish into Ann's last name.
    data = (
        b'first,last,website\nZed,Ray,z.com\nAnn,"Lee,acme.com\nBob,Ray,acme.com\nCy,"Oh,acme.com\n'
    )
    with pytest.raises(BadRequest, match=r"line 3 opens a quote .* before line 4"):
        _records(data)


def test_a_quoted_cell_with_line_breaks_is_one_cell_and_rows_keep_their_file_lines() -> None:
    data = b'first,last,website,notes\nBo,Ray,a.com,"met in Lyon\ncall back"\nCy,Oh,b.com,\n'
    table = read_bytes(data)
    rows = list(table.rows())
    assert [line for line, _ in rows] == [2, 4]
    assert rows[0][1][3] == "met in Lyon\ncall back"


def test_blank_rows_are_skipped_and_ragged_rows_padded() -> None:
    records = _records(b"first,last,website\n\n,,\nA,B\n")
    assert records == [{"firstname": "A", "lastname": "B", "website": ""}]


@pytest.mark.parametrize(
    ("data", "use", "says"),
    [
        (b"Frist Name,Last Name,Website\n", "enrich", "first-name and last-name columns"),
        (b"First Name,Last Name,Title\n", "enrich", "company or website column"),
        (b"Sarah,Chen,figma.com\n", "enrich", "'Sarah', 'Chen', 'figma.com'"),
        (b"First Name,Last Name\n", "verify", "an email column"),
    ],
)
def test_a_file_without_the_needed_columns_is_refused_naming_them(
    data: bytes, use: str, says: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        read_bytes(data, "leads.csv").require(use)
    message = caught.value.message
    assert says in message and message.startswith("leads.csv has no")
    assert message.count(".") >= 1 and "\n" not in message


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(BadRequest, match="empty"):
        read_bytes(b"", "empty.csv")


def test_read_path_finds_latin1_after_a_utf8_looking_start(tmp_path: Path) -> None:
    # The first 64 KiB are plain ASCII; a Latin-1 byte comes later (a long export).
    lines = ["first,last,website"] + ["Ann,Lee,acme.com"] * 5000 + ["José,Núñez,acme.com"]
    path = tmp_path / "long.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    table = read_path(path)
    assert table.encoding == "cp1252"
    assert [r for _, _, r in table.records()][-1]["firstname"] == "José"


# -- what careless users upload (review of issue 11) ---------------------------------------------


def test_a_bom_less_utf16_file_that_does_not_decode_is_a_400_not_a_crash() -> None:
    rows = "First Name\tLast Name\tWebsite\n" + "Ann\tBell\tcorp.com\n" * 300
    data = rows.encode("utf-16-le") + b"\x00\xd8A\x00"  # a lone surrogate after 4 KiB
    with pytest.raises(BadRequest, match="is not utf-16-le text after line"):
        table = read_bytes(data, "leads.csv")
        list(table.records())


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_a_bom_less_utf16_list_of_cyrillic_or_cjk_names_is_recognised(codec: str) -> None:
    """Few NUL bytes (only the ASCII characters carry them), yet clearly UTF-16."""
    text = "Имя,Фамилия,Company,Website\n" + "".join(
        f"Александр,Иванович-Петров,Яндекс,пример{n}.рф\n陈,伟,华为,例子{n}.中国\n"
        for n in range(100)
    )
    table = read_bytes(text.encode(codec))
    assert table.encoding == codec
    assert table.header == ["Имя", "Фамилия", "Company", "Website"]
    first = next(table.records())[2]
    assert (first["company"], first["website"]) == ("Яндекс", "пример0.рф")


def test_an_xlsx_or_zip_uploaded_by_mistake_is_named_as_such() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<sheet/>" * 100)
    with pytest.raises(BadRequest, match="Excel workbook or a zip archive") as caught:
        read_bytes(buffer.getvalue(), "leads.xlsx")
    assert "save the list as CSV" in caught.value.message


def test_random_bytes_are_refused_in_one_short_sentence() -> None:
    data = bytes(range(256)) * 800
    with pytest.raises(BadRequest, match="binary data") as caught:
        read_bytes(data, "leads.csv")
    assert len(caught.value.message) < 400


def test_nul_bytes_are_dropped_from_cells() -> None:
    """PostgreSQL text (and JSONB) cannot hold NUL: a stray one must not become a 500."""
    (record,) = _records(b"First Name,Last Name,Website\nA\x00nna,B\x00,c.com\n")
    assert (record["firstname"], record["lastname"]) == ("Anna", "B")


def test_a_latin1_file_is_not_mistaken_for_binary() -> None:
    data = "Prénom;Nom;Website\nÉlodie;Marchand;creme.fr\n".encode("latin-1") + b"\x81\x8d"
    table = read_bytes(data)
    assert table.columns.keys() >= {"firstname", "lastname", "website"}
