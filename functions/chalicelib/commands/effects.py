"""vpbx effects sweep: run effects a stopped process never started and retry failed ones that are due.

``vpbx serve`` does this every 30 s (VPBX_EFFECT_SWEEP); on AWS run it on a schedule.
"""

from __future__ import annotations

import argparse

from chalicelib.bootstrap import get_services
from chalicelib.callcenter.background import known_tenants
from chalicelib.effect_retries import sweep_all


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("effects", help="effects (voicemail mail): run the missed ones, retry the failed ones")
    p.add_argument("action", choices=["sweep"])
    p.add_argument("--tenant", action="append", default=[], help="tenant id (repeatable; default: every tenant)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    ran = sweep_all(services, args.tenant or known_tenants(services))
    print(f"effects run: {ran}")
    return 0
