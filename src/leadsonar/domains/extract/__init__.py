"""Web pages → the emails and phones they publish, and whose they are. Pure functions, no I/O.

One module per concern: :mod:`.html` (the page as text with element spans, parsed by
selectolax/Lexbor), :mod:`.emails`, :mod:`.phones`, :mod:`.names`, :mod:`.owners` (whose an
item is), :mod:`.structured` (JSON-LD, vCard, h-card, microdata, tables with a header row) and
:mod:`.page` (one page end to end). Every public name is importable from here.

:func:`extract_page` reads one HTML page (or :func:`extract_vcard` one vCard) and returns a
:class:`PageFindings`: each address and number found, the person it stands with (``owner``),
and for numbers a ``label`` (``fax``, ``support``, ``main``, ``direct``, ``mobile`` or ``None``).
The rules, each with its field case in ``shared/cases/field-cases.md``:

Emails
    * ``mailto:`` links are percent-decoded, their query (``?subject=…``) and spaces dropped
      (RFC 6068): ``mailto:%20info@example.com?subject=Hallo%20Team`` → ``info@example.com``
      (FC-11); percent-escapes in text are decoded the same way (``Team%3Cinfo@…%3E``).
    * plain text, after undoing the common obfuscations: ``[at]`` ``(at)`` ``{at}`` ``<at>``
      (also ``ät``, ``@``), ``[dot]`` ``(dot)`` ``{dot}`` (also ``punkt``, ``point``), ``name @
      domain`` and upper-case `` AT ``/`` DOT `` words (FC-08). Lower-case prose words are never
      read as ``@`` or ``.`` ("meet us at the fair, dot the i's" gives nothing). HTML entities
      are decoded by the parser.
    * an address starts at a letter or digit that does not follow a word character, ``.``,
      ``…``, ``%`` or ``+``: ``Kontakt: hanna.berg@…`` gives ``hanna.berg@…``, an elided
      ``hanna.be...@example.com`` gives nothing (FC-09).
    * the domain must end in a public suffix (or a reserved test TLD) and must not look like a
      file name: ``logo@2x.png`` and ``icon@3x.webp`` are not addresses (FC-10).
    * Cloudflare's email protection (``data-cfemail`` and ``/cdn-cgi/l/email-protection#…``:
      the first byte is the XOR key of the rest), JSON-LD ``Person``/``Organization``
      ``email``/``telephone`` (schema.org), and vCards ``EMAIL``/``TEL`` (RFC 6350).
Phones
    * libphonenumber's matcher (``phonenumbers.PhoneNumberMatcher``, leniency ``VALID``) on each
      line of text, with the region guessed by :func:`region_for` (the domain's country TLD, then
      the page's ``lang``, then ``US``); numbers written with ``+CC`` keep their country
      (``+47 406 12 345`` on a US page is Norwegian, mobile, FC-25); national forms use the
      region (``0151/23456789`` on .de → ``+4915123456789``, FC-27); ``+44 (0) 20 7946 0018`` →
      ``+442079460018`` (FC-28); extensions are kept (``650-555-0134x204`` → extension ``204``)
      and a bare ``ext.`` adds nothing (FC-24). Numbers in Ofcom's drama ranges (``07700
      900123``), which libphonenumber calls invalid, are read with their range's type.
    * a match that begins inside a token (after a digit, or after ``/``, ``.``, ``-`` that follow
      a digit) or that looks like a date or a range of years is not a phone
      (``03/2015 – 03/2016``, FC-26). A dotted run is a date only when its groups can be a day
      and a month and nothing follows (``12.03.2015``); ``01.55.25.89.95``, the French way of
      writing a number, is a number. A dotted run starting with one-digit groups
      (``4.4.7700.900123``) is a version, not a number.
    * a number of the right length whose range libphonenumber's metadata does not know
      (``07 11 40 60 93`` in France) is read only where the page states it is a phone number:
      a ``tel:`` link, structured data, a phone column, a ``Tel.``/``Mobile`` label right
      before it (:func:`~leadsonar.kit.phones.parse_phone` ``possible``); never ``mobile``.
    * the label comes from the words just before the number on its line (or on a short line
      just above it, as in ``<dt>Fax</dt><dd>…</dd>``) or in brackets right after it.
Owners
    * structured data names its owner (JSON-LD ``Person`` and its ``ContactPoint``s, a vCard's
      ``FN``/``N``, h-card ``p-name``, microdata ``Person``, a table row's name column) and
      outranks the text's nearest name; a vCard's ``TEL;TYPE=MAIN`` is the company's line.
    * a link to one person's own file or page (a vCard download: ``….vcf``, ``/vcard/``, link
      text ``vCard``; a "Profile" or "Read more" link) in that person's card is theirs
      (:attr:`PageFindings.person_links`), so a lookup can read it when the crawl did not.
    * a short block (card, row, list entry) holding one person's name is that person's: every
      number in it is theirs unless labelled fax, support or switchboard.
    * otherwise, from the element holding the address or number, the smallest enclosing element
      (at most :data:`MAX_CLIMB` levels up) that contains a person's name decides: one name owns
      it; among several, the nearest name before it with no other item of the same kind in
      between (else the nearest after it). The climb never goes past a ``footer``, ``header``,
      ``nav`` or ``aside``, and a name in a sibling block that is somebody's own card (several
      lines with items of its own) owns nothing outside it: the "Call us" line after the team
      cards is the company's. Footers and headers are known by tag and by ``class``/``id``/
      ``role``; nobody's number in one is labelled ``main``. A number in several people's
      cards is nobody's. Names stated as a company's legal representative
      ("Vertreten durch", "Geschäftsführer", "Directeur de la publication"…) own only what
      stands on their own line (an imprint's switchboard is not the managing director's).
    * a person's name is 2–4 capitalised words (particles such as ``van``, ``de`` allowed; an
      all-caps surname as in ``Marie DUPONT``, ``Margaux N'DIAYE``), none of them a job title,
      section word or legal form; :func:`name_score` compares names tolerant of accents,
      initials and order, never of near spellings (``Michaela`` is not ``Michael``,
      ``Schmitt`` is not ``Schmidt``).
"""

from __future__ import annotations

from leadsonar.domains.extract.emails import (
    clean_address,
    decode_cfemail,
    deobfuscate,
    find_emails,
    mailto_addresses,
)
from leadsonar.domains.extract.models import EmailFinding, PageFindings, PhoneFinding
from leadsonar.domains.extract.names import (
    INITIAL_MATCH_SCORE,
    NAME_MATCH_THRESHOLD,
    distinct_people,
    find_names,
    name_score,
    same_person,
    split_name,
)
from leadsonar.domains.extract.page import extract_page
from leadsonar.domains.extract.phones import (
    LABEL_WINDOW,
    find_phones,
    phone_label,
    phone_value,
    region_for,
)
from leadsonar.domains.extract.structured import extract_vcard, jsonld_findings

__all__ = [
    "INITIAL_MATCH_SCORE",
    "LABEL_WINDOW",
    "NAME_MATCH_THRESHOLD",
    "EmailFinding",
    "PageFindings",
    "PhoneFinding",
    "clean_address",
    "decode_cfemail",
    "deobfuscate",
    "distinct_people",
    "extract_page",
    "extract_vcard",
    "find_emails",
    "find_names",
    "find_phones",
    "jsonld_findings",
    "mailto_addresses",
    "name_score",
    "phone_label",
    "phone_value",
    "region_for",
    "same_person",
    "split_name",
]
