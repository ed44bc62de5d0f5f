"""Data flows one way (DESIGN.md §2a): the waterfall imports providers, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import leadsonar.providers

PROVIDERS = Path(leadsonar.providers.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_provider_module_imports_the_waterfall() -> None:
    offenders = {
        str(path.relative_to(PROVIDERS)): sorted(
            name for name in _imports(path) if name.startswith("leadsonar.waterfall")
        )
        for path in PROVIDERS.rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}
