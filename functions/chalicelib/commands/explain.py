"""vpbx explain CALL_SID: why a call went where it went, step by step, from its events."""

from __future__ import annotations

import argparse
import json

from chalicelib.bootstrap import get_services
from chalicelib.explain import load_explanation, render_text


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("explain", help="explain a call's routing: steps, inputs, branches, instructions")
    p.add_argument("call_sid")
    p.add_argument("--json", action="store_true", help="the explanation document as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    doc = load_explanation(services, args.call_sid)
    if doc is None:
        print(f"no events for call {args.call_sid}")
        return 1
    tenant = services.tenants.get(str(doc.get("tenant")))
    timezone = tenant.timezone if tenant else "UTC"
    print(json.dumps(doc, ensure_ascii=False, indent=2) if args.json else render_text(doc, timezone))
    return 0
