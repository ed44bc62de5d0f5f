"""Sources that know which website a company runs: Wikidata (free, no key) and the company
searches of commercial providers whose keys are set (Hunter, Apollo, People Data Labs).

A source only proposes: every domain it gives is verified by the company resolver exactly like
a guessed one (:mod:`.evidence`), so a stale or wrong record never becomes an answer by itself.

Wikidata, written from https://www.wikidata.org/w/api.php?action=help&modules=wbsearchentities,
https://www.wikidata.org/w/api.php?action=help&modules=wbgetentities and the property
https://www.wikidata.org/wiki/Property:P856 ("official website"): ``wbsearchentities`` finds
items whose label or alias is the company's name; ``wbgetentities`` reads their ``P856`` claims
(preferred rank first, deprecated ones skipped) and ``P31`` ("instance of"; a human, ``Q5``, is
never a company). Wikimedia asks API clients for a descriptive ``User-Agent``
(https://meta.wikimedia.org/wiki/User-Agent_policy): the shared client sends LeadSonar's.
Settings: ``LEADSONAR_COMPANY_WIKIDATA`` (default on), ``LEADSONAR_COMPANY_WIKIDATA_URL``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Protocol, runtime_checkable

import httpx

from leadsonar.domains.companies.names import STRUCTURE_WORDS, company_key, core_forms

HUMAN = "Q5"
SEARCH_LIMIT = 7


@runtime_checkable
class CompanySearch(Protocol):
    """A source of company websites.

    ``name`` names the source in answers (``domainSource``); ``company_domains(company)``
    returns websites or domains the source holds for a company of that name, best first
    (empty when it knows none). It may raise any ``Exception`` for a failure; the resolver
    notes it and moves on.
    """

    name: str

    async def company_domains(self, company: str) -> list[str]: ...


def _squeeze(key: str) -> str:
    return re.sub(r"[\s-]+", "", key)


def same_company_name(wanted: str, found: str) -> bool:
    """Whether a source's company name ``found`` is the name ``wanted`` (legal forms, case,
    accents, spaces and descriptor words aside): ``Sonnenfeld Logistik GmbH & Co. KG`` is
    ``Sonnenfeld Logistik``; ``Notion Capital`` is not ``Notion``."""
    forms = {_squeeze(company_key(wanted)), *(_squeeze(f) for f in core_forms(wanted))}
    if _squeeze(company_key(found)) in forms:
        return True
    # "Notion Labs" is "Notion", "Notion Capital" is not: only corporate words may be added
    wanted_words = company_key(wanted).split()
    found_words = company_key(found).split()
    extra = found_words[len(wanted_words) :]
    return (
        found_words[: len(wanted_words)] == wanted_words
        and bool(extra)
        and set(extra) <= STRUCTURE_WORDS
    )


class WikidataSource:
    """Official websites (P856) of Wikidata items labelled with the company's name.

    Args:
        http: the shared API client (explicit timeouts, LeadSonar's User-Agent).
        url: the MediaWiki API endpoint (``https://www.wikidata.org/w/api.php``; a loopback
            stand-in in tests).
        languages: label languages searched, in order, until one finds items.
    """

    name = "wikidata"

    def __init__(
        self, http: httpx.AsyncClient, url: str, languages: tuple[str, ...] = ("en",)
    ) -> None:
        self.http = http
        self.url = url
        self.languages = languages

    async def _get(self, params: dict[str, Any]) -> Any:
        response = await self.http.get(self.url, params={**params, "format": "json"})
        response.raise_for_status()
        return response.json()

    async def _search(self, company: str, language: str) -> list[str]:
        body = await self._get(
            {
                "action": "wbsearchentities",
                "search": company_key(company),
                "language": language,
                "uselang": language,
                "type": "item",
                "limit": SEARCH_LIMIT,
            }
        )
        ids = []
        for hit in body.get("search") or [] if isinstance(body, dict) else []:
            if not isinstance(hit, dict) or not isinstance(hit.get("id"), str):
                continue
            match = hit.get("match") if isinstance(hit.get("match"), dict) else {}
            names = [hit.get("label"), match.get("text"), *(hit.get("aliases") or [])]
            if any(isinstance(n, str) and same_company_name(company, n) for n in names):
                ids.append(hit["id"])
        return ids

    async def company_domains(self, company: str) -> list[str]:
        """Official websites of the items named ``company``, in search order.

        Raises:
            httpx.HTTPError: the API could not be reached or answered an error status.
            ValueError: the answer was not JSON.
        """
        ids: list[str] = []
        for language in self.languages:
            ids = await self._search(company, language)
            if ids:
                break
        if not ids:
            return []
        body = await self._get({"action": "wbgetentities", "ids": "|".join(ids), "props": "claims"})
        entities = body.get("entities") if isinstance(body, dict) else None
        if not isinstance(entities, dict):
            return []
        websites: list[str] = []
        for qid in ids:
            entity = entities.get(qid)
            claims = entity.get("claims") if isinstance(entity, dict) else None
            if not isinstance(claims, dict):
                continue
            if HUMAN in _item_values(claims.get("P31")):
                continue
            websites.extend(_url_values(claims.get("P856")))
        return list(dict.fromkeys(websites))


def _ranked(claims: Any) -> list[dict[str, Any]]:
    if not isinstance(claims, list):
        return []
    usable = [c for c in claims if isinstance(c, dict) and c.get("rank") != "deprecated"]
    return sorted(usable, key=lambda c: 0 if c.get("rank") == "preferred" else 1)


def _value(claim: dict[str, Any]) -> Any:
    snak = claim.get("mainsnak")
    if not isinstance(snak, dict) or snak.get("snaktype", "value") != "value":
        return None
    datavalue = snak.get("datavalue")
    return datavalue.get("value") if isinstance(datavalue, dict) else None


def _url_values(claims: Any) -> list[str]:
    return [v for c in _ranked(claims) if isinstance(v := _value(c), str) and v.strip()]


def _item_values(claims: Any) -> set[str]:
    found = set()
    for claim in _ranked(claims):
        value = _value(claim)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            found.add(value["id"])
    return found


async def ask_source(source: CompanySearch, company: str, timeout: float) -> list[str]:
    """``source``'s websites for ``company`` within ``timeout`` seconds.

    Raises:
        TimeoutError: the source took longer.
        Exception: whatever the source raised.
    """
    async with asyncio.timeout(timeout):
        return await source.company_domains(company)
