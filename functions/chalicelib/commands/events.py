"""vpbx events CALL_SID: a call's events, one per line."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from chalicelib.bootstrap import get_services
from chalicelib.calls import call_stream


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("events", help="print a call's events, one per line")
    p.add_argument("call_sid")
    p.add_argument("--json", action="store_true", help="full envelopes as JSON lines")
    p.set_defaults(func=run)


def describe(data: dict) -> str:  # type: ignore[type-arg]
    skip = {"params", "instructions", "scratch"}
    parts = [f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in data.items() if k not in skip and v not in ("", {}, [])]
    if data.get("instructions"):
        parts.append("emits=" + ",".join(i["verb"] for i in data["instructions"]))
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    stored, _ = get_services().store.load(call_stream(args.call_sid))
    if not stored:
        print(f"no events for call {args.call_sid}")
        return 1
    for e in stored:
        if args.json:
            print(json.dumps({f.name: getattr(e, f.name) for f in fields(e)}, default=dict, ensure_ascii=False))
        else:
            print(f"{e.version:>3}  {e.recorded_at[11:23]}  {e.event_type:<18} {describe(dict(e.data))}")
    return 0
