"""docs/configuration.md names every setting the code reads (the docs stay current)."""

from __future__ import annotations

from pathlib import Path

from leadsonar.config import describe_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [env for env, _, _ in describe_settings() if f"`{env}`" not in text]
    assert missing == []


def test_every_setting_has_a_meaning() -> None:
    assert [env for env, _, meaning in describe_settings() if not meaning] == []
