"""The generalization benchmark's worlds (``bench/field_world.py``, ``bench/classic_world.py``):
deterministic from a seed, well-formed, and with ground truth that follows the field's
conventions. Pure data: no servers, no network."""

from __future__ import annotations

import html
import json
import re
from collections import Counter

import phonenumbers
import pytest
from bench import classic_world, field_world
from bench.field_pages import cloudflare, full_name
from bench.scoring import Answer, figures, tally
from bench.spec import Spec, phone_key

LOCAL_PART = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return field_world.build(3, companies=36, queries=220)


def _pages(spec: Spec) -> dict[str, dict[str, object]]:
    return {site.host: site.pages(f"http://{site.host}:8080") for site in spec.sites}


def test_same_seed_same_world(spec: Spec) -> None:
    again = field_world.build(3, companies=36, queries=220)
    assert again.queries == spec.queries
    assert again.records == spec.records
    assert again.mail == spec.mail
    assert _pages(again) == _pages(spec)


def test_other_seed_other_world(spec: Spec) -> None:
    assert field_world.build(4, companies=36, queries=220).queries != spec.queries


def test_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        field_world.generate(1, companies=4, queries=100)


def test_query_mix_follows_the_lead_list_shares(spec: Spec) -> None:
    modes = Counter(q.kinds["mode"] for q in spec.queries)
    n = len(spec.queries)
    assert abs(modes["website"] - 0.55 * n) <= 1
    assert abs(modes["website+company"] - 0.25 * n) <= 1
    assert abs(modes["company"] - 0.20 * n) <= 1
    for q in spec.queries:
        assert (q.website is None) == (q.kinds["mode"] == "company")
        assert (q.company is None) == (q.kinds["mode"] == "website")
    outsiders = [q for q in spec.queries if not q.employee]
    assert 0.08 * n <= len(outsiders) <= 0.2 * n
    assert all(q.email is None and q.phone is None for q in outsiders)


def test_no_two_rows_are_the_same_request(spec: Spec) -> None:
    requests = Counter((q.first, q.last, q.domain) for q in spec.queries)
    assert max(requests.values()) == 1


def test_every_kind_the_issue_names_is_there() -> None:
    kinds: dict[str, set[str]] = {"mail": set(), "layout": set(), "tld": set(), "name": set()}
    for seed in (1, 2):
        for q in field_world.build(seed).queries:
            for axis in kinds:
                kinds[axis].add(q.kinds[axis])
    assert set(field_world.MAIL_SHARES) <= kinds["mail"]
    assert set(field_world.LAYOUTS) <= kinds["layout"]
    assert {"com", "io", "co", "de", "fr"} <= kinds["tld"]
    assert {"namesake_middle", "numbered", "middle_initial", "outsider_same_first"} <= kinds["name"]


def test_company_names_carry_descriptors_and_compound_legal_forms() -> None:
    names = [c.name for seed in range(1, 6) for c in field_world.generate(seed).companies]
    assert any(n.endswith("GmbH & Co. KG") for n in names)
    assert any(n.startswith("Groupe ") for n in names)
    assert any(n.endswith("Holding AG") for n in names)
    assert any(n.endswith(("S.A.S.", "SAS")) for n in names)


def test_domains_follow_naming_habits_unless_unrelated() -> None:
    world = field_world.generate(2)
    for c in world.companies:
        label = c.domain.rsplit(".", 1)[0]
        brand = field_world.mail_spelling(c.brand, c.locale == "de")
        assert (brand in label) == c.resolvable, (c.name, c.domain)
    decoys = {d.domain for d in world.decoys}
    assert decoys.isdisjoint(c.domain for c in world.companies)


def test_dns_and_servers_are_well_formed(spec: Spec) -> None:
    for domain, hosts in spec.records.mx.items():
        for _, host in hosts:
            assert host in spec.records.a, (domain, host)
    smtp = set(spec.smtp_hosts())
    assert all(server.ip in smtp for server in spec.mail)
    assert len({server.ip for server in spec.mail}) == len(spec.mail)
    for ip in list(smtp) + spec.web_hosts():
        assert ip.startswith("127.")
    for domain in spec.records.null_mx:
        assert domain not in spec.records.mx
    mail_hosts = {ip for ips in spec.records.a.values() for ip in ips}
    assert all(server.ip in mail_hosts for server in spec.mail)


def test_truth_addresses_exist_on_their_server(spec: Spec) -> None:
    boxes = {
        address for server in spec.mail for address in server.behaviour.get("mailboxes", set())
    }
    for q in spec.queries:
        if q.email:
            local, _, domain = q.email.partition("@")
            assert domain == q.domain and LOCAL_PART.fullmatch(local), q.email
            assert q.email in boxes
        if q.email_findable:
            assert q.email and q.employee


def test_published_numbers_are_numbers_and_not_company_lines(spec: Spec) -> None:
    published = [q for q in spec.queries if q.phone]
    assert len(published) >= 30
    for q in published:
        key = phone_key(q.phone)
        assert key and key != q.switchboard and key not in q.company_lines
        assert q.phone_type in ("direct", "mobile")
        assert phonenumbers.is_possible_number(phonenumbers.parse(q.phone))


def test_every_published_number_is_on_its_site(spec: Spec) -> None:
    sites = _pages(spec)
    for q in spec.queries:
        if not q.phone:
            continue
        text = json.dumps(sites[q.domain], ensure_ascii=False)
        digits = re.sub(r"\D", "", text)
        national = phone_key(q.phone).split(":")[1]
        assert national[:6] in digits, (q.first, q.last, q.phone)


def test_phone_key_reads_the_field_forms() -> None:
    assert phone_key("07700 900123", "GB") == phone_key("+44 7700 900123") == "44:7700900123"
    assert phone_key("+49 30 1234567-214") == phone_key("+49-30-1234567 ext. 214")
    assert phone_key("(415) 555-0100 ext. 12", "US") == phone_key("+14155550100;ext=12")
    assert phone_key("01 23 45 67 89", "FR") == "33:123456789"
    assert phone_key("not a number") is None


def test_cloudflare_encoding_decodes() -> None:
    code = cloudflare("anna.schmidt@example.de", 0x5A)
    key = int(code[:2], 16)
    decoded = "".join(chr(int(code[i : i + 2], 16) ^ key) for i in range(2, len(code), 2))
    assert decoded == "anna.schmidt@example.de"


def test_scoring_counts_switchboard_and_confidence(spec: Spec) -> None:
    phone_rows = [q for q in spec.queries if q.phone][:2]
    outsider = next(q for q in spec.queries if not q.employee)
    found = next(
        q
        for q in spec.queries
        if q.email_findable and q.kinds["mode"] == "website" and q not in phone_rows
    )
    answers = {
        phone_rows[0].index: Answer(phone=phone_rows[0].phone),
        phone_rows[1].index: Answer(phone="+" + phone_rows[1].switchboard.replace(":", "")),
        outsider.index: Answer(email=f"x@{outsider.domain}", confidence="medium"),
        found.index: Answer(email=found.email.upper(), confidence="high"),
    }
    f = figures(tally(spec.queries, answers))
    assert f["switchboard_as_phone"] == 1
    assert f["phone_precision_n"] == "1/2"
    assert f["not_working_there_high_or_medium"] == 1
    assert f["precision_high_n"] == "1/1"
    assert f["precision_high_or_medium_n"] == "1/2"


def test_classic_style_builds_the_same_shape() -> None:
    classic = classic_world.build(1, companies=12, queries=60)
    assert any(q.ask_email for q in classic.queries) and any(q.ask_phone for q in classic.queries)
    assert all(q.kinds["mode"] == "website" for q in classic.queries)
    assert classic_world.build(1, companies=12, queries=60).queries == classic.queries


def test_every_layout_renders_its_people(spec: Spec) -> None:
    world = field_world.generate(3, companies=36, queries=220)
    for company in world.companies:
        pages = _pages_of(company)
        listed = [p for p in company.people if p.listed]
        if company.layout == "none":
            assert company.team_path not in pages and not listed
            continue
        team = html.unescape(str(pages[company.team_path]))
        assert isinstance(team, str) and company.switchboard in team  # the footer
        for person in listed:
            assert person.last.upper() in team.upper() or person.last in team
        if company.layout == "jsonld":
            raw = team.split('<script type="application/ld+json">')[1].split("</script>")[0]
            data = json.loads(raw)
            assert data["@type"] == "Organization"
            assert {e["name"] for e in data["employee"]} == {full_name(p) for p in listed}
            assert len(data["employee"]) == len({full_name(p) for p in listed})  # none alike
        if company.layout == "vcard":
            cards = [v for k, v in pages.items() if k.endswith(".vcf")]
            assert len(cards) == len(listed)
            for card in cards:
                body = card["body"]
                assert body.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
                assert body.endswith("END:VCARD\r\n")


def _pages_of(company: field_world.Company) -> dict[str, object]:
    from bench.field_pages import site_pages

    return site_pages(company, f"http://{company.domain}:8080")


def test_decoys_never_name_the_company() -> None:
    from bench.field_pages import decoy_pages

    world = field_world.generate(2)
    companies = {c.index: c for c in world.companies}
    for decoy in world.decoys:
        home = decoy_pages(decoy, "http://x:1")["/"]
        company = companies[decoy.for_company]
        assert f"<title>{company.short}</title>" not in home  # the word, not the name
        assert f'content="{company.short}"' not in home
        assert ("for sale" in home) == (decoy.kind == "parked")


def test_some_sites_redirect_to_www_and_decoys_do_not(spec: Spec) -> None:
    companies = {q.domain for q in spec.queries}
    redirecting = [s for s in spec.sites if s.to_www]
    assert 0 < len(redirecting) < len(spec.sites)
    assert all(s.host in companies for s in redirecting)
    for site in spec.sites:
        assert f"www.{site.host}" in spec.records.a


@pytest.mark.parametrize("style", ["field", "classic"])
def test_an_oracle_scores_full_marks_and_silence_scores_none(style: str) -> None:
    world = (field_world.build if style == "field" else classic_world.build)(5, 16, 120)
    oracle = {
        q.index: Answer(
            email=q.email,
            confidence="high" if q.email else None,
            email_domain=q.domain,
            phone=q.phone,
            phone_type=q.phone_type,
        )
        for q in world.queries
    }
    f = figures(tally(world.queries, oracle))
    assert f["email_coverage"] == 1.0 and f["precision"] == 1.0
    assert f["precision_high"] == 1.0 and f["not_working_there_high_or_medium"] == 0
    assert f["direct_dial_coverage"] == 1.0 and f["phone_precision"] == 1.0
    assert f["phone_type_right"] == 1.0 and f["switchboard_as_phone"] == 0
    if style == "field":
        assert f["company_only_coverage"] == 1.0 and f["company_only_domain_right"] == 1.0
    silent = figures(tally(world.queries, {}))
    assert silent["email_coverage"] == 0.0 and silent["precision"] is None
    assert silent["direct_dial_coverage"] == 0.0 and silent["phone_precision"] is None
