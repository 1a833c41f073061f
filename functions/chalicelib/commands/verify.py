"""vpbx verify --tenant T: recompute the hash chain over the tenant's log and compare it with the record."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from chalicelib.bootstrap import get_services
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import iter_log, projection_store, sqlite_rows
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.audit.chain import canonical, payload, verify
from domain.ports import EventStore


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("verify", help="check a tenant's log against its hash chain (tamper evidence)")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=run)


def log_payloads(store: EventStore, tenant: str) -> Iterator[bytes]:
    """Each event's canonical bytes: the stored data text on SQLite (what the chain projection hashed)."""
    if isinstance(store, SQLiteEventStore):
        for r in sqlite_rows(store, tenant, ""):
            yield payload(*r[1:])
        return
    for e in iter_log(store, tenant):
        yield canonical(e)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    catch_up(services)  # chain the events appended since the last pass (never re-hashes old ones)
    out = projection_store(services)
    head_state = out.state("chain", args.tenant)
    head = (int(head_state["n"]), str(head_state["h"])) if head_state else None
    anchors = {int(r["n"]): str(r["h"]) for r in out.rows("chain", args.tenant)}
    if head is None:
        print(f"no hash chain recorded for {args.tenant} yet: run `vpbx replay --projection chain --tenant "
              f"{args.tenant}` once (on AWS the stream consumer does not fold the chain), then verify later")
        return 2
    verdict = verify(log_payloads(services.store, args.tenant), anchors, head)
    print(("OK " if verdict.ok else "TAMPERED ") + f"{args.tenant}: {verdict.message}")
    return 0 if verdict.ok else 1
