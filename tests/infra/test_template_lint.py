"""cfn-lint passes on infra/template.yaml alone and on what ``chalice package --merge-template`` deploys."""

from __future__ import annotations

import json

from cfnlint.api import lint

from tests.infra.support import TEMPLATE, merged_template


def findings(template_text: str) -> list[str]:
    return [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in lint(template_text, regions=["us-east-1"])]


def test_the_infra_template_passes_cfn_lint_with_no_finding() -> None:
    # given the template as written; when linted; then nothing at all is reported (errors or warnings)
    assert findings(TEMPLATE.read_text()) == []


def test_the_template_chalice_deploys_after_merging_passes_cfn_lint() -> None:
    # given Chalice's SAM template of the real app (prod stage) merged with infra/template.yaml
    merged = merged_template()
    # when linted (Globals merged, SAM resources checked against SAM's schemas); then nothing is reported
    assert findings(json.dumps(merged)) == []


def test_cfn_lint_does_catch_a_broken_template() -> None:
    # given the template with the events table's billing mode misspelt
    broken = TEMPLATE.read_text().replace("BillingMode: PAY_PER_REQUEST", "BillingMode: PAY_PER_REQUESTS", 1)
    # when linted; then the bad value is reported, so the two tests above can fail
    assert any("PAY_PER_REQUESTS" in f for f in findings(broken))
