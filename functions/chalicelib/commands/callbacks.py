"""vpbx callbacks: list callback tasks, or run what is due now (one scheduler tick per tenant)."""

from __future__ import annotations

import argparse

from chalicelib.bootstrap import Services, get_services
from chalicelib.callcenter.scheduler import tick
from chalicelib.callcenter.streams import load_callbacks
from domain.tenant import TenantConfigured


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("callbacks", help="call-center callback tasks: list, or run the due ones")
    p.add_argument("action", choices=["run-due", "list"])
    p.add_argument("--tenant", action="append", default=[], help="tenant id (repeatable; default: every tenant)")
    p.set_defaults(func=run)


def tenants_with_queues(services: Services) -> list[str]:
    """Tenants whose configuration has call-center queues (found by reading the log once)."""
    found: list[str] = []
    cursor = ""
    while True:
        batch = services.store.read_log(None, cursor, 1000)
        if not batch:
            break
        cursor = batch[-1].position
        for e in batch:
            if e.stream_id.startswith("tenant-") and e.event_type in (TenantConfigured.event_type,
                                                                       "TenantConfigPatched"):
                if e.tenant_id not in found:
                    found.append(e.tenant_id)
    return [t for t in found if (snap := services.tenants.get(t)) is not None and snap.section("queues")]


def run(args: argparse.Namespace) -> int:
    services = get_services()
    tenants = args.tenant or tenants_with_queues(services)
    for t in tenants:
        if args.action == "run-due":
            print(f"{t}: {tick(services, t).line()}")
        else:
            book, _ = load_callbacks(services, t)
            for task in sorted(book.tasks.values(), key=lambda k: k.created_at):
                print(f"{t}  {task.task_id}  {task.number}  {task.reason:<12} due={task.due_at} "
                      f"attempts={task.attempts}/{task.max_attempts} {task.done or ('running' if task.running else 'open')}")
    return 0
