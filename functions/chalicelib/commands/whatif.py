"""vpbx whatif --plan draft.json --from DATE --to DATE [--tenant demo]: replay a period's calls
through a draft plan and report, per call and in total, where they would have gone differently.

The shell part: read the tenant's log once (history facts as they were at each arrival), pick the
calls that started in the period on a number using the draft's plan id, collect what the caller
and the gateway answered, then hand everything to the pure ``domain.routing.whatif.compare``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.bootstrap import Services, get_services
from chalicelib.features import CallHistory
from domain.events import StoredEvent
from domain.routing.plan import PlanError, parse_plan
from domain.routing.validate import validate_plan
from domain.routing.whatif import RecordedCall, WhatIfReport, compare
from domain.tenant import TenantSnapshot


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("whatif", help="replay a period's calls through a draft plan and compare outcomes")
    p.add_argument("--plan", required=True, help="the draft plan document (JSON file)")
    p.add_argument("--from", dest="start", required=True, help="first day (YYYY-MM-DD) or ISO time, tenant zone")
    p.add_argument("--to", dest="end", required=True, help="last day (inclusive) or ISO time (exclusive)")
    p.add_argument("--tenant", default="demo")
    p.add_argument("--plan-id", default="main", help="which of the tenant's plans the draft replaces")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(func=run)


def parse_when(text: str, tz: ZoneInfo, *, end: bool) -> datetime:
    """A day (local midnight; the day after for an inclusive end) or an ISO time (local if naive)."""
    try:
        if len(text) == 10:
            day = datetime.combine(datetime.fromisoformat(text).date(), time(0), tz)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--{'to' if end else 'from'}: {text!r} is not YYYY-MM-DD or an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def recorded_call(stored: Sequence[StoredEvent], facts: dict[str, Any]) -> RecordedCall | None:
    started = next((e for e in stored if e.event_type == "CallStarted"), None)
    if started is None:
        return None
    steps = [dict(e.data) for e in stored if e.event_type == "StepDecided"]
    digits: list[str] = []
    seen_requests: list[str] = []
    for e in stored:
        if e.event_type != "StepDecided" or e.correlation_id in seen_requests:
            continue
        seen_requests.append(e.correlation_id)
        # The first step of each later request is the resume of the node the call waited at.
        if len(seen_requests) > 1 and e.data.get("action") == "ivr_menu":
            digits.append(str((e.data.get("inputs") or {}).get("digits", "")))
    times = [_time(next(x for x in stored if x.correlation_id == r).occurred_at) for r in seen_requests[1:]]
    dials = tuple({"DialCallStatus": str(e.data.get("dial_status")), "DialCallDuration": str(e.data.get("duration", 0)),
                   "DialCallSid": str(e.data.get("dial_call_sid", ""))}
                  for e in stored if e.event_type == "DialEnded")
    recordings = tuple({"RecordingUrl": str(e.data.get("recording_url")), "RecordingDuration": str(e.data.get("duration")),
                        "RecordingSid": str(e.data.get("recording_sid", ""))}
                       for e in stored if e.event_type == "VoicemailLeft")
    params = {str(k): str(v) for k, v in (started.data.get("params") or {}).items()}
    return RecordedCall(call_sid=str(started.data["call_sid"]), started_at=_time(started.occurred_at), params=params,
                        plan_id=str(started.data.get("plan_id", "")), steps=tuple(steps), digits=tuple(digits),
                        dials=dials, recordings=recordings, callback_times=tuple(times), facts=facts)


def recorded_calls(services: Services, tenant_id: str, plan_id: str, start: datetime, end: datetime) -> list[RecordedCall]:
    """The period's calls on ``plan_id``, each with the history facts as they stood when it arrived."""
    history = CallHistory()
    picked: list[tuple[str, dict[str, Any]]] = []
    cursor = ""
    while True:
        batch = services.store.read_log(tenant_id, after=cursor, limit=1000)
        for e in batch:
            if e.event_type == "CallStarted" and e.data.get("plan_id") == plan_id and start <= _time(e.occurred_at) < end:
                caller = str(e.data.get("from_number", ""))
                picked.append((e.stream_id, {"last_agent": history.last_agent_by_caller.get(caller),
                                             "last_answered": dict(history.last_answered),
                                             "crm": {}}))
            history.apply(e)
            cursor = e.position or cursor
        if len(batch) < 1000:
            break
    calls = []
    for stream, facts in picked:
        stored, _ = services.store.load(stream)
        call = recorded_call(stored, facts)
        if call is not None:
            calls.append(call)
    return calls


def run_whatif(services: Services, tenant: TenantSnapshot, draft: dict[str, Any], plan_id: str,
               start: datetime, end: datetime) -> WhatIfReport:
    version = max(tenant.plan_history.get(plan_id, (0,))) + 1
    plan = parse_plan(plan_id, version, draft)
    return compare(tenant, plan, recorded_calls(services, tenant.tenant_id, plan_id, start, end))


def report_json(report: WhatIfReport) -> dict[str, Any]:
    return {"total": report.total, "changed": report.changed,
            "before": report.outcomes("before"), "after": report.outcomes("after"),
            "moves": [{"from": a, "to": b, "calls": n} for (a, b), n in sorted(report.moves().items())],
            "calls": [{"call_sid": c.call_sid, "started_at": c.started_at, "from": c.from_number, "before": c.before,
                       "after": c.after, "changed": c.changed, "before_path": list(c.before_path),
                       "after_path": list(c.after_path), "assumptions": list(c.assumptions)} for c in report.calls]}


def report_text(report: WhatIfReport) -> str:
    lines = [f"{report.total} calls replayed, {report.changed} would have gone differently", ""]
    for c in report.calls:
        mark = "*" if c.changed else " "
        lines.append(f"{mark} {c.started_at[:19]}  {c.call_sid}  {c.from_number:<14} {c.before}  ->  {c.after}")
        if c.path_changed:
            lines.append(f"      path: {' > '.join(c.before_path)}  =>  {' > '.join(c.after_path)}")
        for a in c.assumptions:
            lines.append(f"      assumed: {a}")
    if report.moves():
        lines += ["", "moves:"]
        lines += [f"  {n:>5}  {a}  ->  {b}" for (a, b), n in sorted(report.moves().items())]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    tenant = services.tenants.get(args.tenant)
    if tenant is None:
        print(f"--tenant: no tenant {args.tenant!r}")
        return 2
    try:
        draft = json.loads(Path(args.plan).read_text())
    except (OSError, ValueError) as exc:
        print(f"--plan: cannot read {args.plan}: {exc}")
        return 2
    tz = ZoneInfo(tenant.timezone)
    start, end = parse_when(args.start, tz, end=False), parse_when(args.end, tz, end=True)
    problems = validate_plan(draft, tenant)
    if problems:
        for p in problems:
            print(f"--plan: node {p.node!r} at {p.pointer or '/'}: {p.message}")
        return 2
    try:
        report = run_whatif(services, tenant, draft, args.plan_id, start, end)
    except PlanError as exc:
        print(f"--plan: {exc}")
        return 2
    print(json.dumps(report_json(report), ensure_ascii=False, indent=2) if args.json else report_text(report))
    return 0
