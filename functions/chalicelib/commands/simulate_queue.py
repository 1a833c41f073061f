"""vpbx simulate-queue: run a call-center scenario (callers, agents, callbacks) on virtual time."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from chalicelib.simulator_queue import Scenario, simulate_queue, virtual_services
from domain.callcenter.config import STRATEGIES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("simulate-queue", help="simulate callers and agents in a queue; print what happened")
    d = Scenario()
    p.add_argument("--callers", type=int, default=d.callers)
    p.add_argument("--agents", type=int, default=d.agents)
    p.add_argument("--strategy", choices=STRATEGIES, default=d.strategy)
    p.add_argument("--talk-seconds", type=int, default=d.talk_seconds)
    p.add_argument("--max-wait", type=int, default=d.max_wait)
    p.add_argument("--callback-share", type=float, default=d.callback_share)
    p.add_argument("--abandon-share", type=float, default=d.abandon_share)
    p.add_argument("--no-answer-share", type=float, default=d.no_answer_share)
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--sqlite", default="", help="store file (default: a fresh temporary file)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    scenario = Scenario(callers=args.callers, agents=args.agents, strategy=args.strategy,
                        talk_seconds=args.talk_seconds, max_wait=args.max_wait, callback_share=args.callback_share,
                        abandon_share=args.abandon_share, no_answer_share=args.no_answer_share,
                        concurrency=args.concurrency, seed=args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.sqlite or str(Path(tmp) / "simulate-queue.sqlite")
        report = simulate_queue(virtual_services(path), scenario)
    print(report.summary())
    for line in report.lines:
        print("  " + line)
    for problem in report.double_bookings:
        print("!! double booking: " + problem)
    return 1 if report.lost or report.double_bookings else 0
