"""Addresses in text and links: obfuscations, mailto:, Cloudflare (FC-08 … FC-11)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from leadsonar.exceptions import BadRequest
from leadsonar.kit.emails import normalise_email

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_BRACKETED = re.compile(rf"\s*{_OPEN}\s*(?:at|ät|@|arroba|chez)\s*{_CLOSE}\s*", re.I)
_DOT_BRACKETED = re.compile(rf"\s*{_OPEN}\s*(?:dot|punkt|point|punto|\.)\s*{_CLOSE}\s*", re.I)
_AT_SPACED = re.compile(r"(?<=[A-Za-z0-9_.+-])\s+@\s+(?=[^\W_])")
_AT_CAPS = re.compile(r"(?<=[A-Za-z0-9])\s+AT\s+(?=[A-Za-z0-9])")
_DOT_CAPS = re.compile(r"(?<=[A-Za-z0-9])\s+DOT\s+(?=[A-Za-z0-9])")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_EMAIL = re.compile(
    r"(?<![\w.%+…'’-])"
    r"([A-Za-z0-9](?:[A-Za-z0-9._+-]*[A-Za-z0-9_])?)"
    r"@((?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,63})"
    r"(?![\w-]|\.[^\W_])"
)
_FILE_SUFFIXES = frozenset(
    "png jpg jpeg gif webp svg avif ico bmp tif tiff heic css js mjs map json xml pdf mp4 webm "
    "woff woff2 ttf eot otf".split()
)
_RETINA = re.compile(r"^\d+(?:\.\d+)?x$")


def _sub_mapped(
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
    text: str,
    index: list[int],
) -> tuple[str, list[int]]:
    """``pattern.sub`` that also carries, for each output character, its offset in the input
    of the first call (``index``)."""
    out: list[str] = []
    out_index: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(text[last : match.start()])
        out_index.extend(index[last : match.start()])
        replacement = replace(match)
        out.append(replacement)
        out_index.extend([index[match.start()]] * len(replacement))
        last = match.end()
    out.append(text[last:])
    out_index.extend(index[last:])
    return "".join(out), out_index


def _percent_decode(match: re.Match[str]) -> str:
    decoded = unquote(match.group())
    return decoded if decoded.isprintable() else " "


def deobfuscate(text: str) -> tuple[str, list[int]]:
    """Undo percent-escapes and address obfuscations (FC-08, FC-11).

    Returns:
        ``(text, index)``: the rewritten text and, per character, its offset in ``text``.
    """
    index = list(range(len(text)))
    for pattern, replace in (
        (_PERCENT, _percent_decode),
        (_AT_BRACKETED, lambda m: "@"),
        (_DOT_BRACKETED, lambda m: "."),
        (_AT_SPACED, lambda m: "@"),
        (_AT_CAPS, lambda m: "@"),
        (_DOT_CAPS, lambda m: "."),
    ):
        text, index = _sub_mapped(pattern, replace, text, index)
    return text, index


def clean_address(raw: str) -> str | None:
    """A candidate address as ``local@a-label`` lower case, or ``None`` when it is not one
    (bad syntax, no public suffix, a file name like ``logo@2x.png``, FC-10)."""
    local, _, domain = raw.strip().rpartition("@")
    labels = domain.lower().split(".")
    if labels[-1] in _FILE_SUFFIXES or _RETINA.match(labels[0]) or _RETINA.match(local):
        return None
    try:
        return normalise_email(raw.strip(), allow_reserved=True)
    except BadRequest:
        return None


# Local parts that, in running text, are prose glued to a domain ("Follow us @ twitter.com",
# "©2024@acme.com", "Version 2.0@acme.com") rather than someone's address.
_PROSE_LOCAL = re.compile(r"[\d.]+|us|me|you|him|her|them|it|we|follow|visit|find")


def _prose_artifact(address: str) -> bool:
    return bool(_PROSE_LOCAL.fullmatch(address.partition("@")[0]))


def find_emails(text: str) -> list[tuple[str, int]]:
    """Addresses in plain text: ``[(address, offset in text)]``, each address once.

    See the module's rules (FC-08 to FC-11).
    """
    plain, index = deobfuscate(text)
    found: dict[str, int] = {}
    for match in _EMAIL.finditer(plain):
        address = clean_address(match.group())
        if address and _prose_artifact(address):
            continue
        if address and address not in found:
            found[address] = index[match.start()] if match.start() < len(index) else 0
    return list(found.items())


def mailto_addresses(href: str) -> list[str]:
    """The addresses of a ``mailto:`` URL (RFC 6068): percent-decoded, query dropped, several
    comma-separated addresses allowed; obfuscations undone (FC-11)."""
    body = href.strip()[len("mailto:") :].split("?", 1)[0]
    body = unquote(body)
    found = []
    for part in body.split(","):
        plain, _ = deobfuscate(part.strip())
        address = clean_address(plain.strip().strip("<>"))
        if address:
            found.append(address)
    return found


def decode_cfemail(hex_string: str) -> str | None:
    """Cloudflare's email protection: hex bytes, the first the XOR key of the others.

    ``decode_cfemail("543d3a323b14312c35392438317a373b39")`` → ``"info@example.com"``;
    ``None`` for malformed input or a result that is not an address.
    """
    try:
        data = bytes.fromhex(hex_string.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        decoded = bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return clean_address(decoded)
