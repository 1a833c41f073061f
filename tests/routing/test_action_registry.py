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


def test_the_readme_plan_example_passes_publish_validation() -> None:
    import json

    from chalicelib.demo import demo_config
    from domain.routing.validate import validate_plan
    from domain.tenant import TenantSnapshot

    readme = (DOCS.parents[1] / "README.md").read_text()
    example = json.loads(readme.split("## Routing plans", 1)[1].split("```json", 1)[1].split("```", 1)[0])
    config = demo_config("token")
    config["schedules"]["office"] = {"weekly": {"mon": [["09:00", "18:00"]]}}
    assert validate_plan(example, TenantSnapshot(tenant_id="demo", config=config)) == []
