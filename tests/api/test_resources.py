"""CRUD over the configuration: merge-patch semantics, 422 with JSON pointers, 404, cross references."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, body, errors

NEW = {
    "extensions": {"id": "104", "name": "Nina New", "devices": [{"type": "sip", "uri": "sip:104@demo.test"},
                                                               {"type": "mobile", "number": "+447700900123"}]},
    "groups": {"id": "support", "name": "Support", "members": ["103", "100"], "strategy": "sequential"},
    "voicemail-boxes": {"id": "200", "email": "box@demo.test", "greeting": "Leave a message"},
    "schedules": {"id": "office", "timezone": "Europe/Moscow", "weekly": {"mon": [["09:00", "18:00"]]},
                  "holidays": ["2026-12-31"]},
    "conference-rooms": {"id": "board", "name": "Board", "pin": "1234", "moderator_pin": "9999"},
    "numbers": {"id": "+74951234567", "plan": "main", "label": "Moscow office"},
}


@pytest.mark.parametrize("collection", sorted(NEW))
def test_an_item_can_be_created_read_listed_patched_and_deleted(api: Api, collection: str):
    item = NEW[collection]
    # when it is created
    created = api.post(f"/{collection}", item)
    assert created.status_code == 201, body(created)
    assert {k: v for k, v in body(created).items() if k in item} == item
    # then it can be read back and is listed
    assert body(api.get(f"/{collection}/{item['id']}")) == body(created)
    assert item["id"] in [i["id"] for i in body(api.get(f"/{collection}"))["items"]]
    # and creating it twice is a conflict
    assert api.post(f"/{collection}", item).status_code == 409
    # when it is deleted it is gone
    assert api.delete(f"/{collection}/{item['id']}").status_code == 204
    assert api.get(f"/{collection}/{item['id']}").status_code == 404
    assert api.delete(f"/{collection}/{item['id']}").status_code == 404


def test_patch_changes_one_field_and_keeps_the_others(api: Api):
    # given extension 101 with a name, a device and a mailbox
    before = body(api.get("/extensions/101"))
    # when only do-not-disturb and one forwarding rule are set
    after = body(api.patch("/extensions/101", {"dnd": True, "forwarding": {"busy": "+15550007777"}}))
    # then nothing else changed
    assert after == {**before, "dnd": True, "forwarding": {"busy": "+15550007777"}}
    # and a nested patch merges too, null removes a field
    again = body(api.patch("/extensions/101", {"forwarding": {"no_answer": {"to": "+15550008888"}}, "dnd": None}))
    assert again["forwarding"] == {"busy": "+15550007777", "no_answer": {"to": "+15550008888"}}
    assert "dnd" not in again and again["name"] == before["name"]


def test_every_bad_field_is_named_by_a_json_pointer(api: Api):
    response = api.post("/extensions", {"id": "104", "name": "", "devices": [
        {"type": "sip", "uri": "not-a-uri"}, {"type": "mobile", "number": "+1555"}, {"type": "client"}],
        "forwarding": {"busy": "12345"}, "colour": "red"})
    assert response.status_code == 422
    found = errors(response)
    assert set(found) >= {"/name", "/devices/0/uri", "/devices/1/number", "/devices/2", "/forwarding/busy", "/colour"}
    assert found["/colour"] == "unknown field"
    assert "E.164" in found["/devices/1/number"]


def test_an_extensions_direct_line_must_be_one_of_the_companys_numbers_and_its_dial_out_a_known_level(api: Api):
    stranger = api.patch("/extensions/101", {"caller_id": "+12025550100", "dial_out": "everywhere"})
    assert stranger.status_code == 422 and set(errors(stranger)) >= {"/dial_out"}
    assert errors(api.patch("/extensions/101", {"caller_id": "+12025550100"})) == {
        "/caller_id": "+12025550100 is not one of the company's numbers"}
    ok = api.patch("/extensions/101", {"caller_id": "+15550001000", "dial_out": "international"})
    assert ok.status_code == 200 and (body(ok)["caller_id"], body(ok)["dial_out"]) == ("+15550001000", "international")


@pytest.mark.parametrize("number", ["+442079460958", "+74951234567", "+81312345678", "+5511987654321"])
def test_numbers_of_any_country_are_accepted_and_bad_ones_refused(api: Api, number: str):
    assert api.post("/numbers", {"id": number, "plan": "main"}).status_code == 201
    bad = api.post("/numbers", {"id": number[:-5], "plan": "main"})
    assert bad.status_code == 422 and "/id" in errors(bad)


def test_unknown_ids_are_404(api: Api):
    for path in ("/extensions/999", "/groups/nope", "/numbers/+15559990000", "/plans/nope", "/lists/greylist",
                 "/plans/main/versions/7", "/audio/nope", "/voicemail-boxes/nope"):
        assert api.get(path).status_code == 404, path


def test_references_must_exist_when_written(api: Api):
    # a group member, a number's plan, an extension's mailbox and a forwarding schedule must exist
    group = api.post("/groups", {"id": "g", "name": "G", "members": ["101", "777"]})
    assert group.status_code == 422 and "777" in errors(group)["/members/1"]
    number = api.post("/numbers", {"id": "+15550001001", "plan": "nope"})
    assert "/plan" in errors(number)
    ext = api.patch("/extensions/101", {"voicemail": "nope", "forwarding": {"busy": {"to": "+15550007777",
                                                                                    "schedule": "nope"}}})
    assert set(errors(ext)) == {"/voicemail", "/forwarding/busy/schedule"}
    weights = api.post("/groups", {"id": "w", "name": "W", "members": ["101"], "weights": {"102": 2}})
    assert "/weights/102" in errors(weights)


def test_deleting_what_a_published_plan_or_a_group_uses_is_refused(api: Api):
    # extension 103 is rung by the published plan's support node
    refused = api.delete("/extensions/103")
    assert refused.status_code == 409
    assert "plan 'main' v1 node 'support'" in errors(refused)[""]
    # extension 102 is only a member of the sales group
    member = api.delete("/extensions/102")
    assert member.status_code == 409 and "group 'sales'" in errors(member)[""]
    # and both still exist
    assert api.get("/extensions/103").status_code == 200 and api.get("/extensions/102").status_code == 200


def test_voicemail_pins_are_hashed_and_never_shown(api: Api, services):
    created = body(api.post("/voicemail-boxes", {"id": "300", "pin": "4321"}))
    assert created == {"id": "300", "pin_set": True}
    stored = services.tenants.get("demo").section("voicemail_boxes")["300"]
    assert "4321" not in str(stored) and stored["pin_hash"].startswith("pbkdf2_sha256$")
    from chalicelib.auth import verify_pin

    assert verify_pin(stored["pin_hash"], "4321") and not verify_pin(stored["pin_hash"], "1234")
    # a patch of another field keeps the PIN; the hash cannot be written directly
    assert body(api.patch("/voicemail-boxes/300", {"email": "x@demo.test"}))["pin_set"] is True
    assert "/pin_hash" in errors(api.patch("/voicemail-boxes/300", {"pin_hash": "x"}))
    assert body(api.patch("/voicemail-boxes/300", {"pin": None}))["pin_set"] is False


def test_schedule_hours_and_time_zones_are_checked(api: Api):
    response = api.post("/schedules", {"id": "s", "timezone": "Mars/Olympus", "weekly": {
        "mon": [["18:00", "09:00"]], "fun": []}, "holidays": ["2026-02-30"]})
    assert set(errors(response)) == {"/timezone", "/weekly/fun", "/holidays/0"}
    backwards = api.post("/schedules", {"id": "s", "weekly": {"mon": [["18:00", "09:00"]]}})
    assert errors(backwards) == {"/weekly/mon/0": "18:00 is not before 09:00"}


def test_lists_add_replace_and_remove_entries(api: Api, services):
    assert api.post("/lists/whitelist/entries", {"number": "+15550002000", "priority": True}).status_code == 201
    api.post("/lists/blacklist/entries", {"number": "+15550003000"})
    black = body(api.get("/lists/blacklist"))["entries"]
    assert black == [{"number": "+15550009999"}, {"number": "+15550003000"}]
    # plain numbers stay plain strings for the call path
    assert services.tenants.get("demo").in_list("blacklist", "+15550003000")
    assert api.delete("/lists/blacklist/entries/+15550009999").status_code == 200
    assert body(api.get("/lists/blacklist"))["entries"] == [{"number": "+15550003000"}]
    dup = api.put("/lists/blacklist", {"entries": [{"number": "+15550003000"}, {"number": "+15550003000"}]})
    assert dup.status_code == 422 and "/entries/0/number" in errors(dup)
    assert api.delete("/lists/blacklist/entries/+15550001234").status_code == 404


def test_settings_patch_validates_language_and_time_zone_and_hides_secrets(api: Api):
    assert body(api.patch("/settings", {"language": "ru-RU"})) == {
        "name": "Demo Company", "language": "ru-RU", "timezone": "America/New_York"}
    assert set(errors(api.patch("/settings", {"timezone": "Nowhere/City", "gateway": {}}))) == {"/timezone",
                                                                                                "/gateway"}
    assert "auth_token" not in str(body(api.get("/settings")))


def test_malformed_json_is_400_and_a_non_object_patch_422(api: Api):
    response = api.call("PATCH", "/extensions/101", raw=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in errors(response)[""]
    assert api.patch("/extensions/101", [1, 2]).status_code == 422


def test_the_demo_configuration_passes_the_apis_own_validation(services):
    # the shapes the call path reads and the shapes the API accepts are the same
    from chalicelib.api.extensions import EXTENSIONS
    from chalicelib.api.groups import GROUPS
    from chalicelib.api.lists import ENTRY
    from chalicelib.api.numbers import NUMBERS
    from chalicelib.api.schedules import SCHEDULES
    from chalicelib.api.validation import schema_errors
    from chalicelib.api.voicemail import BOXES

    tenant = services.tenants.get("demo")
    problems = []
    for coll in (EXTENSIONS, GROUPS, NUMBERS, SCHEDULES, BOXES):
        for item_id, item in tenant.section(coll.section).items():
            problems += [(coll.name, item_id, e) for e in schema_errors(coll.schema, coll.writable(item))]
            problems += [(coll.name, item_id, e) for e in schema_errors(coll.id_schema, item_id)]
    for name, entries in tenant.section("lists").items():
        for entry in entries:
            problems += [(name, entry, e) for e in schema_errors(ENTRY, entry if isinstance(entry, dict)
                                                                 else {"number": entry})]
    assert problems == []


def test_yearly_holidays_are_month_and_day(api: Api):
    assert api.post("/schedules", {"id": "y", "holidays": ["12-31", "02-29", "2026-01-07"]}).status_code == 201
    assert set(errors(api.post("/schedules", {"id": "z", "holidays": ["13-01", "2026-13-01"]}))) == {
        "/holidays/0", "/holidays/1"}


def test_the_audit_trail_masks_voicemail_pin_hashes(api: Api, services):
    # a 4-digit PIN's hash is cheap to brute-force, so the configuration history must not show it
    from chalicelib.api.users_audit import audit_trail

    api.post("/voicemail-boxes", {"id": "301", "pin": "2468"})
    stored_hash = services.tenants.get("demo").section("voicemail_boxes")["301"]["pin_hash"]
    trail = str(audit_trail(services, "demo"))
    assert "voicemail_boxes/301/pin_hash" in trail and stored_hash not in trail
