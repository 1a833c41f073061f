"""The pure plan validator: each kind of problem, named by node and JSON pointer."""

from __future__ import annotations

from chalicelib.demo import demo_config, demo_plan
from domain.routing.plan import parse_plan
from domain.routing.validate import dangling, validate_plan
from domain.tenant import PlanPublished, TenantConfigured, fold

TENANT = fold("demo", [TenantConfigured(config=demo_config("t")),
                       PlanPublished(plan_id="main", version=1, document=demo_plan())], 2)


def problems(document):
    return {(p.node, p.pointer): p.message for p in validate_plan(document, TENANT)}


def test_the_demo_plan_is_valid_and_nothing_in_the_demo_dangles():
    assert validate_plan(demo_plan(), TENANT) == []
    assert dangling(TENANT) == []


def test_a_cycle_without_a_waiting_action_is_refused_but_one_through_a_menu_is_not():
    spin = {"root": {"id": "a", "action": "say", "data": {"text": "x"}, "children": {"_": {
        "id": "b", "action": "goto", "children": {"_": "a"}}}}}
    assert "form a loop" in problems(spin)[("a", "/root")]
    menu = {"root": {"id": "m", "action": "ivr_menu", "data": {"text": "x"}, "children": {"1": {
        "id": "b", "action": "goto", "children": {"_": "m"}}}}}
    assert problems(menu) == {}
    self_loop = {"root": {"id": "g", "action": "goto", "children": {"_": "g"}}}
    assert "form a loop" in problems(self_loop)[("g", "/root")]


def test_detached_nodes_are_reachable_only_through_references():
    document = {"root": {"action": "goto", "children": {"_": "used"}},
                "nodes": {"used": {"action": "hangup"}, "unused": {"action": "hangup"}}}
    assert problems(document) == {("unused", "/nodes/unused"): "node 'unused' cannot be reached from the root"}
    # and the engine's parser accepts the same document
    assert set(parse_plan("p", 1, document).nodes) == {"root", "used", "unused"}


def test_schema_dangling_reference_and_duplicate_id_problems_point_into_the_document():
    document = {"root": {"id": "r", "action": "ring_group", "data": {"group": "nope", "timeout": 1},
                         "children": {"_": {"id": "r", "action": "voicemail", "data": {"box": "nope"}}}}}
    found = problems(document)
    assert found[("r", "/root/data/timeout")] == "1 is less than the minimum of 5"
    assert found[("r", "/root/data/group")] == "no group 'nope' in the configuration"
    assert found[("r", "/root/children/_/id")] == "duplicate node id 'r'"
    assert validate_plan([], TENANT)[0].message.startswith("a plan must be")


def test_a_queue_node_must_name_a_configured_queue_and_queue_members_must_be_extensions():
    plan = {"root": {"id": "q", "action": "queue", "data": {"queue": "support"}}}
    assert "support" in problems(plan)[("q", "/root/data/queue")]
    with_queue = fold("demo", [TenantConfigured(config={**demo_config("t"), "queues": {
        "support": {"name": "Support", "members": ["103", {"agent": "999"}]}}}),
        PlanPublished(plan_id="main", version=1, document=demo_plan())], 2)
    assert validate_plan(plan, with_queue) == []
    assert [(r.owner, r.pointer, r.target) for r in dangling(with_queue)] == [
        ("queue 'support'", "/members/1/agent", "999")]
