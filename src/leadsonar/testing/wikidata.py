"""A loopback stand-in for Wikidata's MediaWiki API (``wbsearchentities``, ``wbgetentities``),
for tests and benchmarks.

Answers in the shapes https://www.wikidata.org/w/api.php documents (``{"search": [{"id",
"label", "description", "match": {"type", "language", "text"}, "aliases"}]}`` and
``{"entities": {Qid: {"claims": {"P856": [{"mainsnak": {"snaktype": "value", "datavalue":
{"value": url, "type": "string"}}, "rank": "normal"}], "P31": […]}}}}``) from items added with
:meth:`WikidataStandIn.add`. Point LeadSonar at it with
``LEADSONAR_COMPANY_WIKIDATA_URL=<stand-in>.endpoint``::

    async with WikidataStandIn() as wikidata:
        wikidata.add("Q1", "Sonnenfeld Logistik", website="https://www.sonnenfeld.de/")
        settings = Settings(company_wikidata=True, company_wikidata_url=wikidata.endpoint, ...)

Search matches a label or alias that starts with the search text, case-insensitively (what
Wikidata's prefix search does), in the order items were added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsonar.testing.providerapi import Call, ProviderApi, Reply

ORGANIZATION = "Q43229"
BUSINESS = "Q4830453"
HUMAN = "Q5"


@dataclass
class Item:
    """One Wikidata item: its id, English label, aliases, official websites (P856; the
    ``(url, rank)`` pairs) and classes (P31)."""

    qid: str
    label: str
    aliases: list[str] = field(default_factory=list)
    websites: list[tuple[str, str]] = field(default_factory=list)
    instance_of: list[str] = field(default_factory=lambda: [BUSINESS])
    description: str = "company"


def _claim(value: object, kind: str, rank: str = "normal") -> dict[str, object]:
    return {
        "mainsnak": {"snaktype": "value", "datavalue": {"value": value, "type": kind}},
        "type": "statement",
        "rank": rank,
    }


class WikidataStandIn(ProviderApi):
    """Wikidata's API on ``http://127.0.0.1:<port>/w/api.php``."""

    what = "the Wikidata stand-in"

    def __init__(self) -> None:
        super().__init__()
        self.endpoint = f"{self.url}/w/api.php"
        self.items: dict[str, Item] = {}
        self.on("GET", "/w/api.php", self._answer)

    def add(
        self,
        qid: str,
        label: str,
        *,
        website: str | None = None,
        websites: list[tuple[str, str]] | None = None,
        aliases: list[str] | None = None,
        instance_of: list[str] | None = None,
    ) -> Item:
        """Add an item (``website``: one normal-rank P856; ``websites``: ``(url, rank)``)."""
        item = Item(
            qid,
            label,
            aliases or [],
            list(websites or ([(website, "normal")] if website else [])),
            instance_of or [BUSINESS],
        )
        self.items[qid] = item
        return item

    def _answer(self, call: Call) -> Reply:
        action = call.query.get("action")
        if action == "wbsearchentities":
            return Reply(self._search(call.query.get("search", "")))
        if action == "wbgetentities":
            ids = [i for i in call.query.get("ids", "").split("|") if i]
            return Reply(self._entities(ids))
        return Reply({"error": {"code": "badvalue", "info": "unknown action"}})

    def _search(self, text: str) -> dict[str, object]:
        wanted = text.strip().lower()
        hits = []
        for item in self.items.values():
            names = [item.label, *item.aliases]
            matched = next((n for n in names if n.lower().startswith(wanted)), None)
            if not wanted or matched is None:
                continue
            hits.append(
                {
                    "id": item.qid,
                    "title": item.qid,
                    "label": item.label,
                    "description": item.description,
                    "match": {
                        "type": "label" if matched == item.label else "alias",
                        "language": "en",
                        "text": matched,
                    },
                    **({"aliases": [matched]} if matched != item.label else {}),
                }
            )
        return {"searchinfo": {"search": text}, "search": hits[:7], "success": 1}

    def _entities(self, ids: list[str]) -> dict[str, object]:
        entities: dict[str, object] = {}
        for qid in ids:
            item = self.items.get(qid)
            if item is None:
                entities[qid] = {"id": qid, "missing": ""}
                continue
            claims: dict[str, object] = {
                "P31": [
                    _claim({"entity-type": "item", "id": c}, "wikibase-entityid")
                    for c in item.instance_of
                ],
            }
            if item.websites:
                claims["P856"] = [_claim(url, "string", rank) for url, rank in item.websites]
            entities[qid] = {"type": "item", "id": qid, "claims": claims}
        return {"entities": entities, "success": 1}
