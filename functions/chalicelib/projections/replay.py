"""Rebuild projections from the log: forget their outputs, fold the log again, report digests.

A window (--from/--to, UTC days) rebuilds only the CDRs of calls that started in it: those are dropped,
the log is read from the window's start, and every other stream is left alone because its state
already holds a version at or past each event read (idempotency per (stream, version)).

The hash chain is evidence, not a view: it is never forgotten and rebuilt (a chain rebuilt from an
edited log would vouch for the edit). Asking for it extends each tenant's chain over the events it has
not chained yet; events already chained are never hashed again, so `vpbx verify` still sees an edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.projections.log import count_log, position_before, run_log
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from domain.ports import EventStore
from domain.projections import ALL, by_name

WINDOWED = ("calls",)
EVIDENCE = ("chain",)
VIEWS = tuple(n for n in ALL if n not in EVIDENCE)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    events: int  # events of the log in the replayed range
    folded: int  # of those, the ones handed to the folds (the rest no requested projection uses)
    digests: dict[str, str]


def replay(log: EventStore, out: SQLiteProjectionStore, *, names: list[str] | None = None,
           tenant: str | None = None, since: str = "", until: str = "",
           on_total: Callable[[int | None], None] | None = None,
           progress: Callable[[int], None] | None = None) -> ReplayResult:
    """Rebuild the named views (all by default; the chain only when named, and then only extended)."""
    wanted = list(dict.fromkeys(names or VIEWS))
    views = [by_name(n) for n in wanted if n not in EVIDENCE]
    window = bool(since or until)
    if window:  # only per-call outputs can be cut by time; agent, queue and chain folds span any window
        views = [p for p in views if p.name in WINDOWED]
        wanted = [p.name for p in views]
    after = position_before(log, since) if window else ""
    fresh = tenant is None and not window
    runners = []
    if views:
        for p in views:
            out.reset(p.name, tenant, since, until)
        runners.append(Runner(out, views, fresh=fresh, use_checkpoints=fresh))
    if "chain" in wanted:  # per-tenant heads remember the last position chained: only newer events are hashed
        runners.append(Runner(out, [by_name("chain")], use_checkpoints=False))
    if on_total:
        counts = [count_log(log, tenant, after, r.row_filter()) for r in runners]
        on_total(None if None in counts else sum(c or 0 for c in counts))
    folded = sum(run_log(r, log, tenant, after, progress) for r in runners)
    events = count_log(log, tenant, after)
    return ReplayResult(folded if events is None else events, folded,
                        {n: out.digest(n, tenant) for n in wanted})
