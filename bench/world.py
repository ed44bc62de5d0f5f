"""The accuracy benchmark's world: companies, people, mailboxes and mail-server kinds, from a seed.

Pure data, no servers: :func:`generate` builds a :class:`World` that :mod:`bench.accuracy` turns
into loopback DNS and SMTP servers. Nothing here imports the product: the ground truth must not
share code with the prober it judges.

Domains
    ``<word>-<suffix>.test`` (RFC 2606 reserved TLD). Each has a locale (``en``, ``de``, ``fr``,
    ``es``, ``nl``, ``it``, ``pl``, ``nordic``, ``ru``, ``zh``, ``tr``) that picks most of its
    people's names and gives German-hinted names such as ``mueller-gmbh.test``; exactly one
    address pattern (:data:`PATTERN_SHARES`) and exactly one server kind
    (:data:`BEHAVIOUR_SHARES`). Both are dealt by quota (largest remainder), then shuffled, so
    the shares hold to within one domain for any world size.

Mailboxes
    Every listed employee, two unlisted colleagues and ``info@``/``contact@`` have a mailbox.
    A person's local part is the domain's pattern over the *mailbox spelling* of the name:
    letters folded to ASCII the way mail admins do (``Élodie`` → ``elodie``, ``ß`` → ``ss``,
    ``ø`` → ``o``; ``ä/ö/ü`` → ``ae/oe/ue`` on ``de`` domains, else ``a/o/u``), spaces, hyphens and
    apostrophes dropped (``van der Berg`` → ``vanderberg``, ``Jean-Luc`` → ``jeanluc``,
    ``O'Keeffe`` → ``okeeffe``), a Spanish double surname reduced to the first one (``Navarro
    Quintero`` → ``navarro``), Cyrillic and Chinese names sent in their own script with the
    mailbox in the listed transliteration (``Дарья`` → ``daria``, ``敏 张`` → ``min``/``zhang``).
    When that local part is taken, a person with the *same name* (a collision, ~1.5% of
    employees) gets the pattern plus ``2``; a person with a different name gets the first free
    of ``first.last``, ``flast``, ``firstl`` (a *pattern exception*), else a digit.
    About 2% of employees have a full mailbox (552 5.2.2) and 2% a disabled one (550 5.2.1).

Lookups
    Every listed employee, plus people who do not work there (10% of lookups, names from the
    same pools, never the name of someone at that domain). Their order is shuffled.

Truth and findability of one lookup
    ``truth``: the person's address when they have a working mailbox (active or full: a full
    mailbox is still their address); ``None`` when they do not work there or their mailbox is
    disabled (mail to it bounces, so any answer is wrong).

    ``findable``:

    * ``"verify"`` — the domain answers RCPT truthfully (``plain``, ``greylist``, ``tarpit``,
      ``mx_failover``, ``busy_after_unknown``, ``session_limit``), ``truth`` is set, and its
      local part is one of the ten patterns of :data:`PATTERN_SHARES` over the mailbox spelling
      (a digit-suffixed collision address is not findable by any name-based prober);
    * ``"guess"`` — the domain cannot tell (``catch_all`` accepts everything, ``blocked`` refuses
      the prober), ``truth`` is set and follows the domain's own pattern: only a right guess of
      the pattern finds it;
    * ``None`` — everything else (no mailbox, disabled, collision suffix, pattern exception on
      a domain that cannot verify). The right answer for these is "no email" unless ``truth``
      is set.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

TLD = "test"

PATTERN_SHARES: dict[str, float] = {
    "first.last": 0.45,
    "first": 0.15,
    "flast": 0.12,
    "firstlast": 0.08,
    "f.last": 0.06,
    "first_last": 0.04,
    "firstl": 0.03,
    "last": 0.03,
    "lastf": 0.02,
    "first-last": 0.02,
}
"""Share of domains using each address pattern (first.last most common, then first, flast …)."""

_RECIPES: dict[str, str] = {
    "first.last": "{first}.{last}",
    "first": "{first}",
    "flast": "{f}{last}",
    "firstlast": "{first}{last}",
    "f.last": "{f}.{last}",
    "first_last": "{first}_{last}",
    "firstl": "{first}{l}",
    "last": "{last}",
    "lastf": "{last}{f}",
    "first-last": "{first}-{last}",
}

BEHAVIOUR_SHARES: dict[str, float] = {
    "catch_all": 0.25,
    "greylist": 0.05,
    "blocked": 0.05,
    "tarpit": 0.05,
    "mx_failover": 0.05,
    "busy_after_unknown": 0.05,
    "session_limit": 0.03,
    "plain": 0.47,
}
"""Share of domains per mail-server kind:

* ``plain``: accepts its mailboxes, ``550 5.1.1`` for the rest;
* ``catch_all``: accepts every address;
* ``greylist``: ``450 4.7.1`` for each new (client, sender, recipient) triple until
  :data:`GREYLIST_DELAY` seconds have passed;
* ``blocked``: refuses the prober — half ``553 5.7.1`` blocklist text on RCPT (FC-21), half a
  ``554 5.7.1`` greeting;
* ``tarpit``: waits 1-3 s before its greeting;
* ``mx_failover``: the preferred MX host refuses connections, the second one works;
* ``busy_after_unknown``: Microsoft-like, ``451 4.7.500 Server busy`` for every RCPT of a session
  after its first ``550 5.1.1``;
* ``session_limit``: ``421 4.7.0`` to a connection beyond :data:`MAX_SESSIONS` open ones.
"""

CHECKABLE = frozenset(BEHAVIOUR_SHARES) - {"catch_all", "blocked"}
"""Server kinds whose RCPT replies say whether a mailbox exists."""

GREYLIST_DELAY = 1.5
MAX_SESSIONS = 2
TARPIT_SECONDS = (1.0, 3.0)
NON_EMPLOYEE_SHARE = 0.10
TWIN_SHARE = 0.01  # explicit namesakes; chance ones come on top
FULL_SHARE = 0.02
DISABLED_SHARE = 0.02
LOCAL_SHARE = 0.75
MIN_PEOPLE_PER_DOMAIN = 4
UNLISTED_PER_DOMAIN = 2
ROLE_LOCAL_PARTS = ("info", "contact")

BLOCK_BANNER = (
    "554 5.7.1 Service unavailable; client host [{peer}] blocked using "
    "zen.blocklist.example; see https://blocklist.example/query/bl?ip={peer}"
)
MICROSOFT_BANNER = "220 {host} Microsoft ESMTP MAIL Service ready"

LOCALE_SHARES: dict[str, float] = {
    "en": 0.35,
    "de": 0.15,
    "fr": 0.10,
    "es": 0.10,
    "nl": 0.06,
    "it": 0.06,
    "pl": 0.05,
    "nordic": 0.05,
    "ru": 0.03,
    "zh": 0.03,
    "tr": 0.02,
}


def _pool(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(","))


_DOMAIN_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        _pool(
            "northwind, bluefin, harborline, summitway, brightpath, ironclad, redwood, "
            "silverline, oakridge, clearwater, keystone, lighthouse, pinecrest, stonebridge, "
            "riverbend, greenfield, crescent, evergreen"
        ),
        _pool("labs, analytics, systems, partners, group, digital, logistics, health"),
    ),
    "de": (
        _pool("mueller, schneider, rheinwerk, alpenblick, nordlicht, hoffmann, bergmann"),
        _pool("gmbh, ag, technik, werke, logistik, beratung"),
    ),
    "fr": (
        _pool("dupont, lumiere, bellevue, rivage, mercier, beaumont, clairval"),
        _pool("sarl, sas, conseil, groupe, studio"),
    ),
    "es": (
        _pool("garcia, solana, miramar, alameda, castillo, ribera"),
        _pool("sl, consultores, grupo, ingenieria"),
    ),
    "nl": (_pool("vandijk, dewolf, polder, zeeland, molenaar"), _pool("bv, groep, advies")),
    "it": (_pool("rossi, bellavista, aurora, colombo, toscana"), _pool("srl, spa, studio")),
    "pl": (_pool("kowalski, wisla, baltyk, mazur"), _pool("sp, soft, group")),
    "nordic": (_pool("fjord, nordvik, lindqvist, skog, havn"), _pool("ab, as, oy, tech")),
    "ru": (_pool("volga, sever, baikal, ural"), _pool("tech, soft, group")),
    "zh": (_pool("jade, hanlin, longmen, huaxin, tianyu"), _pool("tech, trading, holdings")),
    "tr": (_pool("anadolu, bosphorus, caspian"), _pool("holding, tech")),
}

_FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": _pool(
        "James, Emma, Oliver, Sophie, Liam, Nora, Grace, Noah, Olivia, Ethan, Chloe, "
        "Mia, Jack, Harry, Amelia, Mary-Kate, Anne-Marie, Zoë, Sean, Aoife, Daniel, "
        "Rachel, Samuel, Hannah, Matthew, Lucy, Isabel, Thomas, Charlotte, William, Ava, "
        "George, Ella, Henry, Isla, Oscar, Freya, Leo, Ruby, Arthur, Alice, Connor, Megan"
    ),
    "de": _pool(
        "Jörg, Jürgen, Günther, Sören, Käthe, Lena, Hanna, Lukas, Felix, Katrin, "
        "Matthias, Sabine, Stefan, Anja, Hans-Peter, Karl-Heinz, Björn, Ulrike, Tobias, "
        "Miriam, Jan, Frauke, Maximilian, Annika, Florian, Julia, Sebastian, Carina, "
        "Moritz, Nele, Dominik, Franziska, Benedikt, Theresa, Niklas, Vanessa, Ralf"
    ),
    "fr": _pool(
        "Élodie, Hélène, François, Jérôme, Chloé, Amélie, Benoît, Gaëlle, Loïc, "
        "Clémence, Jean-Luc, Marie-Claire, Jean-Pierre, Anne-Sophie, Camille, Mathieu, "
        "Léa, Thibault, Margaux, Noël, Aurélien, Sébastien, Océane, Maëlys, Julien, "
        "Pauline, Guillaume, Manon, Romain, Inès, Nicolas, Céline, Antoine, Émilie"
    ),
    "es": _pool(
        "Inés, José, María, Ángel, Lucía, Sofía, Javier, Álvaro, Nuria, Raúl, Carmen, "
        "Pablo, Marta, Sergio, Elena, Andrés, Begoña, Iñigo, Rocío, Adrián, Alba, "
        "Diego, Paula, Jesús, Irene, Rubén, Cristina, Óscar, Noelia"
    ),
    "nl": _pool(
        "Jan, Pieter, Sanne, Daan, Femke, Lotte, Bram, Joris, Maartje, Sven, Anouk, Thijs, "
        "Eline, Ruben, Floor, Jesse, Noor, Wouter, Fleur, Koen, Iris"
    ),
    "it": _pool(
        "Giulia, Marco, Niccolò, Francesca, Luca, Chiara, Alessandro, Federica, Matteo, "
        "Martina, Lorenzo, Giorgio, Elisa, Davide, Sara, Riccardo, Valentina, Gabriele"
    ),
    "pl": _pool(
        "Łukasz, Małgorzata, Paweł, Agnieszka, Michał, Zofia, Krzysztof, Wojciech, "
        "Katarzyna, Tomasz, Joanna, Piotr, Ewa, Jakub, Aleksandra, Bartłomiej, Magdalena"
    ),
    "nordic": _pool(
        "Søren, Bjørn, Åsa, Mikael, Ingrid, Sigrún, Kristín, Jóhann, Linnea, Mads, Freja, Emil"
    ),
    "tr": _pool("Ləman, Çağla, Şükrü, Aysel, Emre, Zeynep, Oğuz, Gülşen, Burak"),
}

_LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": _pool(
        "O'Keeffe, O'Brien, O’Connor, McDonald, Smith, Johnson, Brown, Taylor, Wilson, "
        "Evans, Walker, Hughes, Clarke, Smith-Jones, Patel, Murphy, Kelly, Bennett, "
        "Foster, Reid, Hayes, Carter"
    ),
    "de": _pool(
        "Großmann, Müller, Schröder, Weiß, Köhler, Hoffmann, Schäfer, Krüger, Wagner, "
        "Fischer, Zimmermann, Braun, Hübner, Jäger, von Falkenberg, Becker, Neumann, "
        "Lange, Wolff, Keller"
    ),
    "fr": _pool(
        "Marchand, Lefèvre, Dupont, Bélanger, Rousseau, Gauthier, Mercier, Faure, "
        "Lemaître, Girard, Perrin, Chevalier, Fournier, Bonnet, de la Fontaine, Le Goff, "
        "Dubois, Garnier"
    ),
    "es": _pool(
        "Navarro, García, Fernández, Martínez, Sánchez, de la Cruz, Muñoz, Peña, "
        "Quintero, López, Ruiz, Soto, Gil, Ortega, Vidal, Romero, Castaño, Ibáñez"
    ),
    "nl": _pool(
        "van der Berg, de Vries, van Dijk, Bakker, Visser, de Jong, van den Broek, Smit, "
        "Meijer, de Graaf, Mulder, Janssen"
    ),
    "it": _pool(
        "Rossi, D'Amico, De Luca, Esposito, Bianchi, Romano, Colombo, Ricci, Dell'Acqua, "
        "Ferrari, Galli"
    ),
    "pl": _pool(
        "Kowalski, Wiśniewska, Wójcik, Zieliński, Szymańska, Dąbrowski, Lewandowska, "
        "Kamiński, Nowak, Mazur"
    ),
    "nordic": _pool(
        "Söderström, Ångström, Johansson, Lindqvist, Sørensen, Nørgaard, Hansen, "
        "Eriksson, Jónsdóttir, Berg, Dahl"
    ),
    "tr": _pool("Tağızadə, Yılmaz, Öztürk, Şahin, Demir, Kaya, Çelik, Aydın"),
}

# Names in another script: "as entered=mailbox transliteration".
_TRANSLITERATED_FIRST: dict[str, tuple[str, ...]] = {
    "ru": _pool(
        "Дарья=daria, Иван=ivan, Ольга=olga, Анна=anna, Сергей=sergey, Наталья=natalia, "
        "Екатерина=ekaterina, Михаил=mikhail, Павел=pavel, Елена=elena, Андрей=andrey, "
        "Юлия=yulia"
    ),
    "zh": _pool(
        "伟=wei, 敏=min, 静=jing, 丽=li, 强=qiang, 磊=lei, 军=jun, 洋=yang, 杰=jie, 涛=tao, "
        "明=ming, 秀英=xiuying, 建华=jianhua, 晓明=xiaoming"
    ),
}

_TRANSLITERATED_LAST: dict[str, tuple[str, ...]] = {
    "ru": _pool(
        "Ковальчук=kovalchuk, Иванов=ivanov, Смирнов=smirnov, Кузнецов=kuznetsov, "
        "Попова=popova, Соколов=sokolov, Лебедева=lebedeva, Новиков=novikov, "
        "Морозова=morozova, Волков=volkov, Орлова=orlova, Шевченко=shevchenko"
    ),
    "zh": _pool(
        "张=zhang, 王=wang, 李=li, 刘=liu, 陈=chen, 杨=yang, 黄=huang, 赵=zhao, 吴=wu, 周=zhou, "
        "徐=xu, 孙=sun, 马=ma, 朱=zhu, 胡=hu, 林=lin"
    ),
}

_FOLD = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ə": "e",
}
_GERMAN_FOLD = {"ä": "ae", "ö": "oe", "ü": "ue"}

Behaviour = str
Findable = Literal["verify", "guess"] | None


def fold(text: str, *, german: bool = False) -> str:
    """A name's mailbox spelling: lowercase ASCII letters and digits only (see the module)."""
    text = text.lower()
    for table in ((_GERMAN_FOLD if german else {}), _FOLD):
        for letter, ascii_form in table.items():
            text = text.replace(letter, ascii_form)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def render(pattern: str, first: str, last: str) -> str:
    """The local part of ``pattern`` (a :data:`PATTERN_SHARES` key) for mailbox spellings."""
    return _RECIPES[pattern].format(first=first, last=last, f=first[:1], l=last[:1])


@dataclass(frozen=True)
class Name:
    """A person's name as sent to the API and as their mailbox spells it."""

    first: str
    last: str
    mail_first: str
    mail_last: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class MxHost:
    """One MX record: ``live`` is False for a host that refuses connections."""

    preference: int
    name: str
    ip: str
    live: bool


@dataclass
class Domain:
    """One company's mail domain and its server.

    Attributes:
        mailboxes: every existing address (lowercase), including full and disabled ones.
        full, disabled: subsets of ``mailboxes``.
        banner_delay: seconds before the greeting (``tarpit`` only).
        block: ``"rcpt"`` or ``"banner"`` (``blocked`` only).
        colleagues: ``(first, last, address)`` of people with a mailbox who are never looked
            up (the bench may import them as contacts the product already knows).
    """

    name: str
    locale: str
    pattern: str
    behaviour: Behaviour
    mx: list[MxHost]
    mailboxes: set[str] = field(default_factory=set)
    full: set[str] = field(default_factory=set)
    disabled: set[str] = field(default_factory=set)
    banner_delay: float = 0.0
    block: str | None = None
    colleagues: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def live_host(self) -> MxHost:
        return next(host for host in self.mx if host.live)

    def smtp_behaviour(self) -> dict[str, Any]:
        """Keyword arguments for ``SmtpWorld.serve`` (``SmtpBehaviour`` fields and ``name``)."""
        host = self.live_host
        kwargs: dict[str, Any] = {
            "name": host.name,
            "mailboxes": set(self.mailboxes) - self.full - self.disabled,
            "full": set(self.full),
            "disabled": set(self.disabled),
        }
        if self.behaviour == "catch_all":
            kwargs["catch_all"] = True
        elif self.behaviour == "greylist":
            kwargs |= {"greylist": True, "greylist_delay": GREYLIST_DELAY}
        elif self.behaviour == "blocked" and self.block == "rcpt":
            kwargs["block_rcpt"] = True
        elif self.behaviour == "blocked":
            kwargs["banner"] = [BLOCK_BANNER.format(peer="127.0.0.1")]
        elif self.behaviour == "tarpit":
            kwargs["banner_delay"] = self.banner_delay
        elif self.behaviour == "busy_after_unknown":
            kwargs |= {
                "busy_after_unknown": True,
                "banner": [MICROSOFT_BANNER.format(host=host.name)],
            }
        elif self.behaviour == "session_limit":
            kwargs["max_sessions"] = MAX_SESSIONS
        return kwargs


@dataclass(frozen=True)
class Lookup:
    """One person looked up, with the right answer.

    Attributes:
        index: position in :attr:`World.lookups` (the shuffled order the bench sends them in).
        first, last: the name as sent to the API.
        mailbox: the person's own mailbox address even when disabled; ``None`` if they do not
            work there.
        state: ``"active"``, ``"full"``, ``"disabled"`` or ``None`` (no mailbox).
        truth: the right answer (see the module): an address or ``None``.
        findable: ``"verify"``, ``"guess"`` or ``None`` (see the module).
        employee: False for a person who does not work there.
        tags: name and mailbox traits for the breakdowns (``accent``, ``transliterated``,
            ``particle``, ``hyphen``, ``apostrophe``, ``double_surname``, ``twin``,
            ``pattern_exception``, ``shadowed``, ``full``, ``disabled``).
    """

    index: int
    first: str
    last: str
    domain: str
    mailbox: str | None
    state: str | None
    truth: str | None
    findable: Findable
    employee: bool
    tags: tuple[str, ...] = ()


@dataclass
class World:
    seed: int
    domains: list[Domain]
    lookups: list[Lookup]

    @property
    def by_domain(self) -> dict[str, Domain]:
        return {d.name: d for d in self.domains}

    def hosts(self) -> list[str]:
        """Every loopback address the world uses (live and dead MX hosts)."""
        return [host.ip for domain in self.domains for host in domain.mx]

    def summary(self) -> dict[str, Any]:
        """Counts for the report: domains per pattern and behaviour, lookups per kind."""
        return {
            "domains": len(self.domains),
            "lookups": len(self.lookups),
            "employees_looked_up": sum(x.employee for x in self.lookups),
            "non_employees": sum(not x.employee for x in self.lookups),
            "mailboxes": sum(len(d.mailboxes) for d in self.domains),
            "patterns": dict(Counter(d.pattern for d in self.domains).most_common()),
            "behaviours": dict(Counter(d.behaviour for d in self.domains).most_common()),
            "findable": dict(Counter(str(x.findable) for x in self.lookups).most_common()),
            "tags": dict(Counter(t for x in self.lookups for t in x.tags).most_common()),
        }


def quota(shares: dict[str, float], n: int, rng: random.Random) -> list[str]:
    """``n`` keys dealt by their shares (largest remainder), in a shuffled order."""
    exact = {key: share * n for key, share in shares.items()}
    counts = {key: int(value) for key, value in exact.items()}
    by_remainder = sorted(shares, key=lambda key: (-(exact[key] - counts[key]), key))
    for key in by_remainder[: n - sum(counts.values())]:
        counts[key] += 1
    dealt = [key for key in shares for _ in range(counts[key])]
    rng.shuffle(dealt)
    return dealt


def loopback_ip(n: int) -> str:
    """The ``n``-th benchmark address: ``127.0.1.1``, ``127.0.1.2`` … (250 per /24)."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def _pick_locale(rng: random.Random, *, staff: bool = False) -> str:
    """A domain's locale by :data:`LOCALE_SHARES`; for international staff, any locale alike."""
    if staff:
        return rng.choice(list(LOCALE_SHARES))
    return rng.choices(list(LOCALE_SHARES), weights=list(LOCALE_SHARES.values()))[0]


def _name(rng: random.Random, locale: str, german: bool) -> Name:
    tags: list[str] = []
    if locale in _TRANSLITERATED_FIRST:
        first, mail_first = rng.choice(_TRANSLITERATED_FIRST[locale]).split("=")
        last, mail_last = rng.choice(_TRANSLITERATED_LAST[locale]).split("=")
        return Name(first, last, mail_first, mail_last, ("transliterated",))
    first = rng.choice(_FIRST_NAMES[locale])
    last = rng.choice(_LAST_NAMES[locale])
    mail_last = fold(last, german=german)
    if locale == "es" and rng.random() < 0.6:
        second = rng.choice([n for n in _LAST_NAMES["es"] if n != last and " " not in n])
        last = f"{last} {second}"
        tags.append("double_surname")
    if any(not c.isascii() and c.isalpha() for c in first + last):
        tags.append("accent")
    if "-" in first or "-" in last:
        tags.append("hyphen")
    if "'" in last or "’" in last:
        tags.append("apostrophe")
    if " " in last and "double_surname" not in tags:
        tags.append("particle")
    return Name(first, last, fold(first, german=german), mail_last, tuple(tags))


def _domain_name(rng: random.Random, locale: str, taken: set[str]) -> str:
    words, suffixes = _DOMAIN_WORDS[locale]
    for _ in range(1000):
        name = f"{rng.choice(words)}-{rng.choice(suffixes)}.{TLD}"
        if name not in taken:
            return name
    for n in range(2, 10_000):  # small pools, big worlds: number the names
        name = f"{rng.choice(words)}{n}-{rng.choice(suffixes)}.{TLD}"
        if name not in taken:
            return name
    raise RuntimeError("no free domain name")


def _sizes(rng: random.Random, domains: int, employees: int) -> list[int]:
    """Employees per domain: at least ``MIN_PEOPLE_PER_DOMAIN``, the rest by random weights."""
    sizes = [MIN_PEOPLE_PER_DOMAIN] * domains
    weights = [rng.uniform(0.3, 2.5) for _ in range(domains)]
    for index in rng.choices(range(domains), weights=weights, k=employees - sum(sizes)):
        sizes[index] += 1
    return sizes


def generate(seed: int = 7, domains: int = 60, people: int = 600) -> World:
    """Build the world for ``seed``: ``domains`` domains and ``people`` lookups (10% of them
    people who do not work there). The same arguments always give the same world.

    Raises:
        ValueError: fewer than 8 domains, or too few lookups for 4 employees per domain.
    """
    non_employees = round(people * NON_EMPLOYEE_SHARE)
    employees = people - non_employees
    if domains < 8 or employees < domains * MIN_PEOPLE_PER_DOMAIN:
        raise ValueError(f"need ≥ 8 domains and ≥ {MIN_PEOPLE_PER_DOMAIN} employees per domain")
    rng = random.Random(seed)
    patterns = quota(PATTERN_SHARES, domains, rng)
    behaviours = quota(BEHAVIOUR_SHARES, domains, rng)
    sizes = _sizes(rng, domains, employees)

    world_domains: list[Domain] = []
    entries: list[tuple[Domain, Name, str, str | None, tuple[str, ...]]] = []
    taken_names: set[str] = set()
    next_ip = 0
    blocked_seen = 0
    for index in range(domains):
        locale = _pick_locale(rng)
        name = _domain_name(rng, locale, taken_names)
        taken_names.add(name)
        mx: list[MxHost] = []
        if behaviours[index] == "mx_failover":
            mx.append(MxHost(10, f"mx1.{name}", loopback_ip(next_ip), live=False))
            next_ip += 1
        mx.append(MxHost(10 + 10 * len(mx), f"mx{len(mx) + 1}.{name}", loopback_ip(next_ip), True))
        next_ip += 1
        domain = Domain(name, locale, patterns[index], behaviours[index], mx)
        if domain.behaviour == "tarpit":
            domain.banner_delay = round(rng.uniform(*TARPIT_SECONDS), 1)
        if domain.behaviour == "blocked":
            domain.block = ("rcpt", "banner")[blocked_seen % 2]
            blocked_seen += 1
        domain.mailboxes |= {f"{role}@{name}" for role in ROLE_LOCAL_PARTS}
        world_domains.append(domain)
        entries += _staff(rng, domain, sizes[index])

    lookups_raw: list[dict[str, Any]] = []
    for domain, person, address, state, tags in entries:
        if state == "unlisted":
            domain.colleagues.append((person.first, person.last, address))
            continue
        lookups_raw.append(_employee_lookup(domain, person, address, state, tags))
    for _ in range(non_employees):
        domain = rng.choice(world_domains)
        lookups_raw.append(_non_employee(rng, domain, entries))
    rng.shuffle(lookups_raw)
    lookups = [Lookup(index=i, **raw) for i, raw in enumerate(lookups_raw)]
    return World(seed=seed, domains=world_domains, lookups=lookups)


def _staff(
    rng: random.Random, domain: Domain, size: int
) -> list[tuple[Domain, Name, str, str | None, tuple[str, ...]]]:
    """The domain's employees (``size`` listed, then the unlisted colleagues), mailboxes made."""
    german = domain.locale == "de"
    staff: list[tuple[Domain, Name, str, str | None, tuple[str, ...]]] = []
    names: list[Name] = []
    for n in range(size + UNLISTED_PER_DOMAIN):
        listed = n < size
        tags: list[str] = []
        if listed and names and rng.random() < TWIN_SHARE:
            person = rng.choice(names)  # a namesake of someone already there
        else:
            locale = domain.locale if rng.random() < LOCAL_SHARE else _pick_locale(rng, staff=True)
            person = _name(rng, locale, german)
        namesake = any((p.first, p.last) == (person.first, person.last) for p in names)
        if namesake:
            tags.append("twin")
        names.append(person)
        local = render(domain.pattern, person.mail_first, person.mail_last)
        if f"{local}@{domain.name}" in domain.mailboxes:
            local = _alternative(domain, person, local, same_name=namesake)
            if not namesake:
                tags.append("pattern_exception")
        address = f"{local}@{domain.name}"
        domain.mailboxes.add(address)
        state: str | None = "unlisted"
        if listed:
            draw = rng.random()
            state = "active"
            if draw < FULL_SHARE + DISABLED_SHARE:
                state = "full" if draw < FULL_SHARE else "disabled"
            if state == "full":
                domain.full.add(address)
            elif state == "disabled":
                domain.disabled.add(address)
        staff.append((domain, person, address, state, tuple(tags)))
    return staff


def _alternative(domain: Domain, person: Name, local: str, *, same_name: bool) -> str:
    if not same_name:
        for pattern in ("first.last", "flast", "firstl"):
            other = render(pattern, person.mail_first, person.mail_last)
            if pattern != domain.pattern and f"{other}@{domain.name}" not in domain.mailboxes:
                return other
    for digit in range(2, 100):
        if f"{local}{digit}@{domain.name}" not in domain.mailboxes:
            return f"{local}{digit}"
    raise RuntimeError("no free local part")


def _employee_lookup(
    domain: Domain, person: Name, address: str, state: str | None, tags: tuple[str, ...]
) -> dict[str, Any]:
    local = address.partition("@")[0]
    truth = None if state == "disabled" else address
    findable: Findable = None
    if truth is not None:
        if domain.behaviour in CHECKABLE:
            standard = {render(p, person.mail_first, person.mail_last) for p in PATTERN_SHARES}
            findable = "verify" if local in standard else None
        elif local == render(domain.pattern, person.mail_first, person.mail_last):
            findable = "guess"
    extra = (state,) if state in ("full", "disabled") else ()
    return {
        "first": person.first,
        "last": person.last,
        "domain": domain.name,
        "mailbox": address,
        "state": state,
        "truth": truth,
        "findable": findable,
        "employee": True,
        "tags": person.tags + tags + extra,
    }


def _non_employee(
    rng: random.Random,
    domain: Domain,
    entries: list[tuple[Domain, Name, str, str | None, tuple[str, ...]]],
) -> dict[str, Any]:
    there = {(p.first, p.last) for d, p, *_ in entries if d is domain}
    german = domain.locale == "de"
    for _ in range(1000):
        locale = domain.locale if rng.random() < LOCAL_SHARE else _pick_locale(rng, staff=True)
        person = _name(rng, locale, german)
        if (person.first, person.last) not in there:
            break
    local = render(domain.pattern, person.mail_first, person.mail_last)
    shadowed = ("shadowed",) if f"{local}@{domain.name}" in domain.mailboxes else ()
    return {
        "first": person.first,
        "last": person.last,
        "domain": domain.name,
        "mailbox": None,
        "state": None,
        "truth": None,
        "findable": None,
        "employee": False,
        "tags": person.tags + shadowed,
    }
