"""Plans: drafts, publishing the next version after validation, history; a published plan answers calls."""

from __future__ import annotations

import copy

from chalicelib.demo import demo_plan
from tests.api.conftest import Api, body, errors
from tests.conftest import call_params

GREETING = {"root": {"id": "hello", "action": "say", "data": {"text": "Hello from version two"},
                     "children": {"_": {"id": "bye", "action": "hangup", "data": {}}}}}


def test_publishing_a_draft_appends_the_next_version_and_keeps_history(api: Api):
    # given the demo plan at version 1
    assert body(api.get("/plans/main"))["versions"] == [1]
    # when a new draft is saved and published
    saved = api.put("/plans/main/draft", GREETING)
    assert saved.status_code == 200 and body(saved)["problems"] == []
    published = api.post("/plans/main/publish")
    # then version 2 is current and version 1 is still readable
    assert published.status_code == 201
    plan = body(api.get("/plans/main"))
    assert (plan["version"], plan["versions"], plan["document"]) == (2, [1, 2], GREETING)
    assert body(api.get("/plans/main/versions/1"))["document"] == demo_plan()
    assert [p["id"] for p in body(api.get("/plans"))["items"]] == ["main"]


def test_a_draft_replaces_the_previous_draft_instead_of_merging(api: Api):
    api.put("/plans/alt/draft", {"root": {"action": "hangup", "data": {}}, "nodes": {"x": {"action": "hangup"}}})
    api.put("/plans/alt/draft", {"root": {"action": "hangup", "data": {}}})
    assert body(api.get("/plans/alt"))["draft"] == {"root": {"action": "hangup", "data": {}}}


def test_calls_use_the_newly_published_version(api: Api, gateway):
    api.put("/plans/main/draft", GREETING)
    api.post("/plans/main/publish")
    response = gateway.post("voice", call_params("CA" + "7" * 32))
    assert "Hello from version two" in response.body and "<Hangup/>" in response.body


def test_publish_refuses_bad_plans_naming_every_node(api: Api):
    draft = {"root": {"id": "start", "action": "say", "data": {"text": "hi", "colour": 1}, "children": {
        "_": {"id": "spin", "action": "goto", "children": {"_": "start"}}}},
        "nodes": {"orphan": {"action": "hangup"}, "typo": {"action": "ring_extention", "data": {}},
                  "gone": {"action": "ring_extension", "data": {"extension": "999"}, "children": {"_": "nowhere"}}}}
    assert len(body(api.put("/plans/bad/draft", draft))["problems"]) >= 5
    refused = api.post("/plans/bad/publish")
    assert refused.status_code == 422
    by_node: dict[str, str] = {}
    for e in body(refused)["errors"]:
        by_node[e["node"]] = by_node.get(e["node"], "") + e["message"] + "; "
    assert "'colour' was unexpected" in by_node["start"]
    assert "nodes ['spin', 'start'] form a loop" in by_node["spin"]
    assert "cannot be reached" in by_node["orphan"]
    assert "unknown action 'ring_extention'" in by_node["typo"]
    found = errors(refused)
    assert "no extension '999'" in found["/nodes/gone/data/extension"]
    assert "unknown node 'nowhere'" in found["/nodes/gone/children/_"]
    assert body(api.get("/plans/bad"))["versions"] == []


def test_publishing_without_a_draft_is_404_and_a_number_needs_a_published_plan(api: Api):
    assert api.post("/plans/none/publish").status_code == 404
    api.put("/plans/later/draft", {"root": {"action": "hangup"}})
    assert "/plan" in errors(api.post("/numbers", {"id": "+15550001002", "plan": "later"}))
    api.post("/plans/later/publish")
    assert api.post("/numbers", {"id": "+15550001002", "plan": "later"}).status_code == 201


def test_a_loop_through_a_menu_is_fine_because_the_menu_waits(api: Api):
    plan = copy.deepcopy(demo_plan())
    plan["root"]["children"]["_"]["children"]["9"] = "menu"  # press 9 to hear the menu again
    api.put("/plans/main/draft", plan)
    assert api.post("/plans/main/publish").status_code == 201
