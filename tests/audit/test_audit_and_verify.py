"""The past as it was known: a call and the configuration at an instant; the hash chain catches edits."""

from __future__ import annotations

import json
import sqlite3

from chalicelib.cli import main
from chalicelib.demo import DEMO_TENANT
from domain.tenant import TenantConfigPatched
from tests.projections.scenario import Calls, sid


def test_a_call_at_an_instant_is_the_fold_of_what_was_recorded_by_then(gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    # given a call where 103 rang from 15:00:06 and answered (DialEnded recorded at 15:01:49)
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", menu=6, ring=8, talk=95, after=1)
    # when we ask what was known at 15:00:30, while 103's phone was ringing or talking
    assert main(["audit", sid(1), "--at", "2026-11-24T15:00:30Z", "--json"]) == 0
    during = json.loads(capsys.readouterr().out)
    # then the call was waiting on the dial to 103, not yet answered as far as the log knew
    assert during["state"]["awaiting"] == "support" and during["state"]["digits"] == ["2"]
    assert during["cdr"]["outcome"] == "ringing" and during["cdr"]["dialing"]["targets"] == ["103"]
    assert [e["type"] for e in during["events"]][-1] == "StepDecided"
    # and at the end it is completed and answered
    assert main(["audit", sid(1), "--at", "2026-11-24T15:05:00Z", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["state"]["status"] == "completed" and after["cdr"]["outcome"] == "answered"


def test_configuration_at_an_instant_says_who_changed_what_when(services, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    # given the seeded demo tenant, then at 15:10 an admin renames the company
    clock.advance(600)
    version = services.store.stream_version(f"tenant-{DEMO_TENANT}")
    services.tenants.append(DEMO_TENANT, [TenantConfigPatched(path=["name"], patch="Demo Corp", actor="user:alice")],
                            expected_version=version, correlation_id="rename")
    # when we read the configuration before and after the change
    assert main(["audit", "--tenant", "demo", "--config", "--at", "2026-11-24T15:05:00Z", "--json"]) == 0
    before = json.loads(capsys.readouterr().out)
    assert main(["audit", "--tenant", "demo", "--config", "--at", "2026-11-24T15:10:00Z", "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    # then
    assert before["config"]["name"] == "Demo Company" and after["config"]["name"] == "Demo Corp"
    last = after["changes"][-1]
    assert (last["actor"], last["type"], last["what"], last["recorded_at"][:19]) == (
        "user:alice", "TenantConfigPatched", "/name", "2026-11-24T15:10:00")
    assert [c["actor"] for c in before["changes"]] == ["seed", "seed", "test", "test"]  # demo seeded, then pinned


def test_verify_accepts_an_untouched_log_and_catches_an_edited_row(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    assert main(["verify", "--tenant", "demo"]) == 0
    assert capsys.readouterr().out.startswith("OK demo")
    # when someone edits a stored event in the database (the caller's number of the CallStarted)
    db = sqlite3.connect(services.settings.sqlite_path)
    db.execute("UPDATE events SET data = replace(data, '+15550002001', '+15550002666') "
               "WHERE event_type = 'CallStarted'")
    db.commit()
    db.close()
    # then verify reports it
    assert main(["verify", "--tenant", "demo"]) == 1
    assert "TAMPERED demo: chain breaks" in capsys.readouterr().out


def test_a_replay_after_an_edit_does_not_launder_it(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    # given a chained log that someone edits afterwards
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    assert main(["verify", "--tenant", "demo"]) == 0
    db = sqlite3.connect(services.settings.sqlite_path)
    db.execute("UPDATE events SET data = replace(data, '+15550002001', '+15550002666') "
               "WHERE event_type = 'CallStarted'")
    db.commit()
    db.close()
    # when the editor rebuilds every projection, the chain included
    assert main(["replay", "--quiet"]) == 0
    assert main(["replay", "--quiet", "--projection", "chain"]) == 0
    capsys.readouterr()
    # then the chain was extended, not rebuilt from the edited log, and verify still reports the edit
    assert main(["verify", "--tenant", "demo"]) == 1
    assert "TAMPERED demo: chain breaks" in capsys.readouterr().out


def test_verify_catches_a_deleted_event(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    Calls(gateway, clock).inbound(sid(1), "+15550002001", "2", ring=8, talk=95)
    assert main(["verify", "--tenant", "demo"]) == 0
    db = sqlite3.connect(services.settings.sqlite_path)
    db.execute("DELETE FROM events WHERE position = (SELECT MAX(position) FROM events WHERE tenant_id = 'demo')")
    db.commit()
    db.close()
    assert main(["verify", "--tenant", "demo"]) == 1
    assert "events were removed" in capsys.readouterr().out
