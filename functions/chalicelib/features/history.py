"""Facts routing needs from outside the call, gathered by the shell before ``decide``: a per-process
projection of the tenant's call log (who answered whom, who answered last, which dials are live)
and the CRM owner. Gathering never fails a call: no fact means normal routing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from chalicelib import crm
from chalicelib.bootstrap import Services
from domain.actions.mailbox import LOCK_AFTER, LOCK_SECONDS
from domain.calls.state import TERMINAL, CallState
from domain.events import StoredEvent
from domain.routing.engine import Callback, plan_of
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
    placing: dict[str, str] = field(default_factory=dict)
    """Open calls an extension's own phone placed (a device call): stream -> that extension."""
    mailboxes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Voicemail messages not deleted: box -> message id (its VoicemailLeft's event id) -> the message."""
    pin_refused: dict[str, list[str]] = field(default_factory=dict)
    """Per box, when wrong PINs were entered (recorded times; only the last LOCK_AFTER are kept)."""

    def apply(self, e: StoredEvent) -> None:
        self.cursor = e.position or self.cursor
        if not e.stream_id.startswith("call-"):
            return
        d = e.data
        if e.event_type == "CallStarted":
            self.caller_by_stream[e.stream_id] = str(d.get("from_number", ""))
            if d.get("placed_by") and str(d.get("direction", "inbound")) == "inbound":
                self.placing[e.stream_id] = str(d["placed_by"])
        elif e.event_type == "StepDecided":
            dials = [i for i in d.get("instructions", ()) if i.get("verb") == "Dial"
                     and any(t.get("verb") in ("Sip", "Client", "Number") for t in i.get("targets", ()))]
            if d.get("awaiting") and dials:
                self.ringing[e.stream_id] = {"call_sid": e.stream_id[5:], "node": d.get("node"),
                                             "step": d.get("step"), "targets": list(d.get("inputs", {}).get("targets", ())),
                                             "since": e.recorded_at, "timeout": int(dials[0].get("timeout") or 30),
                                             "caller": self.caller_by_stream.get(e.stream_id, "")}
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
            self.placing.pop(e.stream_id, None)
        elif e.event_type in ("CallPickedUp", "CallTransferred"):
            self.ringing.pop(e.stream_id, None)
        elif e.event_type == "VoicemailLeft":
            self.mailboxes.setdefault(str(d.get("box", "")), {})[e.event_id] = {
                "id": e.event_id, "call": e.stream_id[5:], "at": e.occurred_at, "url": str(d.get("recording_url", "")),
                "duration": d.get("duration", 0), "heard": False,
                "from": str(d.get("caller") or self.caller_by_stream.get(e.stream_id, ""))}
        elif e.event_type == "VoicemailHeard":
            message = self.mailboxes.get(str(d.get("box", "")), {}).get(str(d.get("message", "")))
            if message is not None:
                message["heard"] = True
        elif e.event_type == "VoicemailDeleted":
            self.mailboxes.get(str(d.get("box", "")), {}).pop(str(d.get("message", "")), None)
        elif e.event_type == "MailboxPinRefused":
            times = self.pin_refused.setdefault(str(d.get("box", "")), [])
            times.append(e.recorded_at)
            del times[:-LOCK_AFTER]


_histories: WeakKeyDictionary[object, dict[str, CallHistory]] = WeakKeyDictionary()
_lock = threading.Lock()


OVERLAP_SECONDS = 10.0


@dataclass
class _Tail:
    """Reads a tenant log incrementally but re-reads the last seconds: a store ordered by recorded
    time (DynamoDB) may show an event after a later one was read; each event is applied once."""

    safe: str = ""  # nothing new can appear at or before this position
    recent: list[tuple[str, str, tuple[str, int]]] = field(default_factory=list)  # (recorded, position, key)
    seen: set[tuple[str, int]] = field(default_factory=set)

    def new_events(self, services: Services, tenant_id: str) -> list[StoredEvent]:
        out: list[StoredEvent] = []
        after = self.safe
        while True:
            batch = services.store.read_log(tenant_id, after=after, limit=1000)
            for e in batch:
                key = (e.stream_id, e.version)
                if key not in self.seen:
                    self.seen.add(key)
                    self.recent.append((e.recorded_at, e.position, key))
                    out.append(e)
            if len(batch) < 1000:
                break
            after = batch[-1].position
        self._advance()
        return out

    def _advance(self) -> None:
        if not self.recent:
            return
        self.recent.sort()
        newest = _seconds(self.recent[-1][0])
        keep = 0
        for recorded, position, key in self.recent:
            if newest - _seconds(recorded) <= OVERLAP_SECONDS:
                break
            self.safe = max(self.safe, position)
            self.seen.discard(key)
            keep += 1
        del self.recent[:keep]


def _seconds(stamp: str) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return 0.0


_tails: WeakKeyDictionary[object, dict[str, _Tail]] = WeakKeyDictionary()


def call_history(services: Services, tenant_id: str) -> CallHistory:
    """The tenant's history projection, caught up with the log (kept per process, read incrementally)."""
    with _lock:
        history = _histories.setdefault(services.store, {}).setdefault(tenant_id, CallHistory())
        tail = _tails.setdefault(services.store, {}).setdefault(tenant_id, _Tail())
        for e in sorted(tail.new_events(services, tenant_id), key=lambda e: (e.recorded_at, e.stream_id, e.version)):
            history.apply(e)
        return history


MAILBOX_LIMIT = 100


def mailbox_facts(services: Services, tenant: TenantSnapshot, state: CallState, cb: Callback,
                  plan: Plan) -> dict[str, Any]:
    """For a plan that lets callers open a voicemail box: the boxes' messages (copies, each with ``heard``) and,
    when the call is at a box's PIN prompt, whether the digits just entered are its PIN (``pin_ok``) and the box's
    wrong PINs within the lock's window (``pin_refusals``, ``pin_locked``)."""
    from chalicelib.auth import verify_pin

    history = call_history(services, tenant.tenant_id)
    node = plan.nodes.get(state.awaiting)
    scratch = state.scratch.get(state.awaiting) or {}
    # the boxes this webhook can open: named by the plan, chosen earlier in the call, or being entered now
    boxes = {str(n.data.get("box")) for n in plan.nodes.values() if n.action == "voicemail_access"}
    boxes |= {str(scratch.get("box") or ""), cb.params.get("Digits", "").rstrip("#")}
    with _lock:  # per box, the newest MAILBOX_LIMIT messages (what a caller can go through by phone)
        facts: dict[str, Any] = {"mailboxes": {box: [dict(m) for m in list(found.values())[-MAILBOX_LIMIT:]]
                                               for box in boxes if (found := history.mailboxes.get(box))}}
    if node is not None and node.action == "voicemail_access" and scratch.get("stage") == "pin" \
            and cb.kind == "action" and cb.node == state.awaiting:
        box = tenant.section("voicemail_boxes").get(str(scratch.get("box"))) or {}
        digits = cb.params.get("Digits", "").rstrip("#")
        facts["pin_ok"] = bool(digits and box.get("pin_hash") and verify_pin(str(box["pin_hash"]), digits))
        recent = pin_refusals(history, str(scratch.get("box")), services.clock())
        facts["pin_refusals"] = recent
        facts["pin_locked"] = recent >= LOCK_AFTER
    return facts


def pin_refusals(history: CallHistory, box: str, now: Any) -> int:
    """How many wrong PINs the box had within the last LOCK_SECONDS (from any call, any phone; at most
    LOCK_AFTER are kept, which is all the lock needs)."""
    with _lock:
        times = list(history.pin_refused.get(box, ()))
    return sum(1 for t in times if now.timestamp() - _seconds(t) < LOCK_SECONDS)


def facts_needed(plan: Plan, tenant: TenantSnapshot) -> set[str]:
    """Which history facts this plan can use at all (most plans need none: no log read then)."""
    needed: set[str] = set()
    groups = tenant.section("groups")
    for n in plan.nodes.values():
        if n.action == "sticky":
            needed.add("last_agent")
        elif n.action == "ring_group":
            strategy = n.data.get("strategy") or (groups.get(str(n.data.get("group"))) or {}).get("strategy")
            if strategy == "least_recent":
                needed.add("last_answered")
    if any(isinstance(e, Mapping) and e.get("call_waiting") is False for e in tenant.section("extensions").values()):
        needed.add("active_extensions")  # a user without a second line: who is on a call now
    return needed


def gather_facts(services: Services, tenant: TenantSnapshot, state: CallState, cb: Callback) -> Mapping[str, Any]:
    """The facts this call's plan may need; only what its actions use is gathered."""
    if cb.kind in ("status", "answered") or state.ended:
        return {}
    plan = plan_of(state, cb, tenant)  # a device call's too (its call waiting, its mailbox)
    if plan is None:
        return {}
    caller = state.from_number or cb.params.get("From", "")
    facts: dict[str, Any] = {}
    needed = facts_needed(plan, tenant)
    if needed:
        history = call_history(services, tenant.tenant_id)
        if "last_agent" in needed:
            facts["last_agent"] = history.last_agent_by_caller.get(caller)
        if "last_answered" in needed:
            facts["last_answered"] = dict(history.last_answered)
        if "active_extensions" in needed:
            own = f"call-{state.call_sid or cb.params.get('CallSid', '')}"
            facts["active_extensions"] = sorted({str(t) for stream, r in history.ringing.items() if stream != own
                                                 for t in r.get("targets", ())}
                                                | {ext for stream, ext in history.placing.items() if stream != own})
    if any(n.action == "voicemail_access" for n in plan.nodes.values()):
        facts.update(mailbox_facts(services, tenant, state, cb, plan))
    crm_nodes = [n for n in plan.nodes.values() if n.action == "crm_lookup" and n.id not in state.scratch]
    if crm_nodes:
        facts["crm"] = {n.id: crm.lookup_owner(str(n.data.get("url", "")), caller,
                                               int(n.data.get("lookup_timeout_ms", 1500)) / 1000)
                        for n in crm_nodes}
    return facts
