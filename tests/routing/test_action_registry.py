"""One action = one module + one JSON schema + one doc page, through an explicit registry."""

from __future__ import annotations

from pathlib import Path

from jsonschema import Draft202012Validator

from domain.actions import REGISTRY

DOCS = Path(__file__).resolve().parents[2] / "docs" / "actions"


def test_every_action_has_a_valid_schema() -> None:
    for name, action in REGISTRY.items():
        Draft202012Validator.check_schema(action.schema)
        assert action.schema.get("type") == "object", name


def test_every_action_has_a_doc_page_naming_it() -> None:
    missing = [name for name in REGISTRY if not (DOCS / f"{name}.md").exists()]
    assert missing == []
    for name in REGISTRY:
        assert f"# `{name}`" in (DOCS / f"{name}.md").read_text() or name in (DOCS / f"{name}.md").read_text()
