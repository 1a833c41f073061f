"""A person acts only for themselves where the table says "own": presence, click-to-call, my calls, my voicemail."""

from __future__ import annotations

import re

from chalicelib.users import users_of
from tests.access.conftest import PASSWORD, Caller
from tests.conftest import call_params

SALES, OPERATOR = "CA" + "5" * 32, "CA" + "0" * 32


def actions(xml: str) -> list[str]:
    return re.findall(r'action="([^"]+)"', xml)


def unanswered_to_voicemail(gateway, sid: str, digit: str) -> None:  # type: ignore[no-untyped-def]
    menu = gateway.post("voice", call_params(sid))
    vm = gateway.follow(actions(menu.body)[0], call_params(sid, CallStatus="in-progress", Digits=digit))
    for _ in range(5):  # nobody answers any dial (group, extension, follow-me) until voicemail records
        if "<Record" in vm.body or "<Dial" not in vm.body:
            break
        vm = gateway.follow(actions(vm.body)[0], call_params(sid, CallStatus="in-progress", DialCallStatus="no-answer"))
    assert "<Record" in vm.body, vm.body
    gateway.follow(actions(vm.body)[0], call_params(sid, CallStatus="in-progress", RecordingUrl="https://gw/rec/RE1",
                                                    RecordingDuration="9", RecordingSid="RE1"))
    gateway.post("status", call_params(sid, CallStatus="completed", CallDuration="40", SequenceNumber="9"))


def test_an_agent_sets_their_own_presence_but_not_a_colleagues(as_role):
    agent = as_role("agent")  # extension 101
    assert agent.json("POST", "/api/v1/tenants/demo/agents/101/presence", {"action": "login"})[0] == 200
    status, body = agent.json("POST", "/api/v1/tenants/demo/agents/102/presence", {"action": "logout"})
    assert status == 403 and "own extension" in str(body)
    assert agent.json("GET", "/api/v1/tenants/demo/agents/102/presence")[0] == 403
    # a supervisor manages anyone's presence
    assert as_role("supervisor").json("POST", "/api/v1/tenants/demo/agents/102/presence",
                                      {"action": "login"})[0] == 200


def test_an_agent_may_click_to_call_only_as_themselves(as_role):
    agent = as_role("agent")
    status, body = agent.json("POST", "/api/v1/tenants/demo/calls", {"agent": "102", "to": "+15550002000"})
    assert status == 403 and "own extension" in str(body)
    status, _ = agent.json("POST", "/api/v1/calls", {"agent": "102", "to": "+15550002000"})
    assert status == 403


def test_my_calls_are_the_calls_that_rang_my_extension(as_role, gateway):
    # given a call that rang the sales group (101 and 102) and one that rang the operator (100)
    unanswered_to_voicemail(gateway, SALES, "1")
    unanswered_to_voicemail(gateway, OPERATOR, "0")
    # when the agent at 101 asks for their calls
    status, body = as_role("agent").json("GET", "/api/v1/me/calls?from=2026-11-24")
    # then only the sales call is theirs; the tenant-wide call log stays closed to them
    assert status == 200 and body["extension"] == "101"
    assert [c["sid"] for c in body["items"]] == [SALES]
    assert as_role("agent").json("GET", "/api/v1/tenants/demo/cdrs")[0] == 403


def operator_with_messages(accounts, client, gateway) -> Caller:  # type: ignore[no-untyped-def]
    """The operator (extension 100, box 100) signed in, with a message in her box and one in the sales box."""
    users_of(accounts).add("demo", {"email": "olivia@demo.test", "name": "Olivia", "role": "agent",
                                    "extension": "100", "password": PASSWORD}, actor="test")
    unanswered_to_voicemail(gateway, SALES, "1")
    unanswered_to_voicemail(gateway, OPERATOR, "0")
    olivia = Caller(client)
    assert olivia.sign_in("olivia@demo.test").status_code == 200
    return olivia


def test_my_voicemail_is_the_messages_of_my_own_box(accounts, client, gateway):
    # given the operator (extension 100, box 100) has an account, and messages in the operator and sales boxes
    olivia = operator_with_messages(accounts, client, gateway)
    # when she opens her voicemail
    status, body = olivia.json("GET", "/api/v1/me/voicemail?from=2026-11-24")
    # then she sees the operator box's message only, with the recording to play
    assert status == 200
    assert [(c["sid"], c["voicemail"]["box"], c["voicemail"]["url"]) for c in body["items"]] == \
        [(OPERATOR, "100", "https://gw/rec/RE1")]


def test_the_owner_of_a_box_marks_a_message_heard_and_deletes_it_and_nobody_else_can(accounts, client, gateway,
                                                                                      as_role):
    # given the operator (extension 100, box 100) has an account and a message; sales has one too
    olivia = operator_with_messages(accounts, client, gateway)
    _, body = olivia.json("GET", "/api/v1/me/voicemail?from=2026-11-24")
    [item] = body["items"]
    message = item["sid"]  # the message is named by the call that left it
    assert item["voicemail"]["heard"] is False and body["boxes"] == ["100"]
    # when she plays it (the web app marks it heard), it is no longer new, here and for the phone's mailbox
    assert olivia.request("POST", f"/api/v1/me/voicemail/{message}/heard").status_code == 204
    _, body = olivia.json("GET", "/api/v1/me/voicemail?from=2026-11-24")
    assert body["items"][0]["voicemail"]["heard"] is True
    # another agent (101, sales) can neither mark nor delete it: it is not in their box
    agent = as_role("agent")
    status, refused = agent.json("DELETE", f"/api/v1/me/voicemail/{message}")
    assert status == 404 and "no message from call" in refused["errors"][0]["message"]
    # the admin lists every box's messages with their state, but an agent may not
    status, every = as_role("admin").json("GET", "/api/v1/voicemail?from=2026-11-24")
    assert status == 200 and sorted((c["sid"], c["voicemail"]["heard"]) for c in every["items"]) == \
        sorted([(SALES, False), (OPERATOR, True)])
    assert agent.json("GET", "/api/v1/voicemail?from=2026-11-24")[0] == 403
    # when she deletes it, her inbox is empty and the admin's list keeps only the sales message
    assert olivia.request("DELETE", f"/api/v1/me/voicemail/{message}").status_code == 204
    assert olivia.json("GET", "/api/v1/me/voicemail?from=2026-11-24")[1]["items"] == []
    _, every = as_role("admin").json("GET", "/api/v1/voicemail?from=2026-11-24")
    assert [c["sid"] for c in every["items"]] == [SALES]
    # deleting it again is a clear 404; the call that left it records both marks
    status, again = olivia.json("DELETE", f"/api/v1/me/voicemail/{message}")
    assert status == 404 and "was deleted" in again["errors"][0]["message"]
    marks = [e.event_type for e in accounts.store.load(f"call-{OPERATOR}")[0] if e.event_type.startswith("Voicemail")]
    assert marks == ["VoicemailLeft", "VoicemailHeard", "VoicemailDeleted"]


def test_a_mark_that_loses_the_race_to_a_webhook_reads_the_call_again_and_is_recorded_once(accounts, client, gateway,
                                                                                              monkeypatch):
    from chalicelib.envelopes import wrap
    from domain.calls.events import CallStatusChanged

    olivia = operator_with_messages(accounts, client, gateway)
    stream, store = f"call-{OPERATOR}", accounts.store
    real_append, raced = store.append, []

    def append(stream_id, events, expected_version):  # type: ignore[no-untyped-def]
        if stream_id == stream and not raced:  # a late status callback of the call lands between read and write
            raced.append(1)
            late = CallStatusChanged(status="completed", sequence_number=10, duration=40)
            real_append(stream, wrap([late], tenant_id="demo", stream_id=stream, expected_version=expected_version,
                                     now=accounts.clock(), new_id=accounts.new_id, correlation_id="late"),
                         expected_version)
        return real_append(stream_id, events, expected_version)

    monkeypatch.setattr(store, "append", append)
    # when she deletes the message while the gateway's late webhook wins the race for the call's stream
    assert olivia.request("DELETE", f"/api/v1/me/voicemail/{OPERATOR}").status_code == 204
    # then both are recorded, the deletion once, after the webhook
    tail = [e.event_type for e in store.load(stream)[0]][-2:]
    assert raced and tail == ["CallStatusChanged", "VoicemailDeleted"]
    assert olivia.json("GET", "/api/v1/me/voicemail?from=2026-11-24")[1]["items"] == []


def test_a_person_sets_their_own_voicemail_pin_but_not_an_easy_one(accounts, as_role):
    from chalicelib.auth import verify_pin

    agent = as_role("agent")  # extension 101, box 101
    # easy PINs are refused, each with the reason, and nothing is stored
    for pin, reason in (("1111", "one digit repeated"), ("6789", "a run of digits"), ("98765", "a run of digits"),
                        ("12a4", "4 to 12 digits"), ("123", "4 to 12 digits")):
        status, body = agent.json("PUT", "/api/v1/me/voicemail-pin", {"pin": pin})
        assert status == 422 and reason in body["errors"][0]["message"] and body["errors"][0]["pointer"] == "/pin"
    assert "pin_hash" not in accounts.tenants.get("demo").config["voicemail_boxes"]["101"]
    # a good one is stored hashed on the agent's own box, and the configuration audit names who set it
    assert agent.request("PUT", "/api/v1/me/voicemail-pin", {"pin": "2468"}).status_code == 204
    stored = accounts.tenants.get("demo").config["voicemail_boxes"]["101"]["pin_hash"]
    assert verify_pin(stored, "2468") and "2468" not in stored
    status, audit = as_role("owner").json("GET", "/api/v1/audit/config")
    assert status == 200 and "voicemail_boxes" in str(audit) and "2468" not in str(audit)
    # someone with no extension has no box to set; someone without voicemail of their own may not
    status, body = as_role("admin").json("PUT", "/api/v1/me/voicemail-pin", {"pin": "2468"})
    assert status == 409 and "no extension" in body["errors"][0]["message"]
    assert as_role("analyst").json("PUT", "/api/v1/me/voicemail-pin", {"pin": "2468"})[0] == 403


def test_a_supervisor_hears_the_recordings_of_their_team_only(as_role, gateway):
    # given a message left after ringing sales (101 is the supervisor's team, "sales") and one after support (103)
    unanswered_to_voicemail(gateway, SALES, "1")
    unanswered_to_voicemail(gateway, OPERATOR, "2")
    supervisor = as_role("supervisor")
    # when the supervisor lists recordings
    status, body = supervisor.json("GET", "/api/v1/me/recordings?from=2026-11-24")
    # then only the team's call is there, and the tenant-wide call records stay closed
    assert status == 200 and [c["sid"] for c in body["items"]] == [SALES]
    assert supervisor.json("GET", "/api/v1/tenants/demo/cdrs")[0] == 403
    # while an admin hears them all
    status, body = as_role("admin").json("GET", "/api/v1/me/recordings?from=2026-11-24")
    assert sorted(c["sid"] for c in body["items"]) == sorted([SALES, OPERATOR])


def test_explain_tells_a_supervisor_the_routing_but_not_where_a_recording_is(as_role, gateway):
    # given a message left in the sales box
    unanswered_to_voicemail(gateway, SALES, "1")
    # when the supervisor (no tenant-wide recordings) and the owner explain that call
    status, seen_by_supervisor = as_role("supervisor").json("GET", f"/api/v1/calls/{SALES}/explain")
    _, seen_by_owner = as_role("owner").json("GET", f"/api/v1/calls/{SALES}/explain")
    # then both see the same steps, and only the owner sees the recording's location
    assert status == 200 and seen_by_supervisor["steps"] == seen_by_owner["steps"]
    left = [e for e in seen_by_owner["events"] if e["event"] == "VoicemailLeft"]
    hidden = [e for e in seen_by_supervisor["events"] if e["event"] == "VoicemailLeft"]
    assert left[0]["recording_url"] == "https://gw/rec/RE1"
    assert hidden[0]["recording_url"] == "(hidden)" and hidden[0]["box"] == "sales"
