"""The accuracy benchmark's world generator (``bench/world.py``): deterministic from a seed, the
promised shares, and ground truth that follows the rules in its docstring. No servers."""

from __future__ import annotations

import ipaddress
import random
import re
from collections import Counter

import pytest
from bench.world import (
    BEHAVIOUR_SHARES,
    CHECKABLE,
    PATTERN_SHARES,
    World,
    fold,
    generate,
    quota,
    render,
)

from leadsonar.testing.smtpserver import SmtpBehaviour

LOCAL_PART = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")


@pytest.fixture(scope="module")
def world() -> World:
    return generate(seed=7, domains=60, people=600)


def test_same_seed_same_world(world: World) -> None:
    again = generate(seed=7, domains=60, people=600)
    assert again.lookups == world.lookups
    assert [(d.name, d.pattern, d.behaviour, d.mx, d.mailboxes) for d in again.domains] == [
        (d.name, d.pattern, d.behaviour, d.mx, d.mailboxes) for d in world.domains
    ]


def test_other_seed_other_world(world: World) -> None:
    assert generate(seed=8, domains=60, people=600).lookups != world.lookups


def test_size_and_reserved_tld(world: World) -> None:
    assert len(world.domains) == 60 and len(world.lookups) == 600
    assert len({d.name for d in world.domains}) == 60
    assert all(d.name.endswith(".test") for d in world.domains)
    assert sum(p.employee for p in world.lookups) >= 500


@pytest.mark.parametrize("shares", [PATTERN_SHARES, BEHAVIOUR_SHARES])
def test_quota_deals_shares_to_within_one(shares: dict[str, float]) -> None:
    for n in (20, 60, 137):
        counts = Counter(quota(shares, n, random.Random(1)))
        assert sum(counts.values()) == n
        for key, share in shares.items():
            assert abs(counts[key] - share * n) < 1


def test_pattern_and_behaviour_shares(world: World) -> None:
    patterns = Counter(d.pattern for d in world.domains)
    behaviours = Counter(d.behaviour for d in world.domains)
    assert patterns.most_common(3) == [("first.last", 27), ("first", 9), ("flast", 7)]
    assert behaviours["catch_all"] == 15  # a quarter
    for kind in ("greylist", "blocked", "tarpit", "mx_failover", "busy_after_unknown"):
        assert behaviours[kind] == 3  # 5%
    assert behaviours["session_limit"] == 2  # 3%
    blocks = Counter(d.block for d in world.domains if d.behaviour == "blocked")
    assert set(blocks) == {"rcpt", "banner"}


def test_people_who_do_not_work_there_are_a_tenth(world: World) -> None:
    absent = [p for p in world.lookups if not p.employee]
    assert len(absent) == 60
    assert all(p.truth is None and p.mailbox is None and p.findable is None for p in absent)
    for p in absent:  # never the name of someone with a mailbox at that domain
        staff = {(q.first, q.last) for q in world.lookups if q.domain == p.domain and q.employee}
        colleagues = {(f, la) for f, la, _ in world.by_domain[p.domain].colleagues}
        assert (p.first, p.last) not in staff | colleagues


def test_mailbox_states_and_name_traits_are_all_present(world: World) -> None:
    tags = Counter(t for p in world.lookups for t in p.tags)
    for tag in (
        "accent",
        "particle",
        "hyphen",
        "apostrophe",
        "double_surname",
        "transliterated",
        "twin",
        "full",
        "disabled",
    ):
        assert tags[tag] > 0, tag
    employees = sum(p.employee for p in world.lookups)
    assert 0.005 < tags["full"] / employees < 0.05
    assert 0.005 < tags["disabled"] / employees < 0.05


def test_every_mailbox_is_a_plain_ascii_local_part(world: World) -> None:
    for domain in world.domains:
        for address in domain.mailboxes:
            local, _, host = address.partition("@")
            assert host == domain.name
            assert LOCAL_PART.fullmatch(local), address


def test_truth_and_findability_follow_the_documented_rules(world: World) -> None:
    by_domain = world.by_domain
    for p in world.lookups:
        domain = by_domain[p.domain]
        if not p.employee or p.state == "disabled":
            assert p.truth is None and p.findable is None
            continue
        assert p.truth == p.mailbox and p.truth in domain.mailboxes
        if p.findable == "verify":
            assert domain.behaviour in CHECKABLE
            assert not p.truth.partition("@")[0][-1].isdigit()
        elif p.findable == "guess":
            assert domain.behaviour in ("catch_all", "blocked")
        else:
            assert "twin" in p.tags or "pattern_exception" in p.tags


def test_the_domain_pattern_makes_the_address_unless_it_was_taken(world: World) -> None:
    german = {"Jörg", "Jürgen", "Günther", "Sören", "Käthe", "Björn"}
    for p in world.lookups:
        if not p.employee or {"twin", "pattern_exception"} & set(p.tags):
            continue
        assert p.mailbox is not None
        domain = world.by_domain[p.domain]
        if p.first in german and domain.locale == "de":
            assert "oe" in p.mailbox or "ue" in p.mailbox or "ae" in p.mailbox
        if not {"transliterated", "double_surname"} & set(p.tags):
            german_domain = domain.locale == "de"
            mail_first, mail_last = (
                fold(p.first, german=german_domain),
                fold(p.last, german=german_domain),
            )
            assert p.mailbox == f"{render(domain.pattern, mail_first, mail_last)}@{p.domain}"
        elif "double_surname" in p.tags:  # the first surname only: Navarro Quintero → navarro
            full_last = fold(p.last, german=domain.locale == "de")
            assert full_last not in p.mailbox or domain.pattern in ("first", "firstl")


def test_namesakes_get_different_addresses(world: World) -> None:
    groups: dict[tuple[str, str, str], list[str]] = {}
    for p in world.lookups:
        if p.mailbox:
            groups.setdefault((p.first, p.last, p.domain), []).append(p.mailbox)
    twins = [addresses for addresses in groups.values() if len(addresses) > 1]
    assert twins
    assert all(len(set(addresses)) == len(addresses) for addresses in twins)


@pytest.mark.parametrize(
    ("name", "german", "mailbox"),
    [
        ("Élodie", False, "elodie"),
        ("Großmann", False, "grossmann"),
        ("Jörg", True, "joerg"),
        ("Jörg", False, "jorg"),
        ("Søren", False, "soren"),
        ("Łukasz", False, "lukasz"),
        ("Ləman", False, "leman"),
        ("Tağızadə", False, "tagizade"),
        ("van der Berg", False, "vanderberg"),
        ("O'Keeffe", False, "okeeffe"),
        ("O’Connor", False, "oconnor"),
        ("Jean-Luc", False, "jeanluc"),
    ],
)
def test_fold_spells_names_as_mail_admins_do(name: str, german: bool, mailbox: str) -> None:
    assert fold(name, german=german) == mailbox


def test_servers_are_loopback_and_behaviours_are_smtp_fields(world: World) -> None:
    hosts = world.hosts()
    assert len(hosts) == len(set(hosts))
    assert all(ipaddress.ip_address(h) in ipaddress.ip_network("127.0.0.0/8") for h in hosts)
    assert "127.0.0.1" not in hosts  # left to the DNS server and the app
    for domain in world.domains:
        kwargs = domain.smtp_behaviour()
        kwargs.pop("name")
        behaviour = SmtpBehaviour(**kwargs)  # every key is a real field
        assert behaviour.catch_all == (domain.behaviour == "catch_all")
        assert behaviour.busy_after_unknown == (domain.behaviour == "busy_after_unknown")
        assert (behaviour.max_sessions is not None) == (domain.behaviour == "session_limit")
        assert (len(domain.mx) == 2) == (domain.behaviour == "mx_failover")
        assert domain.mx[-1].live and all(not h.live for h in domain.mx[:-1])
        if domain.behaviour == "tarpit":
            assert 1.0 <= behaviour.banner_delay <= 3.0


def test_quick_world_is_small_and_still_mixed() -> None:
    quick = generate(seed=7, domains=20, people=150)
    assert len(quick.domains) == 20 and len(quick.lookups) == 150
    assert len({d.behaviour for d in quick.domains}) == len(BEHAVIOUR_SHARES)


def test_too_small_a_world_is_refused() -> None:
    with pytest.raises(ValueError):
        generate(seed=1, domains=5, people=600)
    with pytest.raises(ValueError):
        generate(seed=1, domains=60, people=100)
