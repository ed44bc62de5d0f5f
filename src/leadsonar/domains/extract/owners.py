"""Whose is an address or a number: the name that stands with it on the page."""

from __future__ import annotations

from leadsonar.domains.extract.html import BLOCKS, CELLS, Element
from leadsonar.domains.extract.names import PageName

MAX_OWNER_DISTANCE = 300  # characters between a name and an item it owns, at most
MAX_FOLLOWING_DISTANCE = 120  # … when the name comes after the item
MAX_CLIMB = 6  # element levels searched above an item for its owner's name
CARD_MAX_CHARS = 600  # a block this short holding one person's name is that person's card
_CARD_MARKS = frozenset({"h-card", "vcard"})
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
        inside = [
            n
            for n in names
            if node.start <= n.start < max(node.end, node.start + 1) and n.start not in excluded
        ]
        if child is not None and name_elements is not None:
            for n in inside:
                if _in_sibling_card(
                    text, node, child, name_elements.get(n.start), offset, item_offsets or []
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
