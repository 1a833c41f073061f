"""Rebuild projections from the log: forget their outputs, fold the log again, report digests.

A window (--from/--to, UTC days) rebuilds only the CDRs of calls that started in it: those are dropped,
the log is read from the window's start, and every other stream is left alone because its state
already holds a version at or past each event read (idempotency per (stream, version)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.projections.log import count_log, position_before, run_log
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from domain.ports import EventStore
from domain.projections import all_projections, by_name

WINDOWED = ("calls",)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    events: int
    digests: dict[str, str]


def replay(log: EventStore, out: SQLiteProjectionStore, *, names: list[str] | None = None,
           tenant: str | None = None, since: str = "", until: str = "",
           on_total: Callable[[int | None], None] | None = None,
           progress: Callable[[int], None] | None = None) -> ReplayResult:
    projections = [by_name(n) for n in names] if names else all_projections()
    window = bool(since or until)
    if window:  # only per-call outputs can be cut by time; agent, queue and chain folds span any window
        projections = [p for p in projections if p.name in WINDOWED]
    for p in projections:
        out.reset(p.name, tenant, since, until)
    fresh = tenant is None and not window
    after = position_before(log, since) if window else ""
    if on_total:
        on_total(count_log(log, tenant, after))
    runner = Runner(out, projections, fresh=fresh, use_checkpoints=fresh)
    n = run_log(runner, log, tenant, after, progress)
    return ReplayResult(n, {p.name: out.digest(p.name, tenant) for p in projections})
