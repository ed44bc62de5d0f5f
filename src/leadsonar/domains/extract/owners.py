"""Whose is an address or a number: the name that stands with it on the page."""

from __future__ import annotations

from leadsonar.domains.extract.html import BLOCKS, CELLS, Element
from leadsonar.domains.extract.names import PageName, is_company_block

MAX_OWNER_DISTANCE = 300  # characters between a name and an item it owns, at most
MAX_FOLLOWING_DISTANCE = 120  # … when the name comes after the item
MAX_CLIMB = 6  # element levels searched above an item for its owner's name
CARD_MAX_CHARS = 600  # a block this short holding one person's name is that person's card
_CARD_MARKS = frozenset({"h-card", "vcard", "schema-person"})
_PAGE_LEVEL = frozenset({"#root", "html", "body", "main"})


def _child_of(node: Element, element: Element) -> Element | None:
    """The child of ``node`` on the way down to ``element`` (``None`` if not below it)."""
    while element.parent is not None and element.parent is not node:
        element = element.parent
    return element if element.parent is node else None


def owner_of(
    text: str,
    names: list[PageName],
    offset: int,
    element: Element,
    same_kind: list[int],
    name_elements: dict[int, Element] | None = None,
    item_offsets: list[int] | None = None,
) -> str | None:
    """The name owning the item at ``offset`` (see the module's *Owners* rules).

    The search climbs from the item's element, but never past a sectioning element
    (``footer``, ``header``, ``nav``, ``aside``, or a ``class``/``id``/``role`` saying so: a
    footer's line is not the last team card's). The first enclosing element holding a name
    decides: a short block holding one person's name is that person's card and all in it is
    theirs; otherwise the nearest name (:func:`_pick`). A name in a sibling block that is
    somebody's own card (a block of several lines holding items of its own), or in a sibling
    sectioning element, owns nothing outside it.
    """
    node: Element | None = element
    child: Element | None = None
    excluded: set[int] = set()  # names in a sibling card stay excluded further up
    for _ in range(MAX_CLIMB):
        if node is None:
            return None
        if node.tag not in _PAGE_LEVEL and is_company_block(text[node.start : node.end]):
            return None  # a block with the company's name or address and no person: its line
        inside = [
            n
            for n in names
            if node.start <= n.start < max(node.end, node.start + 1) and n.start not in excluded
        ]
        if child is not None and name_elements is not None:
            series = _repeated_blocks(text, node, [name_elements.get(n.start) for n in inside])
            for n in inside:
                name_element = name_elements.get(n.start)
                block = _child_of(node, name_element) if name_element is not None else None
                if (block is not None and block is not child and _kind(block) in series) or (
                    _in_sibling_card(text, node, child, name_element, offset, item_offsets or [])
                ):
                    excluded.add(n.start)
            inside = [n for n in inside if n.start not in excluded]
        if inside:
            if _is_card(node, inside):
                # one person's card, row or list entry: everything in it is theirs (labels
                # such as "Zentrale" or "Fax" still make a number the company's)
                return inside[0].text if _usable(text, inside[0], offset) else None
            return _pick(text, inside, offset, same_kind)
        if node.sectioning:
            return None
        child, node = node, node.parent
    return None


def _kind(block: Element) -> tuple[str, frozenset[str]]:
    return block.tag, block.marks


def _repeated_blocks(
    text: str, node: Element, name_elements: list[Element | None]
) -> set[tuple[str, frozenset[str]]]:
    """Kinds (tag and classes) of the multi-line blocks under ``node`` that hold names and
    repeat: a series of cards (``div.person`` × n, ``li`` × n). A name in one of them is that card's
    alone, whatever follows the series ("Call us" after the last card)."""
    counts: dict[tuple[str, frozenset[str]], int] = {}
    seen: set[int] = set()
    for element in name_elements:
        block = _child_of(node, element) if element is not None else None
        if block is None or id(block) in seen or block.tag not in BLOCKS:
            continue
        if "\n" not in text[block.start : block.end].strip("\n"):
            continue  # a heading or a term (h3, dt): a label for what follows, not a card
        seen.add(id(block))
        counts[_kind(block)] = counts.get(_kind(block), 0) + 1
    return {kind for kind, count in counts.items() if count >= 2}


def _in_sibling_card(
    text: str,
    node: Element,
    child: Element,
    name_element: Element | None,
    offset: int,
    item_offsets: list[int],
) -> bool:
    if name_element is None:
        return False
    block = _child_of(node, name_element)
    if block is None or block is child:
        return False
    if block.sectioning:
        return True
    if block.tag not in BLOCKS and block.tag not in CELLS:
        return False
    if block.marks & _CARD_MARKS:
        return True  # a microformat card (h-card, vcard) is its person's alone
    if block.tag in CELLS or "\n" not in text[block.start : block.end].strip("\n"):
        return False  # a heading, a cell, a one-line block: a label for what follows
    if block.tag == child.tag and block.marks == child.marks:
        return True  # a card among cards of the same kind: its name stays in it
    return any(block.start <= other < block.end for other in item_offsets if other != offset)


def _is_card(node: Element, names: list[PageName]) -> bool:
    """Whether ``node`` is one person's block: below the page level, short, every name in it
    the same person's."""
    return (
        node.tag not in _PAGE_LEVEL
        and node.end - node.start <= CARD_MAX_CHARS
        and len({n.text for n in names}) == 1
    )


def _usable(text: str, name: PageName, offset: int) -> bool:
    """A legal representative ("Vertreten durch …") owns only what stands on their line."""
    if name.legal:
        low, high = sorted((name.start, offset))
        return "\n" not in text[low:high]
    return True


def _pick(text: str, names: list[PageName], offset: int, same_kind: list[int]) -> str | None:
    def clear_between(a: int, b: int) -> bool:
        # another item of the same kind in between, on another line, belongs to that line
        return not any(
            a < other < b and "\n" in text[min(other, offset) : max(other, offset)]
            for other in same_kind
            if other != offset
        )

    def usable(name: PageName) -> bool:
        return _usable(text, name, offset)

    before = [n for n in names if n.end <= offset and offset - n.end <= MAX_OWNER_DISTANCE]
    if before:
        name = max(before, key=lambda n: n.end)
        return name.text if clear_between(name.end, offset) and usable(name) else None
    after = [n for n in names if n.start >= offset and n.start - offset <= MAX_FOLLOWING_DISTANCE]
    if after:
        name = min(after, key=lambda n: n.start)
        return name.text if clear_between(offset, name.start) and usable(name) else None
    return None
