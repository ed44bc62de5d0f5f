"""Name normalisation rules of :mod:`leadsonar.domains.names` (field cases FC-01..FC-06, FC-13)."""

from __future__ import annotations

import random
import re
import string

import pytest

from leadsonar.domains import names
from leadsonar.domains.names import NameForms, local_part_fit, name_forms

FORM = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")


def _primary(first: str, last: str, domain: str | None = None) -> tuple[tuple[str, ...], ...]:
    forms = name_forms(first, last, domain)[0]
    return forms.firsts, forms.lasts, forms.first_initials, forms.last_initials


@pytest.mark.parametrize(
    ("first", "last", "domain", "expected"),
    [
        pytest.param(
            "Élodie",
            "Marchand",
            "example.fr",
            (("elodie",), ("marchand",), ("e",), ("m",)),
            id="FC-01-elodie",
        ),
        pytest.param(
            "Łukasz",
            "Søren",
            None,
            (("lukasz",), ("soren",), ("l",), ("s",)),
            id="FC-01-lukasz-soren",
        ),
        pytest.param(
            "Ləman",
            "Tağızadə",
            None,
            (("leman",), ("tagizade",), ("l",), ("t",)),
            id="FC-02-azerbaijani",
        ),
        pytest.param("敏", "张", None, (("min",), ("zhang",), ("m",), ("z",)), id="FC-02-han"),
        pytest.param(
            "Nora",
            "O'Keeffe",
            None,
            (("nora",), ("okeeffe",), ("n",), ("o",)),
            id="FC-05-apostrophe",
        ),
        pytest.param(
            "Nora",
            "O’Keeffe",
            None,
            (("nora",), ("okeeffe",), ("n",), ("o",)),
            id="FC-05-right-quote",
        ),
        pytest.param(
            "Nora",
            "Oʼ Keeffe",
            None,
            (("nora",), ("okeeffe",), ("n",), ("o",)),
            id="FC-05-modifier-apostrophe-and-space",
        ),
        pytest.param(
            "Jean-Luc",
            "Perrin",
            None,
            (("jeanluc", "jean-luc", "jean"), ("perrin",), ("jl", "j"), ("p",)),
            id="FC-05-hyphenated-first-is-one-person",
        ),
        pytest.param(
            "Jean–Luc",
            "Perrin",
            None,
            (("jeanluc", "jean-luc", "jean"), ("perrin",), ("jl", "j"), ("p",)),
            id="FC-05-en-dash",
        ),
        pytest.param(
            "Inés",
            "Navarro Quintero",
            "example.es",
            (("ines",), ("navarro", "navarroquintero", "navarro.quintero"), ("i",), ("n",)),
            id="FC-06-spanish-double-surname",
        ),
        pytest.param(
            "João",
            "Pereira Santos",
            "example.com.br",
            (
                ("joao",),
                ("santos", "pereira", "pereirasantos", "pereira.santos"),
                ("j",),
                ("s", "p"),
            ),
            id="FC-06-portuguese-last-surname-first",
        ),
        pytest.param(
            "Pieter",
            "van der Berg",
            None,
            (("pieter",), ("vanderberg", "berg"), ("p",), ("v", "b")),
            id="particle-van-der",
        ),
        pytest.param(
            "María",
            "de la Cruz",
            None,
            (("maria",), ("delacruz", "cruz"), ("m",), ("d", "c")),
            id="particle-de-la",
        ),
        pytest.param(
            "Omar",
            "Al-Hassan",
            None,
            (("omar",), ("alhassan", "al-hassan", "hassan"), ("o",), ("a", "h")),
            id="particle-al-hyphen",
        ),
        pytest.param(
            "Ahmad",
            "bin Abdullah",
            None,
            (("ahmad",), ("binabdullah", "abdullah"), ("a",), ("b", "a")),
            id="particle-bin",
        ),
        pytest.param(
            "Thi",
            "Le",
            None,
            (("thi",), ("le",), ("t",), ("l",)),
            id="particle-alone-is-the-surname",
        ),
        pytest.param(
            "Helena",
            "Bonham-Carter",
            None,
            (("helena",), ("bonhamcarter", "bonham-carter", "bonham"), ("h",), ("b",)),
            id="hyphenated-surname",
        ),
        pytest.param(
            "Mary Ann",
            "Smith",
            None,
            (("maryann", "mary"), ("smith",), ("m", "ma"), ("s",)),
            id="two-word-first-name",
        ),
        pytest.param(
            "Dr. John",
            "Smith Jr., PhD",
            None,
            (("john",), ("smith",), ("j",), ("s",)),
            id="titles-and-suffixes",
        ),
        pytest.param(
            "Dipl.-Ing. Hans",
            "Weber III",
            None,
            (("hans",), ("weber",), ("h",), ("w",)),
            id="hyphenated-title",
        ),
        pytest.param(
            "Robert (Bob)",
            "  Smith\t",
            None,
            (("robert",), ("smith",), ("r",), ("s",)),
            id="nickname-and-whitespace",
        ),
        pytest.param(
            "Lena",
            "B.",
            None,
            (("lena",), (), ("l",), ("b",)),
            id="FC-13-one-letter-surname-is-an-initial",
        ),
        pytest.param(
            "J. R.", "Doe", None, ((), ("doe",), ("j", "jr"), ("d",)), id="initials-only-first-name"
        ),
        pytest.param("Lena", "", None, (("lena",), (), ("l",), ()), id="FC-13-empty-surname"),
        pytest.param("Dr.", "Smith", None, ((), ("smith",), (), ("s",)), id="title-only-first"),
        pytest.param("!!!", "...", None, ((), (), (), ()), id="no-letters"),
        pytest.param("", "", None, ((), (), (), ()), id="empty"),
    ],
)
def test_primary_spelling(
    first: str, last: str, domain: str | None, expected: tuple[tuple[str, ...], ...]
) -> None:
    assert _primary(first, last, domain) == expected


@pytest.mark.parametrize(
    ("first", "last", "domain", "expected"),
    [
        pytest.param(
            "Jörg",
            "Großmann",
            "example.de",
            [("joerg", "grossmann"), ("jorg", "grossmann")],
            id="FC-03-de-oe-first",
        ),
        pytest.param(
            "Jörg",
            "Großmann",
            "example.at",
            [("joerg", "grossmann"), ("jorg", "grossmann")],
            id="FC-03-at-oe-first",
        ),
        pytest.param(
            "Jörg",
            "Großmann",
            "EXAMPLE.CH.",
            [("joerg", "grossmann"), ("jorg", "grossmann")],
            id="FC-03-ch-oe-first",
        ),
        pytest.param(
            "Jörg",
            "Großmann",
            "example.com",
            [("jorg", "grossmann"), ("joerg", "grossmann")],
            id="FC-03-com-plain-first",
        ),
        pytest.param(
            "Jörg",
            "Großmann",
            None,
            [("jorg", "grossmann"), ("joerg", "grossmann")],
            id="FC-03-no-domain",
        ),
        pytest.param(
            "Anna",
            "Söderström",
            "example.fi",
            [("anna", "soderstrom"), ("anna", "soederstroem")],
            id="FC-03-fi-plain-first",
        ),
        pytest.param(
            "Jürgen",
            "Müller",
            "example.de",
            [("juergen", "mueller"), ("jurgen", "muller")],
            id="FC-03-spelling-is-consistent-across-the-name",
        ),
        pytest.param(
            "Jo\u0308rg",
            "Grossmann",
            "example.de",
            [("joerg", "grossmann"), ("jorg", "grossmann")],
            id="FC-03-decomposed-umlaut",
        ),
        pytest.param(
            "Дарья",
            "Ковальчук",
            None,
            [("daria", "kovalchuk"), ("darya", "kovalchuk")],
            id="FC-02-cyrillic-icao-first",
        ),
        pytest.param(
            "Юлия",
            "Ильина",
            "example.de",
            [("iuliia", "ilina"), ("yuliya", "ilina")],
            id="FC-02-soft-sign-dropped",
        ),
        pytest.param(
            "Élodie",
            "Marchand",
            "example.de",
            [("elodie", "marchand")],
            id="one-spelling-without-umlauts",
        ),
    ],
)
def test_spellings(
    first: str, last: str, domain: str | None, expected: list[tuple[str, str]]
) -> None:
    assert [(s.firsts[0], s.lasts[0]) for s in name_forms(first, last, domain)] == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        pytest.param("敏", "张", True, id="FC-02-han"),
        pytest.param("민준", "김", True, id="hangul"),
        pytest.param("Min", "Zhang", False, id="latin"),
        pytest.param("Дарья", "Ковальчук", False, id="cyrillic"),
    ],
)
def test_family_first(first: str, last: str, expected: bool) -> None:
    assert all(s.family_first is expected for s in name_forms(first, last))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        pytest.param("Élodie", "Marchand", id="FC-01"),
        pytest.param("Ləman", "Tağızadə", id="FC-02-azerbaijani"),
        pytest.param("Дарья", "Ковальчук", id="FC-02-cyrillic"),
        pytest.param("Nora", "O'Keeffe", id="FC-05"),
        pytest.param("  -Jean--Luc- ", " .Perrin. ", id="stray-separators"),
        pytest.param("Anne‑Marie", "d'Estaing-Giscard", id="non-breaking-hyphen"),
        pytest.param("ﬁona", "½ Smith", id="ligature-and-fraction"),
        pytest.param("Ἀλέξανδρος", "Παπαδόπουλος", id="greek"),
        pytest.param("محمد", "العلي", id="arabic"),
        pytest.param("🙂", "\u200b\u00a0", id="emoji-and-invisible"),
    ],
)
def test_every_form_is_ascii_alphanumeric_runs(first: str, last: str) -> None:
    for spelling in name_forms(first, last, "example.com"):
        for form in (*spelling.firsts, *spelling.lasts):
            assert FORM.fullmatch(form), form
        for initial in (*spelling.first_initials, *spelling.last_initials):
            assert re.fullmatch(r"[a-z0-9]+", initial), initial


def test_no_letters_gives_one_empty_spelling() -> None:
    assert name_forms("???", "—", "example.com") == (NameForms(),)


# -- middle initials (issue 8 §3) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Daniel J.", "Moreau"),
        ("Daniel J", "Moreau"),
        ("Daniel", "J. Moreau"),
        ("Daniel", "J Moreau"),
    ],
)
def test_a_middle_initial_is_kept_apart_from_the_name(first: str, last: str) -> None:
    forms = name_forms(first, last)[0]
    assert forms.firsts == ("daniel",)
    assert forms.lasts == ("moreau",)
    assert forms.middle_initials == ("j",)
    assert forms.middle_given


def test_a_second_given_name_lends_its_initial_but_stays_in_the_name() -> None:
    forms = name_forms("Mary Ann", "Smith")[0]
    assert forms.firsts == ("maryann", "mary")
    assert forms.middle_initials == ("a",)
    assert not forms.middle_given


@pytest.mark.parametrize(
    ("first", "last"), [("J. R.", "Smith"), ("Alex", "Johnson"), ("J.", "Doe")]
)
def test_names_without_a_middle_have_none(first: str, last: str) -> None:
    assert name_forms(first, last)[0].middle_initials == ()


@pytest.mark.parametrize(
    ("local", "first", "last", "fit"),
    [
        # a colleague's address tied to the wrong row (issue 8 field runs)
        ("pauline.ndiaye", "Gaëlle", "Bélanger", "other"),
        ("francois.ndiaye", "Franziska", "Özdemir", "other"),
        ("pauline.ndiaye", "Li", "Wu", "other"),  # a two-letter name is a word, not a substring
        ("gaelle.belanger", "Gaëlle", "Bélanger", "fits"),
        ("ameliem", "Amélie", "Mercier", "fits"),
        ("jsmith", "John", "Smith", "fits"),
        ("smithj", "John", "Smith", "fits"),
        ("jwu", "Jia", "Wu", "fits"),
        ("j.doe", "Jane", "Doe", "fits"),
        ("chris.olsen", "Christopher", "Olsen", "fits"),
        ("juergen.vonfalkenberg", "Jürgen F.", "von Falkenberg", "fits"),
        ("m.ndiaye", "Margaux", "N'Diaye", "fits"),
        ("bob", "Robert", "Smith", "unclear"),  # a nickname, or somebody else's
    ],
)
def test_local_part_fit(local: str, first: str, last: str, fit: str) -> None:
    assert local_part_fit(local, first, last) == fit


def test_the_ascii_shortcut_spells_every_ascii_text_as_the_general_path_does() -> None:
    """``_plain_ascii`` (most names) must give what NFC, the umlaut and Cyrillic tables,
    the symbol split and anyascii give for the same ASCII text: random printable strings with
    the characters the rules act on (apostrophes, brackets, quotes, symbols, hyphens)."""
    rng = random.Random(9)
    alphabet = string.printable[:95] + "  ''--..()\"[]`"
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        for umlauts, icao in ((True, True), (False, False)):
            assert names._plain_ascii(text) == names._transliterated(text, umlauts, icao), text
