"""Address patterns, candidate generation and pattern inference (field cases FC-01..FC-06, FC-13).

The rules live in :mod:`leadsonar.domains.candidates`; rows name the field case they pin.
"""

from __future__ import annotations

import re

import pytest
from email_validator import validate_email

from leadsonar.domains.candidates import (
    PATTERNS,
    Candidate,
    generate_candidates,
    infer_patterns,
    infer_umlaut_style,
    is_role_local_part,
    render,
)

LOCAL_PART = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$")


def _locals(first: str, last: str, domain: str, limit: int | None = None) -> list[str]:
    return [c.local_part for c in generate_candidates(first, last, domain, limit=limit)]


def test_patterns_global_order() -> None:
    assert PATTERNS[:11] == (
        "first.last",
        "first",
        "flast",
        "firstlast",
        "f.last",
        "first_last",
        "firstl",
        "last",
        "last.first",
        "lastf",
        "first-last",
    )
    assert len(set(PATTERNS)) == len(PATTERNS)


@pytest.mark.parametrize(
    ("pattern", "first", "last", "domain", "expected"),
    [
        pytest.param("first.last", "John", "Doe", None, ["john.doe"], id="first.last"),
        pytest.param("first", "John", "Doe", None, ["john"], id="first"),
        pytest.param("flast", "John", "Doe", None, ["jdoe"], id="flast"),
        pytest.param("firstlast", "John", "Doe", None, ["johndoe"], id="firstlast"),
        pytest.param("f.last", "John", "Doe", None, ["j.doe"], id="f.last"),
        pytest.param("first_last", "John", "Doe", None, ["john_doe"], id="first_last"),
        pytest.param("firstl", "John", "Doe", None, ["johnd"], id="firstl"),
        pytest.param("last", "John", "Doe", None, ["doe"], id="last"),
        pytest.param("last.first", "John", "Doe", None, ["doe.john"], id="last.first"),
        pytest.param("lastf", "John", "Doe", None, ["doej"], id="lastf"),
        pytest.param("first-last", "John", "Doe", None, ["john-doe"], id="first-last"),
        pytest.param("lastfirst", "John", "Doe", None, ["doejohn"], id="lastfirst"),
        pytest.param("first.l", "John", "Doe", None, ["john.d"], id="first.l"),
        pytest.param(
            "first.last",
            "Jörg",
            "Großmann",
            "example.de",
            ["joerg.grossmann", "jorg.grossmann"],
            id="FC-03-de",
        ),
        pytest.param(
            "first.last",
            "Jörg",
            "Großmann",
            "example.com",
            ["jorg.grossmann", "joerg.grossmann"],
            id="FC-03-com",
        ),
        pytest.param(
            "first.last",
            "Jean-Luc",
            "Perrin",
            None,
            ["jeanluc.perrin", "jean-luc.perrin", "jean.perrin"],
            id="FC-05-dot",
        ),
        pytest.param(
            "firstlast",
            "Jean-Luc",
            "Perrin",
            None,
            ["jeanlucperrin", "jeanperrin"],
            id="FC-05-no-hyphen-without-separator",
        ),
        pytest.param(
            "first_last",
            "Jean-Luc",
            "Perrin",
            None,
            ["jeanluc_perrin", "jean_perrin"],
            id="FC-05-no-hyphen-next-to-underscore",
        ),
        pytest.param(
            "first",
            "Jean-Luc",
            "Perrin",
            None,
            ["jeanluc", "jean-luc", "jean"],
            id="FC-05-hyphen-alone",
        ),
        pytest.param(
            "flast", "Jean-Luc", "Perrin", None, ["jlperrin", "jperrin"], id="FC-05-initials"
        ),
        pytest.param(
            "first.last",
            "Inés",
            "Navarro Quintero",
            "example.es",
            ["ines.navarro", "ines.navarroquintero", "ines.navarro.quintero"],
            id="FC-06-dot",
        ),
        pytest.param(
            "first_last",
            "Inés",
            "Navarro Quintero",
            "example.es",
            ["ines_navarro", "ines_navarroquintero"],
            id="FC-06-dotted-form-only-with-dot",
        ),
        pytest.param(
            "first.last",
            "Jean-Luc",
            "Navarro Quintero",
            None,
            [
                "jeanluc.navarro",
                "jeanluc.navarroquintero",
                "jean-luc.navarro",
                "jeanluc.navarro.quintero",
                "jean-luc.navarroquintero",
                "jean.navarro",
                "jean-luc.navarro.quintero",
                "jean.navarroquintero",
                "jean.navarro.quintero",
            ],
            id="combinations-by-summed-rank",
        ),
        pytest.param("first.last", "Lena", "", None, [], id="FC-13-empty-surname"),
        pytest.param("last.first", "Lena", "B.", None, [], id="FC-13-one-letter-surname"),
        pytest.param("first.l", "Lena", "B.", None, ["lena.b"], id="FC-13-initial-fills-l"),
        pytest.param("l.first", "John", "Doe", None, ["d.john"], id="any-recipe-renders"),
    ],
)
def test_render(
    pattern: str, first: str, last: str, domain: str | None, expected: list[str]
) -> None:
    assert render(pattern, first, last, domain) == expected


@pytest.mark.parametrize("pattern", ["", "x", "first..last", "first.last.", "first.last_f", "nme"])
def test_render_rejects_unknown_recipes(pattern: str) -> None:
    with pytest.raises(ValueError, match="not an address pattern"):
        render(pattern, "John", "Doe")


def test_generate_john_doe_global_order() -> None:
    assert generate_candidates("John", "Doe", "example.com") == [
        Candidate("john.doe", "first.last"),
        Candidate("john", "first"),
        Candidate("jdoe", "flast"),
        Candidate("johndoe", "firstlast"),
        Candidate("j.doe", "f.last"),
        Candidate("john_doe", "first_last"),
        Candidate("johnd", "firstl"),
        Candidate("doe", "last"),
        Candidate("doe.john", "last.first"),
        Candidate("doej", "lastf"),
        Candidate("john-doe", "first-last"),
        Candidate("doejohn", "lastfirst"),
        Candidate("john.d", "first.l"),
    ]


@pytest.mark.parametrize(
    ("first", "last", "domain", "expected_prefix"),
    [
        pytest.param(
            "Élodie",
            "Marchand",
            "example.fr",
            ["elodie.marchand", "elodie", "emarchand"],
            id="FC-01-elodie",
        ),
        pytest.param(
            "Łukasz", "Nowak", "example.pl", ["lukasz.nowak", "lukasz", "lnowak"], id="FC-01-lukasz"
        ),
        pytest.param(
            "Søren", "Dahl", "example.dk", ["soren.dahl", "soren", "sdahl"], id="FC-01-soren"
        ),
        pytest.param(
            "Ləman",
            "Tağızadə",
            "example.az",
            ["leman.tagizade", "leman", "ltagizade"],
            id="FC-02-azerbaijani",
        ),
        pytest.param(
            "敏",
            "张",
            "example.cn",
            ["min.zhang", "zhang.min", "min", "mzhang", "minzhang", "zhangmin"],
            id="FC-02-han-family-first-twins-promoted",
        ),
        pytest.param(
            "Дарья",
            "Ковальчук",
            "example.ru",
            [
                "daria.kovalchuk",
                "daria",
                "dkovalchuk",
                "dariakovalchuk",
                "darya.kovalchuk",
                "darya",
                "daryakovalchuk",
                "d.kovalchuk",
            ],
            id="FC-02-cyrillic-variant-after-head",
        ),
        pytest.param(
            "Jörg",
            "Großmann",
            "example.de",
            [
                "joerg.grossmann",
                "joerg",
                "jgrossmann",
                "joerggrossmann",
                "jorg.grossmann",
                "jorg",
                "jorggrossmann",
                "j.grossmann",
            ],
            id="FC-03-de",
        ),
        pytest.param(
            "Anna",
            "Söderström",
            "example.fi",
            [
                "anna.soderstrom",
                "anna",
                "asoderstrom",
                "annasoderstrom",
                "anna.soederstroem",
                "asoederstroem",
                "annasoederstroem",
            ],
            id="FC-03-fi",
        ),
        pytest.param(
            "Nora",
            "O'Keeffe",
            "example.ie",
            ["nora.okeeffe", "nora", "nokeeffe"],
            id="FC-05-apostrophe",
        ),
        pytest.param(
            "Nora",
            "O’Keeffe",
            "example.ie",
            ["nora.okeeffe", "nora", "nokeeffe"],
            id="FC-05-right-quote",
        ),
        pytest.param(
            "Jean-Luc",
            "Perrin",
            "example.fr",
            [
                "jeanluc.perrin",
                "jean-luc.perrin",
                "jean.perrin",
                "jeanluc",
                "jean-luc",
                "jean",
                "jlperrin",
                "jperrin",
            ],
            id="FC-05-jean-luc",
        ),
        pytest.param(
            "Inés",
            "Navarro Quintero",
            "example.es",
            ["ines.navarro", "ines.navarroquintero", "ines.navarro.quintero", "ines", "inavarro"],
            id="FC-06",
        ),
        pytest.param("Lena", "", "example.com", ["lena"], id="FC-13-empty-surname"),
        pytest.param(
            "Lena", "B.", "example.com", ["lena", "lenab", "lena.b"], id="FC-13-one-letter-surname"
        ),
        pytest.param("", "Smith", "example.com", ["smith"], id="empty-first-name"),
        pytest.param(
            "J.",
            "Doe",
            "example.com",
            ["jdoe", "j.doe", "doe", "doej"],
            id="initial-only-first-name",
        ),
    ],
)
def test_generate_order(first: str, last: str, domain: str, expected_prefix: list[str]) -> None:
    assert _locals(first, last, domain)[: len(expected_prefix)] == expected_prefix


@pytest.mark.parametrize(
    ("first", "last", "domain", "present", "absent"),
    [
        pytest.param(
            "Jean-Luc",
            "Perrin",
            "example.fr",
            {"jeanluc.perrin", "jean-luc.perrin", "jlperrin", "jperrin"},
            {"luc.perrin", "lperrin", "luc", "jean-lucperrin", "jean-luc_perrin"},
            id="FC-05-one-person",
        ),
        pytest.param(
            "Nora",
            "O'Keeffe",
            "example.ie",
            {"nora.okeeffe", "nokeeffe"},
            {"nora.o.keeffe", "o.keeffe", "nora.keeffe"},
            id="FC-05-no-split",
        ),
        pytest.param(
            "Élodie",
            "Marchand",
            "example.fr",
            {"elodie.marchand"},
            {"lodie.marchand"},
            id="FC-01-no-deletion",
        ),
        pytest.param(
            "Дарья",
            "Ковальчук",
            "example.ru",
            {"daria.kovalchuk", "darya.kovalchuk"},
            {"dar.ya.kovalchuk", "dar-ya.kovalchuk", "koval.chuk"},
            id="FC-02-no-soft-sign-separator",
        ),
        pytest.param(
            "Inés",
            "Navarro Quintero",
            "example.es",
            {"ines.navarro.quintero"},
            {"ines_navarro.quintero", "inesnavarro.quintero"},
            id="FC-06-dotted-form-only-in-dot-patterns",
        ),
        pytest.param(
            "Steve",
            "Jobs",
            "example.com",
            {"steve.jobs", "steve"},
            {"jobs"},
            id="role-local-part-never-a-candidate",
        ),
    ],
)
def test_generate_present_and_absent(
    first: str, last: str, domain: str, present: set[str], absent: set[str]
) -> None:
    local_parts = set(_locals(first, last, domain))
    assert present <= local_parts
    assert not absent & local_parts


@pytest.mark.parametrize(
    ("first", "last"),
    [
        pytest.param("Lena", "", id="FC-13-empty-surname"),
        pytest.param("Lena", "B", id="FC-13-one-letter-surname"),
        pytest.param("Lena", ".", id="FC-13-dot-surname"),
        pytest.param("", "Lena", id="FC-13-empty-first"),
        pytest.param(" .Lena. ", "  -  ", id="FC-13-stray-separators"),
        pytest.param("Jean-Luc", "Navarro-Quintero de la Vega", id="many-parts"),
        pytest.param("Ἀλέξανδρος", "Παπαδόπουλος", id="greek"),
        pytest.param("🙂", "\u200b", id="no-letters"),
    ],
)
def test_generate_local_parts_are_well_formed(first: str, last: str) -> None:
    """FC-13: never ``lena.``, ``.lena``, ``le..na`` or a separator at either end."""
    candidates = generate_candidates(first, last, "example.com")
    local_parts = [c.local_part for c in candidates]
    assert len(local_parts) == len(set(local_parts))
    for candidate in candidates:
        local_part = candidate.local_part
        assert LOCAL_PART.match(local_part), local_part
        assert ".." not in local_part
        assert candidate.pattern in PATTERNS
        validate_email(f"{local_part}@example.com", check_deliverability=False)


def test_generate_no_letters_gives_nothing() -> None:
    assert generate_candidates("🙂", "!!", "example.com") == []


def test_generate_dedupes_keeping_the_earlier_pattern() -> None:
    # Ann Ann: "ann" is both first and last, "ann.ann" both first.last and last.first.
    assert generate_candidates("Ann", "Ann", "example.com") == [
        Candidate("ann.ann", "first.last"),
        Candidate("ann", "first"),
        Candidate("aann", "flast"),
        Candidate("annann", "firstlast"),
        Candidate("a.ann", "f.last"),
        Candidate("ann_ann", "first_last"),
        Candidate("anna", "firstl"),
        Candidate("ann-ann", "first-last"),
        Candidate("ann.a", "first.l"),
    ]


def test_generate_preferred_patterns_first_with_all_spellings() -> None:
    candidates = generate_candidates(
        "Jörg", "Großmann", "example.de", preferred=["flast", "nope", "first.last", "flast"]
    )
    assert candidates[:5] == [
        Candidate("jgrossmann", "flast"),
        Candidate("joerg.grossmann", "first.last"),
        Candidate("jorg.grossmann", "first.last"),
        Candidate("joerg", "first"),
        Candidate("joerggrossmann", "firstlast"),
    ]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(0, [], id="zero"),
        pytest.param(2, ["john.doe", "john"], id="two"),
        pytest.param(None, 13, id="none-is-all"),
    ],
)
def test_generate_limit(limit: int | None, expected: list[str] | int) -> None:
    local_parts = _locals("John", "Doe", "example.com", limit=limit)
    if isinstance(expected, int):
        assert len(local_parts) == expected
    else:
        assert local_parts == expected


def test_generate_negative_limit_is_an_error() -> None:
    with pytest.raises(ValueError, match="limit"):
        generate_candidates("John", "Doe", "example.com", limit=-1)


@pytest.mark.parametrize(
    ("local_part", "first", "last", "expected"),
    [
        pytest.param("jdoe", "John", "Doe", ["flast"], id="flast"),
        pytest.param("john", "John", "Doe", ["first"], id="first"),
        pytest.param("x123", "John", "Doe", [], id="no-match"),
        pytest.param("", "John", "Doe", [], id="empty"),
        pytest.param("John.Doe", "John", "Doe", ["first.last"], id="case-ignored"),
        pytest.param("jdoe+news", "John", "Doe", ["flast"], id="subaddress-ignored"),
        pytest.param("j.doe", "J.", "Doe", ["f.last"], id="initial-only-first-name"),
        pytest.param("doe", "John", "Doe", ["last"], id="last"),
        pytest.param("joerg.grossmann", "Jörg", "Großmann", ["first.last"], id="FC-03-oe"),
        pytest.param("jorg.grossmann", "Jörg", "Großmann", ["first.last"], id="FC-03-plain"),
        pytest.param("darya.kovalchuk", "Дарья", "Ковальчук", ["first.last"], id="FC-02-variant"),
        pytest.param("zhang.min", "敏", "张", ["last.first"], id="FC-02-family-first"),
        pytest.param("jean-luc.perrin", "Jean-Luc", "Perrin", ["first.last"], id="FC-05-hyphen"),
        pytest.param("jlperrin", "Jean-Luc", "Perrin", ["flast"], id="FC-05-initials"),
        pytest.param("nokeeffe", "Nora", "O'Keeffe", ["flast"], id="FC-05-apostrophe"),
        pytest.param(
            "ines.navarro.quintero", "Inés", "Navarro Quintero", ["first.last"], id="FC-06-dotted"
        ),
        pytest.param("jdoe", "Jane", "Doe", ["flast"], id="ambiguous-people-same-answer"),
    ],
)
def test_infer_patterns(local_part: str, first: str, last: str, expected: list[str]) -> None:
    assert infer_patterns(local_part, first, last) == expected


@pytest.mark.parametrize(
    ("first", "last"),
    [("John", "Doe"), ("Jörg", "Großmann"), ("Jean-Luc", "Perrin"), ("敏", "张")],
)
def test_infer_patterns_recovers_every_generated_pattern(first: str, last: str) -> None:
    for candidate in generate_candidates(first, last, "example.com"):
        assert candidate.pattern in infer_patterns(candidate.local_part, first, last)


@pytest.mark.parametrize(
    ("local_part", "expected"),
    [
        ("info", True),
        ("Sales", True),
        ("support", True),
        ("contact", True),
        ("admin", True),
        ("office", True),
        ("hello", True),
        ("team", True),
        ("hr", True),
        ("jobs", True),
        ("careers", True),
        ("billing", True),
        ("noreply", True),
        ("no-reply", True),
        ("no_reply", True),
        ("postmaster", True),
        ("abuse", True),
        ("webmaster", True),
        ("marketing", True),
        ("press", True),
        ("privacy", True),
        ("vertrieb", True),
        ("kontakt", True),
        ("MAILER-DAEMON", True),
        ("do-not-reply", True),
        ("info2", True),
        ("info+de", True),
        ("sales.de", True),
        ("support-emea", True),
        ("john.doe", False),
        ("jdoe", False),
        ("mark", False),
        ("doe.sales", False),
        ("", False),
    ],
)
def test_is_role_local_part(local_part: str, expected: bool) -> None:
    assert is_role_local_part(local_part) is expected


@pytest.mark.parametrize(
    ("local_part", "first", "last", "style"),
    [
        ("mschroeder", "Moritz", "Schröder", True),
        ("moritz.schroder", "Moritz", "Schröder", False),
        ("jkoehler", "Jörg", "Köhler", True),
        ("msmith", "Mark", "Smith", None),  # no umlaut: says nothing
        ("x123", "Jörg", "Köhler", None),  # no pattern fits: says nothing
    ],
)
def test_umlaut_style_is_read_from_a_known_address(
    local_part: str, first: str, last: str, style: bool | None
) -> None:
    assert infer_umlaut_style(local_part, first, last) is style


def test_a_learned_umlaut_style_beats_the_tld() -> None:
    """FC-03's TLD rule is only the default: a non-German TLD whose addresses spell umlauts
    out gets the ``oe`` form first."""
    plain = generate_candidates("Jörg", "Köhler", "firma.test", preferred=["flast"])
    learned = generate_candidates(
        "Jörg", "Köhler", "firma.test", preferred=["flast"], umlauts_first=True
    )
    assert plain[0].local_part == "jkohler"
    assert learned[0].local_part == "jkoehler"


# -- middle initials (issue 8 §3) -------------------------------------------------------------


def test_a_written_middle_initial_puts_the_middle_initial_forms_first() -> None:
    locals_ = [c.local_part for c in generate_candidates("Daniel J.", "Moreau", "x.com", limit=6)]
    assert locals_[:3] == ["daniel.j.moreau", "djmoreau", "danieljmoreau"]
    assert "daniel.moreau" in locals_[3:]


def test_a_learned_pattern_leads_the_middle_initial_forms_too() -> None:
    found = generate_candidates("Daniel", "J. Moreau", "x.com", preferred=["flast"], limit=4)
    assert [c.local_part for c in found[:2]] == ["djmoreau", "daniel.j.moreau"]
    assert found[0].pattern == "fmlast"


def test_a_double_given_name_tries_one_middle_form_after_the_head() -> None:
    found = [c.local_part for c in generate_candidates("Sarah Kate", "Miller", "x.com")]
    assert found.index("sarah.k.miller") > found.index("sarahmiller")
    assert "skkmiller" not in found and "sarahkate.k.miller" not in found


def test_a_middle_initial_address_teaches_its_plain_pattern() -> None:
    assert infer_patterns("daniel.j.moreau", "Daniel J.", "Moreau") == ["first.last"]
    assert infer_patterns("djmoreau", "Daniel", "J. Moreau") == ["flast"]


def test_middle_forms_follow_the_patterns_family() -> None:
    # f.last gives the middle initial glued to the leading initial or dotted (issue 8: a
    # Sabine S. Neumann beside a colleague's s.neumann@ has ss.neumann@ or s.s.neumann@).
    assert render("fm.last", "Sabine S.", "Neumann") == ["ss.neumann"]
    assert render("f.m.last", "Sabine S.", "Neumann") == ["s.s.neumann"]
    assert render("lastfm", "Daniel J.", "Moreau") == ["moreaudj"]
    assert render("first.m.l", "Daniel J.", "Moreau") == ["daniel.j.m"]
    found = generate_candidates("Sabine S.", "Neumann", "x.com", preferred=["f.last"], limit=3)
    assert [(c.local_part, c.pattern) for c in found[:2]] == [
        ("ss.neumann", "fm.last"),
        ("s.s.neumann", "f.m.last"),
    ]
    assert infer_patterns("ss.neumann", "Sabine S.", "Neumann") == ["f.last"]
    assert infer_patterns("s.s.neumann", "Sabine", "S. Neumann") == ["f.last"]


@pytest.mark.parametrize("pattern", ["firstm.last", "first.m_last", "f.m_last"])
def test_only_initials_are_glued_inside_a_separated_pattern(pattern: str) -> None:
    with pytest.raises(ValueError):
        render(pattern, "Daniel J.", "Moreau")
