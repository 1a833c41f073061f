"""vpbx audit CALL_SID --at TS | vpbx audit --tenant T --config --at TS: the past, as it was known then."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from chalicelib.bootstrap import get_services
from chalicelib.calls import call_stream
from chalicelib.tenants import tenant_stream
from domain.audit.history import call_at, config_at


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="a call's state, or a tenant's configuration, at an instant")
    p.add_argument("call_sid", nargs="?", help="the call to show")
    p.add_argument("--at", default="", help="ISO time (default: now); a time without zone is UTC")
    p.add_argument("--tenant", default=None, help="with --config: the tenant")
    p.add_argument("--config", action="store_true", help="the tenant's configuration instead of a call")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def instant(value: str) -> str:
    if not value:
        return get_services().clock().isoformat()
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SystemExit(f"--at: expected an ISO time such as 2026-11-24T15:02:00Z, got {value!r}") from exc
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def run(args: argparse.Namespace) -> int:
    services = get_services()
    at = instant(args.at)
    if args.config:
        if not args.tenant:
            raise SystemExit("--config needs --tenant")
        events, _ = services.store.load(tenant_stream(args.tenant))
        if not events:
            print(f"no tenant {args.tenant!r}")
            return 1
        result = config_at(args.tenant, events, at)
        if args.json:
            print(json.dumps(result, indent=2, ensure_ascii=False, sort_keys=True))
            return 0
        print(f"tenant {args.tenant} at {result['at']}: stream version {result['version']}")
        for c in result["changes"]:
            print(f"  v{c['version']:<4} {c['recorded_at'][:19]}  {c['actor'] or '?':<20} {c['type']:<20} {c['what']}")
        print(json.dumps(result["config"], indent=2, ensure_ascii=False, sort_keys=True))
        return 0
    if not args.call_sid:
        raise SystemExit("give a CALL_SID, or --tenant T --config")
    events, _ = services.store.load(call_stream(args.call_sid))
    if not events:
        print(f"no events for call {args.call_sid}")
        return 1
    result = call_at(events, at)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False, sort_keys=True))
        return 0
    s, cdr = result["state"], result["cdr"] or {}
    print(f"call {args.call_sid} at {result['at']} ({len(result['events'])} of {len(events)} events known)")
    print(f"  status {s['status']}  {s['direction']} {s['from']} -> {s['to']}  plan {s['plan']}  step {s['step']}"
          + (f"  awaiting {s['awaiting']}" if s["awaiting"] else ""))
    if cdr:
        print(f"  outcome {cdr['outcome']}  ring {cdr['ring']} s  talk {cdr['talk']} s"
              + (f"  ringing {', '.join(cdr['dialing']['targets'])}" if cdr.get("dialing") else ""))
    for e in result["events"]:
        print(f"  v{e['version']:<3} {e['recorded_at'][:23]}  {e['type']}")
    return 0
