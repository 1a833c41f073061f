"""vpbx verify --tenant T: recompute the hash chain over the tenant's log and compare it with the record."""

from __future__ import annotations

import argparse

from chalicelib.bootstrap import get_services
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import iter_log, projection_store
from domain.audit.chain import verify


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("verify", help="check a tenant's log against its hash chain (tamper evidence)")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    catch_up(services)  # chain the events appended since the last pass (never re-hashes old ones)
    out = projection_store(services)
    head_state = out.state("chain", args.tenant)
    head = (int(head_state["n"]), str(head_state["h"])) if head_state else None
    anchors = {int(r["n"]): str(r["h"]) for r in out.rows("chain", args.tenant)}
    verdict = verify(iter_log(services.store, args.tenant), anchors, head)
    print(("OK " if verdict.ok else "TAMPERED ") + f"{args.tenant}: {verdict.message}")
    return 0 if verdict.ok else 1
