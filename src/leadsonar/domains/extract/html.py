"""An HTML page as linear text with element spans, read by selectolax (the Lexbor HTML5 parser).

Extraction works on the page's *text*: one string in which block elements (``div``, ``p``,
``li``, ``tr``, ``dt``…) start and end on their own line, table cells are separated by a tab
and whitespace runs collapse to one space, as a browser lays it out. Every element keeps its
``[start, end)`` span in that text, so a name, an address and a number found in the text can
be traced back to the card, row or list entry that holds them (:mod:`.owners`).

The parse itself is Lexbor's (WHATWG HTML5 tree construction: implied end tags, entities,
mis-nested markup), never our own; ``script``, ``style``, ``template`` and the like add no text,
nor do elements hidden by the ``hidden`` attribute or an inline ``display:none`` /
``visibility:hidden`` (decoy digits planted against scrapers); text shown reversed by an inline
``direction:rtl; unicode-bidi:bidi-override`` is read as shown.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser, LexborNode

from leadsonar.domains.extract.emails import decode_cfemail, mailto_addresses
from leadsonar.domains.extract.names import find_names

BLOCKS = frozenset(
    """address article aside blockquote body caption dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p pre
    section summary table tbody tfoot thead tr ul""".split()
)
CELLS = frozenset({"td", "th"})
SECTIONING = frozenset({"footer", "header", "nav", "aside"})
# class/id tokens and ARIA roles that make an element a page's footer, header or navigation
# when the markup does not use the HTML5 tags (a Bootstrap ``card-footer`` is not one)
SECTIONING_MARKS = frozenset(
    """footer site-footer page-footer main-footer global-footer copyright colophon site-info
    site-header page-header masthead navbar sidebar contentinfo banner navigation
    complementary""".split()
)
_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "iframe", "object", "head", "select"}
)
_SPACE = re.compile(r"\s+")
_HIDDEN = re.compile(r"display:none|visibility:hidden")
MAX_DEPTH = 512  # deeper elements are read as text of their ancestor at this depth


@dataclass(eq=False)
class Element:
    """One element's place in the page text.

    Attributes:
        tag: lower-case tag name (``#root`` for the document).
        start: offset of its first character in :attr:`Document.text`.
        parent: the enclosing element (``None`` for the root).
        end: offset just past its last character.
        marks: its ``class`` and ``id`` tokens and ``role``, lower case.
    """

    tag: str
    start: int
    parent: Element | None
    end: int = -1
    marks: frozenset[str] = frozenset()

    @property
    def sectioning(self) -> bool:
        """A page footer, header, navigation or sidebar, by tag or by class/id/role."""
        return self.tag in SECTIONING or bool(self.marks & SECTIONING_MARKS)

    @property
    def in_sectioning(self) -> bool:
        """Whether this element or one above it is :attr:`sectioning`."""
        node: Element | None = self
        while node is not None:
            if node.sectioning:
                return True
            node = node.parent
        return False


@dataclass
class Item:
    """An address or number found in markup rather than text (``mailto:``, ``tel:``,
    Cloudflare's email protection)."""

    kind: str  # "email" or "phone"
    value: str  # address, or the tel: URL's number as written
    offset: int
    element: Element
    source: str


@dataclass
class Document:
    """A parsed page.

    Attributes:
        text: the page's visible text (see the module docstring).
        root: the document element; every element is below it.
        items: addresses and numbers from links and attributes, with their offsets.
        links: ``(href, start, end)`` of every ``<a href>`` and the span of its text.
        title: ``<title>`` text; ``site_name``: ``og:site_name``; ``lang``: ``<html lang>``
            (else ``Content-Language``).
        jsonld: the text of every ``<script type="application/ld+json">``.
        tree: the selectolax tree, for structured data read by CSS selectors.
    """

    text: str
    root: Element
    tree: LexborHTMLParser
    items: list[Item] = field(default_factory=list)
    links: list[tuple[str, int, int]] = field(default_factory=list)
    title: str | None = None
    site_name: str | None = None
    lang: str | None = None
    jsonld: list[str] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)
    chunk_elements: list[Element] = field(default_factory=list)

    def element_at(self, offset: int) -> Element:
        """The innermost element holding the text at ``offset``."""
        position = bisect.bisect_right(self.chunks, offset) - 1
        return self.chunk_elements[position] if position >= 0 else self.root


class _Builder:
    """Lays the tree out as text (one pass, no recursion: deep pages cannot overflow)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.root = Element("#root", 0, None)
        self.chunks: list[int] = []
        self.chunk_elements: list[Element] = []
        self.items: list[Item] = []
        self.links: list[tuple[str, Element]] = []

    def append(self, text: str, element: Element) -> None:
        if not text:
            return
        self.chunks.append(self.length)
        self.chunk_elements.append(element)
        self.parts.append(text)
        self.length += len(text)

    def brk(self, element: Element, mark: str = "\n") -> None:
        last = self.parts[-1][-1:] if self.parts else "\n"
        if last == "\n" or (mark != "\n" and last in (" ", "\t")):
            return
        self.append(mark, element)

    def text_node(self, data: str, element: Element) -> None:
        text = _SPACE.sub(" ", data)
        if not self.parts or self.parts[-1][-1:] in ("\n", " ", "\t"):
            text = text.lstrip(" ")
        self.append(text, element)

    def walk(self, top: LexborNode) -> None:
        # entries: (node, parent element, depth) to enter, or (None, element, -1) to leave
        stack: list[tuple[LexborNode | None, Element, int]] = [(top, self.root, 0)]
        while stack:
            node, element, depth = stack.pop()
            if node is None:
                self.leave(element)
                continue
            tag = node.tag or ""
            if tag == "-text":
                self.text_node(node.text_content or "", element)
                continue
            if tag.startswith(("-", "_", "!")) or tag in _SKIP:
                continue
            attributes = {k.lower(): (v or "") for k, v in node.attributes.items()}
            style = _SPACE.sub("", attributes.get("style", "")).lower()
            if "hidden" in attributes or _HIDDEN.search(style):
                continue  # not shown: decoy digits and letters planted against scrapers
            if tag == "br":
                self.brk(element)
                continue
            self.cloudflare(attributes, element)
            if tag == "img":
                self.portrait(attributes.get("alt", ""), element)
                continue
            children = list(node.iter(include_text=True))
            if depth >= MAX_DEPTH:
                self.text_node(node.text(separator=" "), element)
                continue
            if tag in BLOCKS:
                self.brk(element)
            elif tag in CELLS:
                self.brk(element, "\t")
            if "direction:rtl" in style and "bidi-override" in style:
                # shown reversed by CSS (an obfuscation): read it as shown
                self.text_node(node.text(separator="")[::-1], element)
                if tag in BLOCKS:
                    self.brk(element)
                continue
            marks = " ".join(attributes.get(a, "") for a in ("class", "id", "role")).lower()
            child = Element(tag, self.length, element, marks=frozenset(marks.split()))
            if tag == "a":
                self.link(attributes.get("href", "").strip(), child)
            stack.append((None, child, -1))
            stack.extend((c, child, depth + 1) for c in reversed(children))

    def portrait(self, alt: str, element: Element) -> None:
        """A photo whose ``alt`` text is exactly a person's name names its card: the name is
        laid out as a line of its own (any other ``alt`` text adds nothing)."""
        alt = _SPACE.sub(" ", alt).strip()
        named = find_names(alt) if 3 <= len(alt) <= 60 else []
        if len(named) == 1 and named[0][0] == alt:
            self.brk(element)
            self.text_node(alt, element)
            self.brk(element)

    def leave(self, element: Element) -> None:
        element.end = self.length
        if element.tag in BLOCKS:
            self.brk(element.parent or self.root)

    def link(self, href: str, element: Element) -> None:
        self.links.append((href, element))
        lowered = href.lower()
        if lowered.startswith("mailto:"):
            for address in mailto_addresses(href):
                self.items.append(Item("email", address, self.length, element, "mailto"))
        elif lowered.startswith(("tel:", "callto:")):
            number = unquote(href.split(":", 1)[1])
            self.items.append(Item("phone", number, self.length, element, "tel"))
        elif "/cdn-cgi/l/email-protection#" in lowered:
            address = decode_cfemail(href.rsplit("#", 1)[1])
            if address:
                self.items.append(Item("email", address, self.length, element, "cloudflare"))

    def cloudflare(self, attributes: dict[str, str], element: Element) -> None:
        if attributes.get("data-cfemail"):
            address = decode_cfemail(attributes["data-cfemail"])
            if address:
                self.items.append(Item("email", address, self.length, element, "cloudflare"))


def parse_html(html: str) -> Document:
    """Parse ``html`` (any HTML, or plain text) into a :class:`Document`."""
    tree = LexborHTMLParser(html)
    builder = _Builder()
    top = tree.root
    if top is not None:
        builder.walk(top)
    builder.root.end = builder.length
    links = [(href, element.start, element.end) for href, element in builder.links]
    document = Document(
        text="".join(builder.parts),
        root=builder.root,
        tree=tree,
        items=builder.items,
        links=links,
        chunks=builder.chunks,
        chunk_elements=builder.chunk_elements,
    )
    _head(tree, document)
    return document


def _head(tree: LexborHTMLParser, document: Document) -> None:
    """Title, ``og:site_name``, language and JSON-LD blocks."""
    title = tree.css_first("title")
    if title is not None:
        document.title = _SPACE.sub(" ", title.text()).strip() or None
    html = tree.root
    if html is not None and html.attributes.get("lang"):
        document.lang = (html.attributes.get("lang") or "").strip() or None
    for meta in tree.css("meta"):
        attributes = {k.lower(): (v or "") for k, v in meta.attributes.items()}
        prop = (attributes.get("property") or attributes.get("name") or "").lower()
        if prop == "og:site_name" and attributes.get("content", "").strip():
            document.site_name = document.site_name or attributes["content"].strip()
        if attributes.get("http-equiv", "").lower() == "content-language" and not document.lang:
            document.lang = attributes.get("content") or None
    for script in tree.css("script"):
        kind = (script.attributes.get("type") or "").strip().lower()
        if kind == "application/ld+json":
            document.jsonld.append(script.text())
