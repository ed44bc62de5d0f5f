"""People's names on pages (``leadsonar.domains.extract.names``): headings in capitals, the
catalogue order, middle initials, and names that are not people."""

from __future__ import annotations

import pytest

from leadsonar.domains.extract import (
    distinct_people,
    find_names,
    name_score,
    same_person,
    split_name,
)


@pytest.mark.parametrize(
    ("text", "right"),
    [
        ("ANNA ROTH", ["ANNA ROTH"]),  # a card heading in capitals, alone on its line
        ("Sales\nMARIE DUPONT\nDirectrice", ["MARIE DUPONT"]),
        ("Contact ANNA ROTH today", []),  # capitals inside a sentence are shouting, not names
        ("OUR TEAM", []),
        ("Daniel J. Moreau", ["Daniel J. Moreau"]),
        ("Li Wagner · Li Kowalczyk", ["Li Wagner", "Li Kowalczyk"]),
    ],
)
def test_find_names(text: str, right: list[str]) -> None:
    assert [name for name, _, _ in find_names(text)] == right


@pytest.mark.parametrize(
    ("name", "right"),
    [
        ("Berg, Hanna", ("Hanna", "Berg")),
        ("Moreau, Daniel J.", ("Daniel J.", "Moreau")),
        ("ANNA ROTH", ("ANNA", "ROTH")),
        ("Daniel J. Moreau", ("Daniel J.", "Moreau")),
        ("Dr. Hanna Berg", ("Hanna", "Berg")),
    ],
)
def test_split_name(name: str, right: tuple[str, str]) -> None:
    assert split_name(name) == right


def test_namesakes_by_given_name_never_match() -> None:
    """ "Li Wagner"'s number is never "Li Kowalczyk"'s: the surname must be the same word."""
    assert name_score("Li", "Kowalczyk", "Li Wagner") == 0.0
    assert name_score("Li", "Kowalczyk", "Li Kowalczyk") == 100.0
    assert name_score("Anna", "Roth", "ANNA ROTH") == 100.0


def test_same_person_across_spellings_but_not_namesakes() -> None:
    assert same_person("Li Wagner", "Dr. Li WAGNER")
    assert same_person("WAGNER Li", "Li Wagner")
    assert not same_person("Li Wagner", "Li Kowalczyk")
    assert distinct_people(["Li Wagner", "Dr. Li Wagner", "Li Kowalczyk"]) == [
        "Li Wagner",
        "Li Kowalczyk",
    ]


def test_a_middle_initial_is_not_a_given_name() -> None:
    """ "Sue K. Silva" is not Karl Silva; "J. Großmann" may be Jörg Großmann."""
    assert name_score("Karl", "Silva", "Sue K. Silva") == 0.0
    assert name_score("Sue", "Silva", "Sue K. Silva") == 100.0
    assert name_score("Jörg", "Großmann", "J. Großmann") > 0
