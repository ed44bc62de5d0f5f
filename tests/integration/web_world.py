"""A loopback web world of company sites for the website provider's tests.

Each site is served by a real HTTP server (:class:`~leadsonar.testing.webserver.LoopbackWeb`) on
its own ``127.0.0.x`` address, with A records in the loopback DNS. The pages vary on purpose:
an English team page of cards, a German Impressum and "Über uns" list, a French "équipe" page
with a linked vCard, a site whose people page is only in its sitemap and whose data is in
JSON-LD and behind Cloudflare's email protection. Traps: an unrelated person's number, fax and
support lines, a switchboard next to a managing director's name, and a page robots.txt
disallows that publishes a direct line.

Two more sites are written from the field's conventions rather than from the extractor (issue
8): ``kestrel.co.uk`` lists its people in a table with header columns (a direct and a mobile
column, Ofcom drama-range mobiles ``07700 900…``) under a ``div.site-footer`` switchboard;
``lindqvist.de`` has namesake cards ("Li Wagner" with a number, "Li Kowalczyk" without), a
German trunk with direct-dial suffixes, a JSON-LD ``employee`` with a ``ContactPoint``, a
``Zentrale`` footer, and published addresses that are a role's, nobody's or ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadsonar.testing.dnsserver import LoopbackDns
from leadsonar.testing.webserver import LoopbackWeb, Response

NOTION_IP = "127.0.0.20"
BEISPIEL_IP = "127.0.0.21"
EXEMPLE_IP = "127.0.0.22"
SITEMAP_IP = "127.0.0.23"

NOTION_HOME = """<!doctype html><html lang="en"><head>
<title>Notion – The all-in-one workspace</title>
<meta property="og:site_name" content="Notion"></head><body>
<nav><a href="/">Home</a> <a href="/product">Product</a> <a href="/about">About us</a>
<a href="/team">Our team</a> <a href="/contact">Contact</a> <a href="/private/board">Board</a>
<a href="/careers">Careers</a></nav>
<h1>Write, plan, share.</h1><p>Meet us at the fair, dot the i's and cross the t's.</p>
<footer><p>Notion Labs Inc., 2300 Harrison St, San Francisco, CA 94110</p>
<p>Main: (415) 555-0100 | Fax: (415) 555-0101</p></footer>
</body></html>"""

NOTION_TEAM = """<!doctype html><html lang="en"><head><title>Team – Notion</title></head><body>
<h1>Our team</h1>
<div class="people">
  <div class="card"><img src="/img/alex@2x.png" alt=""><h3>Alex Johnson</h3><p>Head of Sales</p>
    <p>Direct: <a href="tel:+14155550192">+1 (415) 555-0192</a></p>
    <p><a href="mailto:%20alex.johnson@notion.so?subject=Hello%20Alex">Email Alex</a></p></div>
  <div class="card"><h3>Maria Lopez</h3><p>Press relations</p>
    <p>Phone: 415.555.0177</p><p>maria.lopez [at] notion [dot] so</p></div>
  <div class="card"><h3>Sam Lee</h3><p>Engineering</p><p>sam.lee(at)notion(dot)so</p></div>
  <div class="card"><h3>Ola Nordmann</h3><p>Oslo office</p><p>Mobile: +47 406 12 345</p></div>
</div>
<p>Projects 03/2015 – 03/2016 and 2019–2021.</p>
<p>Support hotline: 1-415-555-0111</p>
</body></html>"""

NOTION_CONTACT = """<html lang="en"><head><title>Contact – Notion</title></head><body>
<h1>Contact us</h1><p>Switchboard: +1 415 555 0100</p>
<p>Write to <a href="mailto:hello@notion.so">hello@notion.so</a></p>
<p>Fax: +1 415 555 0101</p></body></html>"""

NOTION_PRIVATE = """<html><body><h1>Board</h1>
<div><h3>Chris Park</h3><p>Direct: +1 415 555 0199</p><p>chris.park@notion.so</p></div>
</body></html>"""

NOTION_ROBOTS = "User-agent: *\nDisallow: /private/\n"

BEISPIEL_HOME = """<!doctype html><html lang="de"><head><title>Beispiel GmbH | Startseite</title>
</head><body><nav><a href="/ueber-uns">Über uns</a> <a href="/impressum">Impressum</a>
<a href="/datenschutz">Datenschutz</a></nav><h1>Willkommen</h1></body></html>"""

BEISPIEL_IMPRESSUM = """<!doctype html><html lang="de"><head><title>Impressum</title></head>
<body><h1>Impressum</h1>
<p>Beispiel GmbH<br>Musterstraße 1<br>10115 Berlin</p>
<p>Vertreten durch: Jörg Großmann</p>
<p>Kontakt:<br>Telefon: 030 12345678<br>Telefax: 030 12345679<br>
E-Mail: vertrieb(at)beispiel-gmbh(dot)de</p>
<p>Registergericht: Amtsgericht Charlottenburg, HRB 123456</p></body></html>"""

BEISPIEL_TEAM = """<!doctype html><html lang="de"><head><title>Über uns</title></head><body>
<h1>Unser Team</h1>
<dl>
  <dt>Hanna Berg</dt>
  <dd>Vertrieb · Tel. 030 1234567-22 · Mobil 0151/23456789 ·
      hanna.berg [at] beispiel-gmbh [dot] de</dd>
  <dt>Dr. Jörg Großmann</dt><dd>Geschäftsführer · m.keller&#64;beispiel-gmbh.de ist sein Büro</dd>
</dl>
<p>Kontakt: hanna.be...@beispiel-gmbh.de (gekürzt)</p>
</body></html>"""

EXEMPLE_HOME = """<!doctype html><html lang="fr"><head><title>Exemple SAS – Accueil</title>
</head><body><a href="/equipe">L'équipe</a> <a href="/mentions-legales">Mentions légales</a>
</body></html>"""

EXEMPLE_EQUIPE = """<!doctype html><html lang="fr"><head><title>Notre équipe</title></head><body>
<h1>Notre équipe</h1><ul>
<li><strong>Marie DUPONT</strong> — Directrice commerciale — Ligne directe : 01 42 68 53 01 —
<a href="mailto:marie.dupont@exemple.fr">marie.dupont@exemple.fr</a></li>
<li><strong>Élodie Marchand</strong> — Responsable des achats —
<a href="/vcard/elodie-marchand.vcf">vCard</a></li>
</ul><p>Standard : 01 42 68 53 00</p></body></html>"""

EXEMPLE_VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Élodie Marchand\r\nN:Marchand;Élodie;;;\r\n"
    "EMAIL;TYPE=work:elodie.marchand@exemple.fr\r\nTEL;TYPE=cell:+33 6 12 34 56 78\r\n"
    "TEL;TYPE=work,fax:+33 1 42 68 53 09\r\nEND:VCARD\r\n"
)

SITEMAP_HOME = """<html lang="en"><head><title>Sitemapped Co</title></head><body>
<p>Welcome.</p></body></html>"""

SITEMAP_XML = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://sitemapped.test:{port}/</loc></url>
<url><loc>http://sitemapped.test:{port}/company/people</loc></url>
<url><loc>http://sitemapped.test:{port}/blog/hello</loc></url>
</urlset>"""

SITEMAP_PEOPLE = """<html lang="en"><head><title>People</title>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "Organization",
 "name": "Sitemapped Co", "telephone": "+1-212-555-0100", "faxNumber": "+1-212-555-0101",
 "employee": [{{"@type": "Person", "name": "Dana Whitfield", "telephone": "+1-212-555-0142",
   "email": "mailto:dana.whitfield@sitemapped.test"}}]}}</script></head><body>
<h1>People</h1><p>Dana Whitfield, COO</p>
<p>Press: <a href="/cdn-cgi/l/email-protection#{cf}">[email&#160;protected]</a></p>
</body></html>"""


KESTREL_HOME = """<!doctype html><html lang="en-GB"><head><title>Kestrel Ltd</title></head>
<body><nav><a href="/people">Our people</a></nav><h1>Kestrel</h1>
<div class="site-footer"><p>Kestrel Ltd, 1 Mill Lane, Leeds</p><p>020 7946 0000</p></div>
</body></html>"""

KESTREL_PEOPLE = """<!doctype html><html lang="en-GB"><head><title>People</title></head><body>
<h1>Our people</h1><table class="staff">
<thead><tr><th>Name</th><th>Role</th><th>Direct</th><th>Mobile</th><th>Email</th></tr></thead>
<tbody>
<tr><td>Oliver Smith</td><td>Managing Director</td><td>020 7946 0321</td><td>07700 900123</td>
<td><a href="mailto:o.smith@kestrel.co.uk">Email</a></td></tr>
<tr><td>Amelia Jones</td><td>Sales</td><td></td><td>+44 7700 900 124</td><td></td></tr>
<tr><td>Harry Brown</td><td>Finance</td><td></td><td></td><td></td></tr>
</tbody></table>
<div class="site-footer"><p>Kestrel Ltd · info@kestrel.co.uk</p><p>020 7946 0000</p></div>
</body></html>"""

LINDQVIST_HOME = """<!doctype html><html lang="de"><head><title>Lindqvist GmbH</title></head>
<body><a href="/team">Team</a><footer>Zentrale: +49 30 1234567-0</footer></body></html>"""

LINDQVIST_TEAM = """<!doctype html><html lang="de"><head><title>Team</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Organization",
 "name": "Lindqvist GmbH", "telephone": "+49 30 1234567-0",
 "employee": [{"@type": "Person", "name": "Eva Lind",
   "contactPoint": {"@type": "ContactPoint", "telephone": "+49 30 1234567-230"}}]}</script>
</head><body><h1>Unser Team</h1>
<div class="team">
  <div class="member"><h4>Li Wagner</h4><p>Vertrieb</p><p>Tel. +49 30 1234567-214</p>
    <p>li.wagner@lindqvist.de</p></div>
  <div class="member"><h4>Li Kowalczyk</h4><p>Einkauf</p></div>
  <div class="member"><h4>Eva Lind</h4><p>Buchhaltung</p></div>
</div>
<p>Schreiben Sie uns: kontakt@lindqvist.de · li@lindqvist.de · kowalczyk@lindqvist.de</p>
<footer>Zentrale: +49 30 1234567-0</footer></body></html>"""


def cf_encode(address: str, key: int = 0x54) -> str:
    """Cloudflare's email protection encoding (hex; first byte the XOR key)."""
    return f"{key:02x}" + "".join(f"{ord(ch) ^ key:02x}" for ch in address)


@dataclass
class WebWorld:
    web: LoopbackWeb
    dns: LoopbackDns


async def build_world(web: LoopbackWeb, dns: LoopbackDns) -> WebWorld:
    """Start the four sites and publish their A records."""
    for ip in (NOTION_IP, BEISPIEL_IP, EXEMPLE_IP, SITEMAP_IP):
        await web.listen(ip)
    web.site(
        "notion.so",
        {
            "/": NOTION_HOME,
            "/team": NOTION_TEAM,
            "/contact": NOTION_CONTACT,
            "/private/board": NOTION_PRIVATE,
            "/robots.txt": Response(NOTION_ROBOTS, content_type="text/plain"),
        },
    )
    web.site(
        "beispiel-gmbh.de",
        {"/": BEISPIEL_HOME, "/impressum": BEISPIEL_IMPRESSUM, "/ueber-uns": BEISPIEL_TEAM},
    )
    web.site(
        "exemple.fr",
        {
            "/": EXEMPLE_HOME,
            "/equipe": EXEMPLE_EQUIPE,
            "/vcard/elodie-marchand.vcf": Response(EXEMPLE_VCARD, content_type="text/vcard"),
        },
    )
    web.site(
        "sitemapped.test",
        {
            "/": SITEMAP_HOME,
            "/sitemap.xml": Response(
                SITEMAP_XML.format(port=web.port), content_type="application/xml"
            ),
            "/company/people": SITEMAP_PEOPLE.format(cf=cf_encode("press@sitemapped.test")),
        },
    )
    web.site("kestrel.co.uk", {"/": KESTREL_HOME, "/people": KESTREL_PEOPLE})
    web.site("lindqvist.de", {"/": LINDQVIST_HOME, "/team": LINDQVIST_TEAM})
    dns.add_a("kestrel.co.uk", NOTION_IP)
    dns.add_a("lindqvist.de", BEISPIEL_IP)
    dns.add_a("notion.so", NOTION_IP)
    dns.add_a("beispiel-gmbh.de", BEISPIEL_IP)
    dns.add_a("exemple.fr", EXEMPLE_IP)
    dns.add_a("sitemapped.test", SITEMAP_IP)
    return WebWorld(web, dns)
