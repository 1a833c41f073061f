"""Queues through the configuration API: CRUD, the call center's own validation as 422 pointers, references."""

from __future__ import annotations

import copy

from chalicelib.demo import demo_plan
from domain.callcenter.config import Member, queue_config
from tests.api.conftest import Api, body, errors

SUPPORT = {"id": "support", "name": "Support", "strategy": "longest_idle",
           "members": ["101", {"agent": "102", "penalty": 1}], "max_wait": 300, "exit_key": "*",
           "callback_key": "1", "overflow": "callback"}


def messages(response) -> list[str]:
    return [e["message"] for e in body(response)["errors"]]


def publish_plan_with_queue_node(api: Api, queue: str) -> None:
    document = copy.deepcopy(demo_plan())
    document["root"]["children"]["_"]["children"]["3"] = {"id": "support-queue", "action": "queue",
                                                          "data": {"queue": queue}}
    assert api.put("/plans/main/draft", document).status_code == 200
    published = api.post("/plans/main/publish")
    assert published.status_code == 201, body(published)


def test_a_queue_is_created_read_listed_patched_and_deleted_and_the_call_center_reads_it(api: Api, services):
    # when the administrator creates the support queue
    created = api.post("/queues", SUPPORT)
    assert created.status_code == 201, body(created)
    assert body(created) == SUPPORT
    # then it is read back and listed
    assert body(api.get("/queues/support")) == SUPPORT
    assert [q["id"] for q in body(api.get("/queues"))["items"]] == ["support"]
    # and the call center sees exactly that configuration
    cfg = queue_config(services.tenants.get("demo"), "support")
    assert cfg is not None and cfg.members == (Member("101"), Member("102", 1)) and cfg.max_wait == 300
    # when a merge-patch changes the strategy and removes the callback key
    patched = api.patch("/queues/support", {"strategy": "ring_all", "callback_key": None})
    assert patched.status_code == 200, body(patched)
    assert body(patched)["strategy"] == "ring_all" and "callback_key" not in body(patched)
    assert body(patched)["members"] == SUPPORT["members"]  # the rest is kept
    # then creating it again is a conflict, and deleting it removes it
    assert api.post("/queues", SUPPORT).status_code == 409
    assert api.delete("/queues/support").status_code == 204
    assert api.get("/queues/support").status_code == 404
    assert queue_config(services.tenants.get("demo"), "support") is None


def test_the_call_centers_own_rules_are_422_with_a_pointer_to_the_field(api: Api):
    bad_strategy = api.post("/queues", {"id": "q", "strategy": "loudest"})
    assert bad_strategy.status_code == 422
    assert "/strategy" in errors(bad_strategy) and "loudest" in errors(bad_strategy)["/strategy"]
    # ranges and keys come from parse_queue, not from the schema
    assert "/ring_seconds" in errors(api.post("/queues", {"id": "q", "ring_seconds": 2}))
    assert "/exit_key" in errors(api.post("/queues", {"id": "q", "exit_key": "**"}))
    same_keys = api.post("/queues", {"id": "q", "exit_key": "1", "callback_key": "1"})
    assert errors(same_keys) == {"/callback_key": "must differ from exit_key"}
    penalty = api.post("/queues", {"id": "q", "members": ["101", {"agent": "102", "penalty": 500}]})
    assert "/members/1/penalty" in errors(penalty)
    # the documented shape: unknown fields and wrong types
    assert errors(api.post("/queues", {"id": "q", "colour": "red"})) == {"/colour": "unknown field"}
    assert "/join_empty" in errors(api.post("/queues", {"id": "q", "join_empty": "yes"}))
    # a patch is checked on the merged result
    assert api.post("/queues", {"id": "q", "exit_key": "1"}).status_code == 201
    assert "/callback_key" in errors(api.patch("/queues/q", {"callback_key": "1"}))
    assert "callback_key" not in body(api.get("/queues/q"))


def test_members_must_be_extensions_of_the_tenant(api: Api):
    # when a queue names extensions 101 (exists) and 999 / 998 (do not)
    response = api.post("/queues", {"id": "q", "members": ["101", "999", {"agent": "998", "penalty": 2}]})
    # then each missing one is named at its own pointer
    assert response.status_code == 422
    assert errors(response) == {"/members/1": "no extension '999'", "/members/2/agent": "no extension '998'"}
    assert api.get("/queues/q").status_code == 404


def test_deleting_a_queue_a_published_plan_uses_is_refused_naming_the_node(api: Api):
    # given the support queue used by the published plan's node "support-queue"
    assert api.post("/queues", SUPPORT).status_code == 201
    publish_plan_with_queue_node(api, "support")
    # and a queue nobody uses
    assert api.post("/queues", {"id": "other"}).status_code == 201
    # when it is deleted
    refused = api.delete("/queues/support")
    # then it is refused, naming the plan node, and the queue is still there
    assert refused.status_code == 409
    assert messages(refused) == ["queue 'support' is still used by plan 'main' v2 node 'support-queue'"]
    assert api.get("/queues/support").status_code == 200
    # a queue nobody uses can go
    assert api.delete("/queues/other").status_code == 204


def test_deleting_a_queue_named_by_the_callback_or_widget_settings_is_refused(api: Api, services):
    from domain.tenant import TenantConfigPatched

    assert api.post("/queues", {"id": "support"}).status_code == 201
    services.tenants.append("demo", [TenantConfigPatched(path=["callbacks"], patch={"queue": "support"}, actor="t"),
                                     TenantConfigPatched(path=["widget"], patch={"queue": "support"}, actor="t")],
                            expected_version=services.tenants.get("demo").version)
    refused = api.delete("/queues/support")
    assert refused.status_code == 409
    assert messages(refused) == ["queue 'support' is still used by callbacks.queue",
                                 "queue 'support' is still used by widget.queue"]


def test_queue_changes_are_audited_as_merge_patches(api: Api, services):
    assert api.post("/queues", {"id": "support", "name": "Support"}).status_code == 201
    assert api.patch("/queues/support", {"max_size": 20}).status_code == 200
    stored, _ = services.store.load("tenant-demo")
    patches = [(e.data["path"], e.data["patch"]) for e in stored if e.event_type == "TenantConfigPatched"]
    assert patches[-2:] == [(["queues", "support"], {"name": "Support"}), (["queues", "support"], {"max_size": 20})]


def test_another_tenants_key_cannot_read_or_change_queues(api: Api, other_api: Api):
    assert other_api.post("/queues", {"id": "support"}).status_code == 201
    assert api.get("/api/v1/tenants/acme/queues").status_code == 403
    assert api.call("DELETE", "/api/v1/tenants/acme/queues/support").status_code == 403
    assert other_api.get("/queues/support").status_code == 200


def test_concurrent_patches_of_one_queue_all_land_and_the_result_is_still_valid(api: Api, services):
    import threading

    from chalicelib.api import collections as crud
    from chalicelib.api.queues import QUEUES
    from chalicelib.auth import Principal

    # given a queue, and 8 administrators each changing a different field at the same moment
    assert api.post("/queues", {"id": "support", "members": ["101"]}).status_code == 201
    changes = [{"ring_seconds": 20}, {"max_misses": 5}, {"wrapup_seconds": 30}, {"max_wait": 600},
               {"max_size": 40}, {"exit_key": "*"}, {"callback_key": "1"}, {"vip_priority": 50}]
    principal = Principal("demo", "api_key", "tests")
    barrier = threading.Barrier(len(changes))
    failures: list[BaseException] = []

    def write(patch: dict) -> None:
        barrier.wait()
        try:
            crud.patch(QUEUES, "demo", principal, "support", patch)
        except BaseException as e:  # noqa: BLE001 (reported below)
            failures.append(e)

    threads = [threading.Thread(target=write, args=(c,)) for c in changes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then none is lost and the call center reads the merged queue
    assert failures == []
    stored = body(api.get("/queues/support"))
    assert stored == {"id": "support", "members": ["101"], **{k: v for c in changes for k, v in c.items()}}
    cfg = queue_config(services.tenants.get("demo"), "support")
    assert cfg is not None and (cfg.ring_seconds, cfg.exit_key, cfg.callback_key) == (20, "*", "1")
