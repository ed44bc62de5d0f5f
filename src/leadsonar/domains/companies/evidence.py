"""Does a website belong to a company? Evidence read from its home page and legal notice.

A domain that resolves proves nothing: decoys resolve too (parked domains, a bakery that owns
``northwind.com`` while Northwind Security Inc. uses ``northwindhq.com``). Each site is judged
on what it says about who runs it.

A page is rejected when it says it is parked, for sale or coming soon (:data:`PARKED`), when
its title or site name uses the company's first word for another business (``Northwind
Bakery`` for ``Northwind Security Inc.``), or when it (or its legal notice) names another
legal entity with that word and never the company (``Vireo Bakery LLC``). Otherwise evidence
adds up, so that a site naming the company in several places beats a namesake's that names it
once:

- a part of the ``<title>`` (split at ``|``, `` - ``, ``–`` …) or ``og:site_name`` is the
  company's name (:func:`title_score`): :data:`TITLE_FULL`; or only a shorter name
  (``Northwind``; :func:`short_name_in_title`): :data:`TITLE_SHORT`;
- the home page's text names the company (:func:`names_company`: its words in a row; a
  one-word name only with its legal form): :data:`TEXT`;
- the legal notice (or about page) linked from the home page names it: :data:`LEGAL_NOTICE`,
  read unless the title and the text already both name the company.

Legal notices are required by law in Germany (§ 5 DDG, "Impressum") and France (LCEN art. 6,
"mentions légales") and name the legal entity with its legal form, which makes them the
strongest evidence short of the title.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from rapidfuzz import fuzz

from leadsonar.domains.companies.names import (
    DESCRIPTORS,
    LEGAL_FORMS,
    STRUCTURE_WORDS,
    company_key,
    core_forms,
    core_key,
    name_tokens,
    split_legal_form,
)

TITLE_MATCH_THRESHOLD = 85.0
TITLE_FULL = 60.0
TITLE_SHORT = 40.0
TEXT = 40.0
LEGAL_NOTICE = 45.0
NAMED = TITLE_FULL  # a site named at least this well ends the search of company sources

PARKED = re.compile(
    r"for\s+sale|parked|coming\s+soon|buy\s+this\s+domain|domain\s+(?:name\s+)?is\b"
    r"|under\s+construction|zu\s+verkaufen|à\s+vendre|a\s+vendre|domain\s+parking"
    r"|this\s+domain\s+may\s+be|inquire\s+about\s+this\s+domain|make\s+an\s+offer"
    r"|domain\s+kaufen|domaine\s+est\s+(?:à|a)\s+vendre|sedo|afternic|hugedomains|dan\.com"
    r"|website\s+is\s+under|site\s+en\s+construction|im\s+aufbau",
    re.IGNORECASE,
)
# In a page's text only what a parking or for-sale page says about the domain itself counts: a
# real company's page may well say "coming soon" or "parked" about something else.
PARKED_TEXT = re.compile(
    r"domain\s+(?:name\s+)?(?:is|may\s+be)\s+for\s+sale|buy\s+this\s+domain"
    r"|inquire\s+about\s+this\s+domain|domain\s+parking|parked\s+(?:free|domain)"
    r"|this\s+domain\s+(?:is\s+)?parked|domain\s+kaufen|diese\s+domain\s+(?:steht|ist)"
    r"|domaine\s+est\s+(?:à|a)\s+vendre|sedo(?:parking)?\.com|afternic|hugedomains|dan\.com"
    r"|is\s+for\s+sale|(?:this|the)\s+domain\s+(?:name\s+)?(?:has\s+been|was|is)\s+registered"
    r"|domain\s+(?:name\s+)?is\s+available|related\s+searches|sponsored\s+listings"
    r"|domain\s+parked|is\s+parked|parked\s+(?:by|with|at|page)",
    re.IGNORECASE,
)
LEGAL_LINK = re.compile(
    r"impressum|imprint|mentions[\s_-]*l[ée]gales|legal[\s_-]*notice|legal|rechtliche"
    r"|informations[\s_-]*l[ée]gales|about|[üu]ber[\s_-]*uns|a[\s_-]*propos",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s[|–—:·•\-]\s|\s*[|–—·•»]\s*")
_DOMAIN_LIKE = re.compile(r"^(?:https?://)?(?:www\.)?[\w-]+(?:\.[\w-]+)+/?$", re.IGNORECASE)
# Words a title adds around a company's name without naming another business.
_PAGE_WORDS = frozenset(
    "home homepage welcome official site website startseite willkommen accueil bienvenue inicio "
    "to the at of app apps platform suite hub portal hq blog shop store".split()
)


class _HomeReader(HTMLParser):
    """Title, ``og:site_name``, visible text and links of one page (stdlib parser; only what
    company checks need)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.site_name: str | None = None
        self.text: list[str] = []
        self.links: list[tuple[str, str]] = []
        self._skip = 0
        self._in_title = False
        self._href: str | None = None
        self._link_text: list[str] = []
        self.headings: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "meta" and values.get("property", values.get("name", "")) == "og:site_name":
            self.site_name = values.get("content") or None
        elif tag == "a" and values.get("href"):
            self._href, self._link_text = values["href"], []
        elif tag == "h1":
            self._heading = []
        elif tag == "img" and values.get("alt") and self._heading is not None:
            self._heading.append(values["alt"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript", "template") and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._link_text).strip()))
            self._href = None
        elif tag == "h1" and self._heading is not None:
            self.headings.append(" ".join(" ".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title.append(data)
            return
        self.text.append(data)
        if self._href is not None:
            self._link_text.append(data.strip())
        if self._heading is not None:
            self._heading.append(data)


@dataclass
class HomePage:
    """What one page says about who runs it."""

    title: str | None
    site_name: str | None
    text: str
    links: list[tuple[str, str]] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)


def read_page(html: str, url: str) -> HomePage:
    """Parse ``html`` (fetched from ``url``) into a :class:`HomePage`; links are absolute."""
    reader = _HomeReader()
    try:
        reader.feed(html)
        reader.close()
    except (AssertionError, ValueError):  # HTMLParser on broken markup: keep what was read
        pass
    title = " ".join(" ".join(reader.title).split()) or None
    text = " ".join(" ".join(reader.text).split())
    links = [(urljoin(url, href), label) for href, label in reader.links]
    return HomePage(title, reader.site_name, text, links, [h for h in reader.headings if h][:3])


def _squeeze(key: str) -> str:
    return re.sub(r"[\s-]+", "", key)


def _title_parts(title: str | None, site_name: str | None) -> list[str]:
    parts = [site_name or ""]
    if title:
        parts += [*_SEPARATORS.split(title), title]
    return [p.strip() for p in parts if p and p.strip() and not _DOMAIN_LIKE.match(p.strip())]


def _part_words(part: str) -> list[str]:
    words = split_legal_form(part)[0]
    return [w for w in words if w not in _PAGE_WORDS] or words


def title_score(name: str, title: str | None, site_name: str | None) -> float:
    """How well a home page's ``og:site_name`` or a part of its ``<title>`` (split at ``|``,
    `` - ``, ``–``, ``:`` …) names the company: 0..100 on :func:`company_key` forms.

    A part that is just a domain name (``acmerobotics.io``) says nothing about who runs the
    site, and a page whose title says it is for sale, parked or coming soon is no company's
    site (0). A part must name the company exactly (case, accents, spaces, hyphens, legal forms
    and words such as "Home" or "Welcome to" aside): 100; anything else scores its rapidfuzz
    ratio capped below :data:`TITLE_MATCH_THRESHOLD` (``Strip`` is not ``Stripe``), so near
    names rank but never match.
    """
    target = company_key(name)
    if title and PARKED.search(title):
        return 0.0
    scores = []
    for part in _title_parts(title, site_name):
        words = _part_words(part)
        if _squeeze("".join(words)) == _squeeze(target):
            scores.append(100.0)
        else:
            ratio = fuzz.ratio(target, " ".join(words))
            scores.append(min(ratio, TITLE_MATCH_THRESHOLD - 1))
    return max(scores, default=0.0)


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def names_company(name: str, text: str) -> bool:
    """Whether ``text`` names the company: its words in a row (``Sonnenfeld Logistik``); a
    one-word name only followed by a legal form (``Acme GmbH``, ``Acme, Inc.``), since the word
    alone also appears on pages about other things."""
    words = split_legal_form(name)[0]
    tokens = name_tokens(text)
    if len(words) > 1:
        return _contains_run(tokens, words)
    if not words:
        return False
    word = words[0]
    return any(
        tokens[i] == word and i + 1 < len(tokens) and tokens[i + 1] in LEGAL_FORMS
        for i in range(len(tokens))
    )


def short_name_in_title(name: str, title: str | None, site_name: str | None) -> str | None:
    """The shorter name (:func:`core_forms`) the title or site name gives the company, if any."""
    forms = {_squeeze(form): form for form in core_forms(name)}
    full = split_legal_form(name)[0]
    ours = core_key(full)
    for part in _title_parts(title, site_name):
        words = _part_words(part)
        if forms.get(_squeeze("".join(words))):
            return part
        if ours and core_key(words) == ours:
            return part
        # the name's first word(s): "Pinecrest" for "Pinecrest Health Inc."
        if words and words == full[: len(words)] and len("".join(words)) >= 3:
            return part
        # the domain's spelling: "NorthwindHQ", "GetVireo"
        squeezed = _squeeze("".join(words))
        bare = re.sub(r"^(?:get|try|use)|(?:hq|app)$", "", squeezed)
        if bare != squeezed and (bare in forms or bare == _squeeze(company_key(name))):
            return part
    return None


def other_business(name: str, title: str | None, site_name: str | None) -> str | None:
    """A title part or site name that uses the company's first word but names another business
    (``Northwind Bakery`` for ``Northwind Security Inc.``; ``Notion Capital`` for ``Notion``)."""
    words = split_legal_form(name)[0]
    if not words:
        return None
    accepted = {_squeeze(company_key(name)), *(_squeeze(f) for f in core_forms(name))}
    first = words[0]
    parts = [p for p in _title_parts(title, site_name) if p != title] or _title_parts(title, None)
    for part in parts:
        part_words = _part_words(part)
        # a business name is short and starts with its own word: "Northwind Bakery", not the
        # tagline "Northwind keeps your network safe"
        if _contains_run(part_words, words) and len(words) > 1:
            continue  # "Northwind Security Platform" names the company
        if part_words[:1] == [first] and len(part_words) <= 3:
            if _squeeze("".join(part_words)) in accepted or part_words == words[: len(part_words)]:
                continue  # the name, or its first words ("Pinecrest" for "Pinecrest Health")
            theirs = [w for w in part_words if w not in words]
            ours = [w for w in words if w not in part_words]
            if all(w in STRUCTURE_WORDS for w in theirs):
                continue  # "Brightwave Group" for "Brightwave Holding AG"
            line_of_business = {w for w in DESCRIPTORS if w not in STRUCTURE_WORDS}
            swapped = any(w in line_of_business for w in theirs) and any(
                w in line_of_business for w in ours
            )
            if core_key(part_words) == core_key(words) and not swapped:
                continue  # "Vireo AI" for "Vireo Labs"
            return part  # "Northwind Bakery", "Northwind Analytics" for "Northwind Security"
    return None


@dataclass(frozen=True)
class SiteVerdict:
    """How strongly a site names the company.

    Attributes:
        score: 0..100 (see the module's table); ``None`` when the site is rejected.
        reason: a short sentence for users (``"notion.so's title names Notion"``).
    """

    score: float | None
    reason: str


def judge_home(name: str, domain: str, page: HomePage) -> SiteVerdict:
    """Judge a home page on its own (the legal notice is :func:`judge_legal_notice`).

    Returns:
        a verdict whose ``score`` is the sum of the title and text evidence (0 when nothing
        names the company), or ``None`` for a rejected site.
    """
    if (page.title and PARKED.search(page.title)) or (
        len(page.text) < 3000 and PARKED_TEXT.search(page.text)
    ):
        return SiteVerdict(None, f"{domain} is a parked or for-sale page")
    named_in_text = names_company(name, page.text)
    if not named_in_text:
        # "Vireo | Fresh bread" whose footer says "© Vireo Bakery LLC": the title's word is
        # another business's name
        other = other_legal_entity(name, page.text)
        if other:
            return SiteVerdict(None, f"{domain} names another company ({other})")
    score, said = 0.0, []
    if title_score(name, page.title, page.site_name) >= TITLE_MATCH_THRESHOLD:
        score += TITLE_FULL
        said.append(f"its {'site name' if page.site_name else 'title'} names {name}")
    else:
        other = other_business(name, page.title, page.site_name)
        if other and not named_in_text:
            return SiteVerdict(None, f"{domain} is the site of {other!r}, another business")
        short = short_name_in_title(name, page.title, page.site_name)
        heading = next(
            (
                h
                for h in page.headings
                if title_score(name, h, None) >= TITLE_MATCH_THRESHOLD
                or short_name_in_title(name, h, None)
            ),
            None,
        )
        if short:
            score += TITLE_SHORT
            said.append(f"its title names the company {short!r}")
        elif heading and not other_business(name, heading, None):
            score += TITLE_SHORT
            said.append(f"its main heading names the company {heading!r}")
    if named_in_text:
        score += TEXT
        said.append(f"its home page names {name}")
    if not said:
        return SiteVerdict(0.0, f"{domain}'s home page does not name {name}")
    return SiteVerdict(score, f"{domain}: " + ", ".join(said))


def site_pages(page: HomePage, domain: str, registrable: Callable[[str], str | None]) -> set[str]:
    """The distinct pages of ``domain`` itself the home page links to (paths other than
    ``/``), ``registrable`` giving a URL's registrable domain."""
    found = set()
    for url, _ in page.links:
        parsed = urlsplit(url)
        if (
            parsed.scheme in ("http", "https")
            and parsed.path.strip("/")
            and registrable(url) == domain
        ):
            found.add(parsed.path.rstrip("/"))
    return found


def legal_notice_links(page: HomePage, limit: int = 2) -> list[str]:
    """Links of a home page to its legal notice or about page, legal notices first."""
    found: list[tuple[int, str]] = []
    for url, label in page.links:
        if not url.startswith(("http://", "https://")):
            continue
        if LEGAL_LINK.search(label) or LEGAL_LINK.search(url.rsplit("/", 1)[-1] or url):
            about = re.search(r"about|[üu]ber|propos", label + url, re.IGNORECASE)
            found.append((1 if about else 0, url))
    ordered = [url for _, url in sorted(found, key=lambda f: f[0])]
    return list(dict.fromkeys(ordered))[:limit]


def other_legal_entity(name: str, text: str) -> str | None:
    """A legal entity the text names that starts with the company's first word but is another
    company (``Northwind Bäckerei GmbH`` for ``Northwind Security Inc.``), or ``None``."""
    words = split_legal_form(name)[0]
    if not words:
        return None
    tokens = name_tokens(text)
    for i, token in enumerate(tokens):
        if token != words[0]:
            continue
        for j in range(i + 1, min(i + 5, len(tokens))):
            if tokens[j] in LEGAL_FORMS:
                entity = tokens[i:j]
                extra = [w for w in entity if w not in words]
                # "Sonnenfeld Logistik Verwaltungs GmbH" (a KG's general partner), "Northwind
                # Holding AG" (the group) and "Notion Labs Inc." (for "Notion": the name plus
                # descriptor words) are the company; "Vireo Bakery LLC" is not
                same = all(w in STRUCTURE_WORDS for w in extra) or (
                    all(w in DESCRIPTORS for w in extra) and set(words) <= set(entity)
                )
                if not same:
                    return " ".join(tokens[i : j + 1])
                break
    return None


def judge_legal_notice(name: str, domain: str, page: HomePage) -> SiteVerdict | None:
    """The legal notice's verdict: it names the company (:data:`LEGAL_NOTICE`, to add to the
    home page's), or it names another legal entity with the company's first word and never
    the company (rejected); else ``None``."""
    if names_company(name, page.text) or names_company(name, page.title or ""):
        return SiteVerdict(LEGAL_NOTICE, f"its legal notice names {name}")
    other = other_legal_entity(name, page.text)
    if other:
        return SiteVerdict(None, f"{domain}'s legal notice names another company ({other})")
    return None
