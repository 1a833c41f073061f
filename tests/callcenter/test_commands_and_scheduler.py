"""The scheduler from the console (``vpbx callbacks``, ``vpbx agents``) and as serve's background thread."""

from __future__ import annotations

import time

from chalicelib.bootstrap import get_services
from chalicelib.callcenter.background import start_scheduler, tenants_with_queues
from chalicelib.cli import main
from tests.callcenter.conftest import CallCenter

A = "+15550002000"


def test_run_due_drops_gone_callers_and_lists_the_callback_task(cc: CallCenter, capsys) -> None:  # type: ignore[no-untyped-def]
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    assert tenants_with_queues(cc.services) == ["demo"]
    assert main(["callbacks", "run-due"]) == 0
    assert "demo: skipped=0 abandoned=1 missed_tasks=0" in capsys.readouterr().out
    assert main(["callbacks", "list", "--tenant", "demo"]) == 0
    listed = capsys.readouterr().out
    assert A in listed and "abandoned" in listed and "attempts=1/3 running" in listed


def test_agents_command_changes_and_shows_presence(cc: CallCenter, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["agents", "login", "201", "202"]) == 0
    assert main(["agents", "pause", "202", "--reason", "training"]) == 0
    capsys.readouterr()
    assert main(["agents", "show", "201", "202", "203"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert lines == [["201", "available"], ["202", "paused", "training"], ["203", "logged_out"]]
    assert main(["agents", "login", "999"]) == 1


def test_the_background_thread_ticks_until_stopped(cc: CallCenter) -> None:
    cc.call(cc.sid(1), A)
    cc.hangup(cc.sid(1), A)
    stop = start_scheduler(get_services, interval=0.02)
    try:
        deadline = time.monotonic() + 10
        while cc.book().open_for(A) is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
    assert cc.book().open_for(A) is not None and cc.line().outcome[cc.sid(1)] == "abandoned"


def test_finding_tenants_reads_only_what_was_appended_since_the_last_pass(cc: CallCenter, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.callcenter import background
    from domain.tenant import TenantConfigured

    seen: list[str] = []
    iter_log = background.iter_log

    def counting(store, tenant, after):  # type: ignore[no-untyped-def]
        for e in iter_log(store, tenant, after):
            seen.append(e.event_id)
            yield e

    monkeypatch.setattr(background, "iter_log", counting)
    assert background.known_tenants(cc.services) == ["demo"]
    first = len(seen)
    seen.clear()
    assert background.known_tenants(cc.services) == ["demo"] and seen == []  # nothing new: nothing read
    cc.call(cc.sid(1), A)
    cc.services.tenants.append("acme", [TenantConfigured(config={"name": "Acme"}, actor="test")], 0)
    assert background.known_tenants(cc.services) == ["demo", "acme"]
    everything = len(cc.services.store.read_log(None, "", 100_000))
    assert len(seen) == everything - first > 0  # exactly the call's events and acme's configuration
