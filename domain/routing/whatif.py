"""What-if: replay recorded calls through a draft plan and compare where they would have gone.

Pure: the shell reads the period's calls (arrival, the caller's recorded inputs, the dial results
in order, the history facts as they were) and passes them in. Each call is driven through the
real ``decide`` with the draft in place of its plan; the gateway's answers are taken from the
recording in order. Where the draft asks for something the recording does not have (a menu the
caller never heard, more dials than were made), the replay says what it assumed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from domain.calls.state import CallState, evolve
from domain.routing.engine import Callback, decide
from domain.routing.plan import Plan
from domain.tenant import TenantSnapshot

MAX_CALLBACKS = 50
OUTCOME_BY_ACTION = {"reject": "rejected", "hangup": "hung up", "answer_message": "message played",
                     "fax_receive": "fax"}


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One call as it arrived and as the caller and the gateway answered it."""

    call_sid: str
    started_at: datetime
    params: Mapping[str, str]
    plan_id: str
    steps: tuple[Mapping[str, Any], ...]  # the StepDecided data recorded for the call
    digits: tuple[str, ...] = ()  # what the caller entered at each menu, in order ("" = nothing)
    dials: tuple[Mapping[str, str], ...] = ()  # DialCallStatus/DialCallDuration/DialCallSid, in order
    recordings: tuple[Mapping[str, str], ...] = ()  # RecordingUrl/RecordingDuration, in order
    callback_times: tuple[datetime, ...] = ()  # when each later webhook arrived
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallComparison:
    call_sid: str
    started_at: str
    from_number: str
    before: str
    after: str
    before_path: tuple[str, ...]
    after_path: tuple[str, ...]
    assumptions: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def path_changed(self) -> bool:
        return self.before_path != self.after_path


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    calls: tuple[CallComparison, ...]

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def changed(self) -> int:
        return sum(1 for c in self.calls if c.changed)

    def outcomes(self, which: str) -> dict[str, int]:
        return dict(Counter(c.before if which == "before" else c.after for c in self.calls))

    def moves(self) -> dict[tuple[str, str], int]:
        """How many calls moved from one outcome to another."""
        return dict(Counter((c.before, c.after) for c in self.calls if c.changed))


def outcome_of(steps: Sequence[Mapping[str, Any]]) -> str:
    """Where a call ended up, from its last routing step."""
    if not steps:
        return "no routing"
    last = steps[-1]
    action, branch = str(last.get("action")), str(last.get("branch", ""))
    inputs: Mapping[str, Any] = last.get("inputs") or {}
    if action == "error":
        return f"error: {inputs.get('error', '')}"
    if branch == "answered":
        who = inputs.get("targets") or [inputs.get("offered", "?")]
        return "answered by " + ", ".join(str(w) for w in who)
    if action == "voicemail":
        return f"voicemail {inputs.get('box', '')}".strip()
    if action == "conference":
        return f"conference {inputs.get('room', '')}".strip()
    if action in OUTCOME_BY_ACTION:
        return OUTCOME_BY_ACTION[action]
    if last.get("awaiting"):
        return f"waiting at {last.get('node')} ({action})"
    return f"ended at {last.get('node')} ({action}, {branch or 'no branch'})"


def _awaited_verb(state: CallState) -> str:
    for i in state.last_instructions:
        if i.get("action") and i.get("verb") in ("Gather", "Dial", "Record", "Receive"):
            return str(i["verb"])
    return ""


def replay(tenant: TenantSnapshot, draft: Plan, call: RecordedCall) -> tuple[list[dict[str, Any]], list[str]]:
    """The steps the draft would have taken for this call, and what the replay had to assume."""
    plans = {**tenant.plans, draft.plan_id: draft}
    versions = {**tenant.plan_versions, (draft.plan_id, draft.version): draft}
    what_if = replace(tenant, plans=plans, plan_versions=versions)
    digits, dials, recordings = list(call.digits), list(call.dials), list(call.recordings)
    times = list(call.callback_times)
    assumptions: list[str] = []
    steps: list[dict[str, Any]] = []
    state = CallState()
    cb = Callback(kind="incoming", request_id="whatif-0", params=dict(call.params))
    now = call.started_at
    for n in range(1, MAX_CALLBACKS + 1):
        decision = decide(state, cb, what_if, now, call.facts)
        for e in decision.events:
            state = evolve(e, state)
            if e.event_type == "StepDecided":
                steps.append(e.to_data())
        if not state.awaiting or state.ended:
            break
        verb = _awaited_verb(state)
        answer: dict[str, str] = {}
        if verb == "Gather":
            if not digits:
                assumptions.append(f"{state.awaiting}: the caller's input is not in the recording; "
                                   "assumed they hung up")
                break
            answer = {"Digits": digits.pop(0)}
        elif verb == "Dial":
            if dials:
                answer = dict(dials.pop(0))
            else:
                assumptions.append(f"{state.awaiting}: more dials than recorded; assumed no-answer")
                answer = {"DialCallStatus": "no-answer"}
        elif verb == "Record":
            answer = dict(recordings.pop(0)) if recordings else {}
        elif verb == "Receive":
            answer = {"FaxStatus": "received"}
        now = times.pop(0) if times else now
        params = {**call.params, "CallStatus": "in-progress", **answer}
        cb = Callback(kind="action", request_id=f"whatif-{n}", params=params, node=state.awaiting, step=state.step)
    return steps, assumptions


def compare(tenant: TenantSnapshot, draft: Plan, calls: Sequence[RecordedCall]) -> WhatIfReport:
    """Replay every call of the period through ``draft`` and set the outcomes side by side."""
    out = []
    for call in calls:
        after, assumptions = replay(tenant, draft, call)
        out.append(CallComparison(
            call_sid=call.call_sid, started_at=call.started_at.isoformat(),
            from_number=str(call.params.get("From", "")), before=outcome_of(call.steps), after=outcome_of(after),
            before_path=tuple(str(s.get("node")) for s in call.steps),
            after_path=tuple(str(s.get("node")) for s in after), assumptions=tuple(assumptions)))
    return WhatIfReport(tuple(out))
