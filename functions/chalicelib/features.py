"""Shell side of call features: the facts routing needs from outside the call (call history,
CRM owner), gathered before ``decide`` so the domain stays pure.

Invariant: facts come only from the event log and the tenant's own CRM hook; gathering never
fails a call (a broken CRM or an unreadable log means no fact, so normal routing).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from chalicelib import crm
from chalicelib.bootstrap import Services
from domain.calls.state import TERMINAL, CallState
from domain.events import StoredEvent
from domain.routing.engine import Callback
from domain.routing.plan import Plan
from domain.tenant import TenantSnapshot

ANSWERED = ("completed", "answered")


@dataclass
class CallHistory:
    """A tenant-level projection of the call log: who answered whom, who last answered, what rings."""

    cursor: str = ""
    caller_by_stream: dict[str, str] = field(default_factory=dict)
    last_agent_by_caller: dict[str, str] = field(default_factory=dict)
    last_answered: dict[str, str] = field(default_factory=dict)
    ringing: dict[str, dict[str, Any]] = field(default_factory=dict)

    def apply(self, e: StoredEvent) -> None:
        self.cursor = e.position or self.cursor
        if not e.stream_id.startswith("call-"):
            return
        d = e.data
        if e.event_type == "CallStarted":
            self.caller_by_stream[e.stream_id] = str(d.get("from_number", ""))
        elif e.event_type == "StepDecided":
            dials = [i for i in d.get("instructions", ()) if i.get("verb") == "Dial"
                     and any(t.get("verb") in ("Sip", "Client", "Number") for t in i.get("targets", ()))]
            if d.get("awaiting") and dials:
                self.ringing[e.stream_id] = {"call_sid": e.stream_id[5:], "node": d.get("node"),
                                             "step": d.get("step"), "targets": list(d.get("inputs", {}).get("targets", ())),
                                             "since": e.recorded_at, "caller": self.caller_by_stream.get(e.stream_id, "")}
            else:
                self.ringing.pop(e.stream_id, None)
        elif e.event_type == "DialEnded":
            self.ringing.pop(e.stream_id, None)
            targets = list(d.get("targets", ()))
            if d.get("dial_status") in ANSWERED and len(targets) == 1 and str(targets[0]).isdigit():
                caller = self.caller_by_stream.get(e.stream_id, "")
                if caller:
                    self.last_agent_by_caller[caller] = str(targets[0])
                self.last_answered[str(targets[0])] = e.recorded_at
        elif e.event_type == "CallStatusChanged" and d.get("status") in TERMINAL:
            self.ringing.pop(e.stream_id, None)
        elif e.event_type in ("CallPickedUp", "CallTransferred"):
            self.ringing.pop(e.stream_id, None)


_histories: WeakKeyDictionary[object, dict[str, CallHistory]] = WeakKeyDictionary()
_lock = threading.Lock()


def call_history(services: Services, tenant_id: str) -> CallHistory:
    """The tenant's history projection, caught up with the log (kept per process, read incrementally)."""
    with _lock:
        history = _histories.setdefault(services.store, {}).setdefault(tenant_id, CallHistory())
        while True:
            batch = services.store.read_log(tenant_id, after=history.cursor, limit=1000)
            for e in batch:
                history.apply(e)
            if len(batch) < 1000:
                return history


def _plan_of(state: CallState, cb: Callback, tenant: TenantSnapshot) -> Plan | None:
    if state.started:
        return tenant.plan_versions.get((state.plan_id, state.plan_version))
    return tenant.plan_for_number(cb.params.get("To", ""))


def gather_facts(services: Services, tenant: TenantSnapshot, state: CallState, cb: Callback) -> Mapping[str, Any]:
    """The facts this call's plan may need; only what its actions use is gathered."""
    if cb.kind == "status" or state.ended:
        return {}
    plan = _plan_of(state, cb, tenant)
    if plan is None:
        return {}
    actions = {n.action for n in plan.nodes.values()}
    caller = state.from_number or cb.params.get("From", "")
    facts: dict[str, Any] = {}
    if actions & {"sticky", "ring_group"}:
        history = call_history(services, tenant.tenant_id)
        facts["last_agent"] = history.last_agent_by_caller.get(caller)
        facts["last_answered"] = dict(history.last_answered)
    crm_nodes = [n for n in plan.nodes.values() if n.action == "crm_lookup" and n.id not in state.scratch]
    if crm_nodes:
        facts["crm"] = {n.id: crm.lookup_owner(str(n.data.get("url", "")), caller,
                                               int(n.data.get("lookup_timeout_ms", 1500)) / 1000)
                        for n in crm_nodes}
    return facts
