"""Who a company's website lists: the prober's check that an address is the person's.

A mail server says whether a mailbox exists, not whose it is. When the company's site lists its
team, the list answers the rest (issue 8 §3–4): an address another listed person's name maps to
(``jsmith@`` and a listed Jane Smith) is probably theirs, and on a catch-all domain, where
nothing is verified, a person the team page does not name should not get more than ``low``.

The prober asks through the small :class:`Roster` protocol; :class:`SiteRoster` answers from the
website provider's crawl (the same crawl the ``website`` provider answers from, shared per
domain). The crawl's listed people are read from ``SiteCrawl.people`` when the crawler exposes
them, else from the names standing with published addresses and numbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from leadsonar.domains.candidates import render
from leadsonar.domains.extract import NAME_MATCH_THRESHOLD, name_score, split_name
from leadsonar.domains.knowledge import Learned
from leadsonar.domains.names import name_forms
from leadsonar.providers.base import Person

MIN_LISTED = 3  # named people a site must show before it counts as listing its team
# A one-letter word in a name: an explicit middle initial (a two-word given name is not one).
_MIDDLE_HINT = re.compile(r"(?:^|\s)\w\.?(?:\s|$)")


@dataclass(frozen=True)
class ListedPeople:
    """The people a company's site names.

    Attributes:
        names: ``(first, last)`` of each person, as written on the site.
        team_page: the crawl found a page that lists the team (``SiteCrawl.team_page``: a
            people page linked as team/people/contacts naming two or more, or any page naming
            several), however few it names.
        team: the site lists its team (a team page, or at least :data:`MIN_LISTED` people
            named anywhere), so someone it does not name is less likely to work there.
    """

    names: tuple[tuple[str, str], ...]
    team_page: bool = False

    @property
    def team(self) -> bool:
        return self.team_page or len(self.names) >= MIN_LISTED

    def lists(self, person: Person) -> bool:
        """Whether the site names ``person`` (same folded surname and given name or initial,
        and the same middle initial when both show one)."""
        return bool(self._matches(person))

    def others_at(self, person: Person, local_part: str, pattern: str) -> list[str]:
        """Listed people other than ``person`` whose name makes ``local_part`` under
        ``pattern`` (``["Jane Smith"]`` for ``jsmith``/``flast`` when John Smith is asked;
        ``["Daniel Moreau"]`` for ``daniel.moreau`` when Daniel J. Moreau is asked and the
        site lists both)."""
        mine = set(self._matches(person))
        plain = not _middle(person.first_name, person.last_name)
        return [
            f"{first} {last}"
            for first, last in self.names
            if (first, last) not in mine
            # a listed middle-initial namesake of a plain query has a middle-initial address
            and not (plain and _middle(first, last) and self._named(person, first, last))
            and local_part in render(pattern, first, last)
        ]

    @staticmethod
    def _named(person: Person, first: str, last: str) -> bool:
        score = name_score(person.first_name, person.last_name, f"{first} {last}")
        return score >= NAME_MATCH_THRESHOLD

    def _matches(self, person: Person) -> list[tuple[str, str]]:
        """The listed names that are ``person``: by name, then by middle initial when the
        query or the names carry one (``Daniel J. Moreau`` is not a listed ``Daniel K.
        Moreau``, and not a listed ``Daniel Moreau`` beside a listed ``Daniel J. Moreau``)."""
        named = [(first, last) for first, last in self.names if self._named(person, first, last)]
        wanted = _middle(person.first_name, person.last_name)
        if not wanted:
            plain = [n for n in named if not _middle(*n)]
            return plain or named
        same = [n for n in named if _middle(*n) == wanted]
        return same or [n for n in named if not _middle(*n)]


def _middle(first: str, last: str) -> tuple[str, ...]:
    return (
        name_forms(first, last)[0].middle_initials if _MIDDLE_HINT.search(f"{first} {last}") else ()
    )


class Roster(Protocol):
    """Where the prober learns who a company lists."""

    async def listed_people(
        self, domain: str, *, complete: bool = True, learned: Learned | None = None
    ) -> ListedPeople | None:
        """The people ``domain``'s site names, or ``None`` when it could not be read or names
        nobody. ``complete=False``: as soon as the pages that name people are read, before
        the rest of the crawl (whose published addresses teach the domain's pattern).
        ``learned``: the lookup's ``ctx.learned``, handed what a crawl it waits for learned
        (the pattern its addresses teach, seen at once by the lookup's next steps). Never
        raises for the site's failures."""
        ...


class SiteCrawls(Protocol):
    """What :class:`SiteRoster` needs of the website provider."""

    async def site(self, domain: str) -> Any:
        """The domain's whole crawl (the website provider's also takes ``learned``)."""
        ...


def _names(site: Any) -> Iterable[str]:
    people = getattr(site, "people", None) or getattr(site, "names", None)
    if people:
        for entry in people:
            name = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(name, str):
                yield name
        return
    for entry in list(getattr(site, "emails", [])) + list(getattr(site, "phones", [])):
        if entry.get("owner"):
            yield str(entry["owner"])


def listed_from_site(site: Any) -> ListedPeople | None:
    """The :class:`ListedPeople` of one crawl (``None`` when it names nobody)."""
    seen: dict[str, tuple[str, str]] = {}
    for name in _names(site):
        parts = split_name(name)
        if parts:
            key = unicodedata.normalize("NFKC", " ".join(parts)).casefold()
            seen.setdefault(key, parts)
    team_page = bool(getattr(site, "team_page", None))
    return ListedPeople(tuple(seen.values()), team_page=team_page) if seen else None


class SiteRoster:
    """:class:`Roster` from the website provider's crawl of the domain (crawled once, shared).

    Args:
        crawls: the ``website`` provider (anything with ``async site(domain)``).
    """

    def __init__(self, crawls: SiteCrawls) -> None:
        self.crawls = crawls

    async def listed_people(
        self, domain: str, *, complete: bool = True, learned: Learned | None = None
    ) -> ListedPeople | None:
        people = getattr(self.crawls, "people", None)
        try:
            if not complete and people is not None:
                site = await people(domain)
            elif learned is not None:
                site = await cast(Any, self.crawls).site(domain, learned)
            else:
                site = await self.crawls.site(domain)
        except Exception:  # the site's trouble is the website provider's to report
            return None
        return listed_from_site(site)
