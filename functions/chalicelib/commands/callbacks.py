"""vpbx callbacks: list callback tasks, or run what is due now (one scheduler tick per tenant)."""

from __future__ import annotations

import argparse

from chalicelib.bootstrap import get_services
from chalicelib.callcenter.background import run_due, tenants_with_queues
from chalicelib.callcenter.streams import load_callbacks


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("callbacks", help="call-center callback tasks: list, or run the due ones")
    p.add_argument("action", choices=["run-due", "list"])
    p.add_argument("--tenant", action="append", default=[], help="tenant id (repeatable; default: every tenant)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    tenants = args.tenant or tenants_with_queues(services)
    if args.action == "run-due":
        for t, line in run_due(services, tenants).items():
            print(f"{t}: {line}")
        return 0
    for t in tenants:
        book, _ = load_callbacks(services, t)
        for task in sorted(book.tasks.values(), key=lambda k: k.created_at):
            state = task.done or ("running" if task.running else "open")
            print(f"{t}  {task.task_id}  {task.number}  {task.reason:<12} due={task.due_at} "
                  f"attempts={task.attempts}/{task.max_attempts} {state}")
    return 0
