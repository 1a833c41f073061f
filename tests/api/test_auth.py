"""API keys: shown once, stored hashed, scoped to one tenant; 401 without a valid key, 403 elsewhere."""

from __future__ import annotations

import json

from chalicelib.auth import ApiKeyCreated, create_api_key
from chalicelib.cli import main
from tests.api.conftest import Api, body, errors


def test_a_new_key_is_returned_once_and_only_its_hash_is_stored(services, api: Api):
    # given a key created through the API
    created = api.post("/api-keys", {"label": "ci", "scopes": ["config.read"]})
    assert created.status_code == 201
    key = body(created)["key"]
    # then the tenant stream holds its sha256, never the secret
    stored, _ = services.store.load("tenant-demo")
    data = json.dumps([dict(e.data) for e in stored])
    assert key.split("_", 2)[2] not in data and "ApiKeyCreated" in {e.event_type for e in stored}
    # and listing the keys never shows a secret again
    listed = body(api.get("/api-keys"))["items"]
    assert all("key" not in item for item in listed)
    mine = next(item for item in listed if item["id"] == body(created)["id"])
    assert (mine["label"], mine["scopes"], mine["revoked_at"]) == ("ci", ["config.read"], None)


def test_requests_without_or_with_a_bad_key_get_401(api: Api):
    tampered = api.key[:-1] + ("A" if api.key[-1] != "A" else "B")  # same key id, wrong secret
    for key in ("", "vpbx_0123456789abcdef_" + "x" * 43, "not-a-key", tampered):
        response = Api(api.client, key, "demo").get("/extensions")
        assert response.status_code == 401, key
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert body(response)["errors"][0]["message"]


def test_a_revoked_key_stops_working_at_once(api: Api, services):
    # given a second key that works
    key, record = create_api_key(services, "demo", label="temp")
    temp = Api(api.client, key, "demo")
    assert temp.get("/extensions").status_code == 200
    # when it is revoked
    assert api.delete(f"/api-keys/{record.key_id}").status_code == 204
    # then it is refused
    assert temp.get("/extensions").status_code == 401
    assert api.delete(f"/api-keys/{record.key_id}").status_code == 404


def test_a_key_of_another_tenant_gets_403(api: Api, other_tenant: str):
    response = api.get(f"/api/v1/tenants/{other_tenant}/extensions")
    assert response.status_code == 403
    assert other_tenant in errors(response)[""]


def test_a_read_only_key_cannot_write_nor_mint_wider_keys(api: Api, services):
    key, _ = create_api_key(services, "demo", scopes=["config.read", "apikeys.manage"])
    reader = Api(api.client, key, "demo")
    assert reader.get("/extensions/100").status_code == 200
    refused = reader.patch("/extensions/100", {"dnd": True})
    assert refused.status_code == 403 and "config.write" in errors(refused)[""]
    wider = reader.post("/api-keys", {"scopes": ["*"]})
    assert wider.status_code == 403 and "/scopes/0" in errors(wider)


def test_cli_creates_a_key_that_the_api_accepts(services, api: Api, capsys):
    # when the bootstrap command runs
    assert main(["apikey", "create", "--tenant", "demo", "--label", "boot"]) == 0
    key = capsys.readouterr().out.splitlines()[0]
    # then the printed key works
    assert Api(api.client, key, "demo").get("/settings").status_code == 200
    assert main(["apikey", "create", "--tenant", "nobody"]) == 1


def test_key_events_are_folded_back_with_scopes(services):
    key, record = create_api_key(services, "demo", scopes=["plans.publish", "config.read"])
    stored, _ = services.store.load("tenant-demo")
    created = [e for e in stored if e.event_type == ApiKeyCreated.event_type][-1]
    assert created.data["scopes"] == ["config.read", "plans.publish"]
    assert record.scopes == frozenset({"config.read", "plans.publish"}) and key.startswith(f"vpbx_{record.key_id}_")


def test_a_signed_in_owner_may_grant_full_access_but_an_agent_may_grant_nothing():
    from chalicelib.auth import Principal

    owner = Principal("demo", "user", "u1", roles=frozenset({"owner"}))
    agent = Principal("demo", "user", "u2", roles=frozenset({"agent"}))
    assert owner.can("*") and owner.can("config.*") and owner.can("config.write")
    assert not agent.can("*") and not agent.can("config.*") and not agent.can("config.read")
    scoped = Principal("demo", "api_key", "k", scopes=frozenset({"config.*"}))
    assert scoped.can("config.write") and scoped.can("config.*") and not scoped.can("*")
