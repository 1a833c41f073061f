"""vpbx simulate: place a call against a running vpbx as a TwiML gateway would."""

from __future__ import annotations

import argparse
import os

from chalicelib.simulator import Gateway, Script


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",")] if value else []


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("simulate", help="play the gateway: post signed webhooks and print what happens")
    p.add_argument("--to", required=True, help="the number called (E.164), or what a device dialled (an extension, a number)")
    p.add_argument("--from", dest="from_", required=True, help="the caller (E.164), or one of the tenant's devices (sip:101@..., client:102)")
    p.add_argument("--digits", default="", help="keys pressed at each menu, comma separated (empty = none)")
    p.add_argument("--dial", default="no-answer",
                   help="outcome of each <Dial>: completed, busy, no-answer, failed (comma separated)")
    p.add_argument("--tenant", default="demo")
    p.add_argument("--url", default=os.environ.get("VPBX_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"))
    p.add_argument("--public-url", default=os.environ.get("VPBX_PUBLIC_URL"),
                   help="the public URL vpbx signs against (default: --url)")
    p.add_argument("--auth-token", default=os.environ.get("VPBX_DEMO_AUTH_TOKEN", "demo-auth-token"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    gw = Gateway(base_url=args.url.rstrip("/"), public_url=(args.public_url or args.url).rstrip("/"),
                 tenant=args.tenant,
                 auth_token=args.auth_token)
    lines = gw.call(args.to, args.from_, Script(digits=_list(args.digits), dial=_list(args.dial)))
    return 1 if any(line.startswith("!!") for line in lines) else 0
