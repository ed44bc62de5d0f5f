"""A provider LeadSonar does not ship, added by configuration alone (a TOML file), answering
over real HTTP from a scripted API on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from leadsonar.config import Settings
from leadsonar.providers.declarative import DeclarativeSpec, extract, load_specs
from leadsonar.testing.live import LiveServer
from leadsonar.testing.providerapi import Call, ProviderApi, Reply

TOML = """
[declarative_providers.acme]
fields = ["email", "phone"]
method = "POST"
url = "{{base_url}}/v2/people/lookup"
base_url = "{base_url}"
auth_header = "X-Acme-Token"
auth_template = "{{api_key}}"
query = {{ source = "leadsonar" }}
body = {{ person = {{ first = "{{first_name}}", last = "{{last_name}}" }}, company = "{{domain}}", company_name = "{{company}}" }}
email_path = "result.contact.email"
phone_path = "result.contact.phones[0].number"
phone_type_path = "result.contact.phones[0].type"
status_path = "result.contact.status"
statuses = {{ deliverable = "medium", risky = "low", undeliverable = "none" }}
verification = {{ deliverable = "valid", risky = "accept_all" }}
error_path = "error"
cost = 2.5
rate_limit = "20/second"
concurrency = 3

[declarative_providers.broken]
url = "{{base_url}}/x/{{nickname}}"
"""


def _acme(call: Call) -> Reply:
    person = call.body["person"] if isinstance(call.body, dict) else {}
    if person.get("first") == "Nobody":
        return Reply({"result": None}, 404)
    if person.get("first") == "Broke":
        return Reply({"error": "Your credit balance is empty"})  # a 200 with the error inside
    return Reply(
        {
            "result": {
                "contact": {
                    "email": f"{person['first'].lower()}.{person['last'].lower()}@notion.so",
                    "status": "deliverable",
                    "phones": [{"number": "+1 (415) 555-0192", "type": "direct"}],
                }
            }
        }
    )


async def test_a_toml_defined_provider_answers_through_the_api(
    make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ProviderApi() as api:
        api.on("POST", "/v2/people/lookup", _acme)
        config = tmp_path / "providers.toml"
        config.write_text(TOML.format(base_url=api.url), encoding="utf-8")
        monkeypatch.setenv("LEADSONAR_ACME_API_KEY", "acme-token-secret")
        settings = make_settings(
            providers="email=acme;phone=acme", declarative_providers_file=str(config)
        )
        async with LiveServer(settings) as live:
            key = await live.create_account("declarative", credits=5)
            async with httpx.AsyncClient(
                base_url=live.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                email = (
                    await client.post(
                        "/api/v1/find-email",
                        json={
                            "firstName": "Alex",
                            "lastName": "Johnson",
                            "website": "notion.so",
                            "company": "Notion",
                        },
                    )
                ).json()
                phone = (
                    await client.post(
                        "/api/v1/find-phone",
                        json={"firstName": "Sam", "lastName": "Lee", "website": "notion.so"},
                    )
                ).json()
                nobody = (
                    await client.post(
                        "/api/v1/find-email",
                        json={"firstName": "Nobody", "lastName": "Here", "website": "notion.so"},
                    )
                ).json()
                broke = (
                    await client.post(
                        "/api/v1/find-email",
                        json={"firstName": "Broke", "lastName": "Account", "website": "notion.so"},
                    )
                ).json()
                providers = await client.get("/api/v1/providers")
    assert email["email"] == "alex.johnson@notion.so"
    assert (email["provider"], email["confidence"], email["verification"]) == (
        "acme",
        "medium",
        "valid",
    )
    assert phone["phone"] == "+1-415-555-0192" and phone["type"] == "direct"
    assert nobody["email"] is None
    assert broke["email"] is None

    sent = api.matching("POST", "/v2/people/lookup")[0]
    assert sent.body == {
        "person": {"first": "Alex", "last": "Johnson"},
        "company": "notion.so",
        "company_name": "Notion",
    }
    assert sent.query == {"source": "leadsonar"} and "x-acme-token" in sent.header_names

    rows = {row["name"]: row for row in providers.json()["providers"]}
    acme = rows["acme"]
    assert (acme["kind"], acme["enabled"], acme["cost"]) == ("http", True, 2.5)
    assert acme["order"] == {"email": 1, "phone": 1}
    assert acme["limits"] == {"rate": "20 per 1 second", "concurrency": 3}
    assert acme["stats"]["creditsSpent"] == 5.0  # two answers at 2.5
    assert acme["stats"]["lastErrorClass"] == "out of credits"
    assert acme["status"] == "degraded" and acme["reason"] == "out of credits"
    broken = rows["broken"]
    assert broken["status"] == "unconfigured"
    assert "nickname" in broken["reason"]
    assert "acme-token-secret" not in providers.text


def test_spec_rules() -> None:
    specs = load_specs(
        {
            "ok": {"url": "{base_url}/find", "email_path": "data.email"},
            "typo": {"url": "{base_url}/find", "emial_path": "data.email"},
            "badlevel": {"url": "/find", "statuses": {"valid": "certain"}},
        },
        None,
    )
    assert isinstance(specs["ok"], DeclarativeSpec)
    assert isinstance(specs["typo"], str) and "emial_path" in specs["typo"]
    assert isinstance(specs["badlevel"], str) and "statuses" in specs["badlevel"]
    missing = load_specs({}, "/nonexistent/providers.toml")
    assert "cannot read" in str(missing["declarative_providers_file"])


def test_the_key_only_travels_in_a_header_and_auth_templates_take_only_the_key() -> None:
    """Refused when read, never a KeyError at every call: ``{api_key}`` outside the auth
    header (URLs and queries end up in logs), and any other placeholder in ``auth_template``
    (only the key is filled there)."""
    specs = load_specs(
        {
            "key_in_url": {"url": "{base_url}/find?api_key={api_key}&domain={domain}"},
            "key_in_query": {"url": "{base_url}/find", "query": {"key": "{api_key}"}},
            "key_in_body": {"url": "{base_url}/find", "body": {"key": "{api_key}"}},
            "auth_person": {"url": "{base_url}/find", "auth_template": "{first_name} {api_key}"},
            "auth_unknown": {"url": "{base_url}/find", "auth_template": "Token {token}"},
            "auth_positional": {"url": "{base_url}/find", "auth_template": "Bearer {}"},
            "auth_ok": {"url": "{base_url}/find", "auth_template": "Token token={api_key}"},
            "no_auth": {"url": "{base_url}/find", "auth_header": None},
        },
        None,
    )
    for name in ("key_in_url", "key_in_query", "key_in_body"):
        reason = specs[name]
        assert isinstance(reason, str) and "only travel in a header" in reason, name
    for name, word in (("auth_person", "first_name"), ("auth_unknown", "token")):
        reason = specs[name]
        assert isinstance(reason, str) and "auth_template" in reason and word in reason, name
    assert isinstance(specs["auth_positional"], str)
    assert isinstance(specs["auth_ok"], DeclarativeSpec)
    assert isinstance(specs["no_auth"], DeclarativeSpec)


def test_extract_paths() -> None:
    body = {"data": {"emails": [{"email": "a@x.com"}, {"email": "b@x.com"}]}}
    assert extract(body, "data.emails.1.email") == "b@x.com"
    assert extract(body, "$.data.emails[0].email") == "a@x.com"
    assert extract(body, "data.emails.7.email") is None
    assert extract(body, "data.missing.email") is None
    assert extract(None, "data") is None
