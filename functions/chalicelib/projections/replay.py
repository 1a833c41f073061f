"""Rebuild projections from the log: forget their outputs, fold the log again, report digests.

A window (--from/--to, UTC days) rebuilds only the CDRs of calls that started in it: those are dropped,
the log is read from the window's start, and every other stream is left alone because its state
already holds a version at or past each event read (idempotency per (stream, version)).

The hash chain is evidence, not a view: it is never forgotten and rebuilt (a chain rebuilt from an
edited log would vouch for the edit). Asking for it extends each tenant's chain over the events it has
not chained yet; events already chained are never hashed again, so `vpbx verify` still sees an edit.

Only a full rebuild moves the projections' checkpoints: after one tenant or one window, other streams'
events past the old checkpoint may not be folded yet, and the follower must still find them.

``jobs`` > 1 splits a rebuild of the views on SQLite across processes, each folding one share of the
streams (log.Part) up to the log's last position when the replay began; the outputs are the same bytes
as one process gives (stream folds never look across streams), and the checkpoints are written once,
after every share has been committed. Per core the work is the same; the wall time divides by cores.
"""

from __future__ import annotations

import multiprocessing
import queue as queues
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.projections.log import count_log, last_position, position_before, run_log
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from chalicelib.stores.sqlite import SQLiteEventStore
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


class ReplayFailed(RuntimeError):
    """A share of a parallel replay failed: the outputs are incomplete until a replay succeeds."""


def replay(log: EventStore, out: SQLiteProjectionStore, *, names: list[str] | None = None,
           tenant: str | None = None, since: str = "", until: str = "", jobs: int = 1,
           on_total: Callable[[int | None], None] | None = None,
           progress: Callable[[int], None] | None = None) -> ReplayResult:
    """Rebuild the named views (all by default; the chain only when named, and then only extended)."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs > 1 and not (isinstance(log, SQLiteEventStore) and log.path != ":memory:" and out.path != ":memory:"):
        raise ValueError("jobs above 1 needs the SQLite event log and projections database in files")
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
        runners.append(Runner(out, views, fresh=fresh, use_checkpoints=fresh, write_checkpoints=fresh))
    if "chain" in wanted:  # per-tenant heads remember the last position chained: only newer events are hashed
        runners.append(Runner(out, [by_name("chain")], use_checkpoints=False, write_checkpoints=tenant is None))
    if on_total:
        counts = [count_log(log, tenant, after, r.row_filter()) for r in runners]
        on_total(None if None in counts else sum(c or 0 for c in counts))
    folded = 0
    if views and jobs > 1:
        assert isinstance(log, SQLiteEventStore)
        folded += _in_parallel(log, out, [p.name for p in views], jobs, tenant, after, fresh, progress)
        runners = runners[1:]
    folded += sum(run_log(r, log, tenant, after, progress) for r in runners)
    events = count_log(log, tenant, after)
    return ReplayResult(folded if events is None else events, folded,
                        {n: out.digest(n, tenant) for n in wanted})


def _in_parallel(log: SQLiteEventStore, out: SQLiteProjectionStore, names: list[str], jobs: int,
                 tenant: str | None, after: str, fresh: bool, progress: Callable[[int], None] | None) -> int:
    """Fold the views in ``jobs`` processes, one share of the streams each; then move the checkpoints
    (a full rebuild only) to where every share stopped. Returns the events folded."""
    upto = last_position(log)
    ctx = multiprocessing.get_context("spawn")  # this process has threads (the SQLite checkpointer): no fork
    reports: Any = ctx.Queue()
    workers = [ctx.Process(target=_share, name=f"vpbx-replay-{k}", daemon=True,
                           args=(log.path, out.path, names, tenant, after, upto, (k, jobs), fresh, reports))
               for k in range(jobs)]
    for w in workers:
        w.start()
    folded: dict[int, int] = {}
    try:
        while len(folded) < jobs:
            try:
                kind, k, value = reports.get(timeout=0.2)
            except queues.Empty:
                kind, k, value = "idle", -1, 0
            if kind == "idle":  # a share that died without a word (killed, out of memory)
                dead = [k for k, w in enumerate(workers) if k not in folded and w.exitcode is not None]
                if dead and reports.empty():
                    raise ReplayFailed(f"replay share {dead[0] + 1} of {jobs} stopped (exit code "
                                       f"{workers[dead[0]].exitcode}) before it finished; run the replay again")
            elif kind == "progress" and progress:
                progress(value)
            elif kind == "done":
                folded[k] = value
            elif kind == "failed":
                raise ReplayFailed(f"replay share {k + 1} of {jobs} failed: {value}; run the replay again")
    finally:
        for w in workers:
            if w.is_alive() and len(folded) < jobs:
                w.terminate()
            w.join()
    total = sum(folded.values())
    if fresh and upto:
        position = f"{upto:016d}"
        out.commit({name: ([], [], position, total) for name in names})
    return total


def _share(log_path: str, out_path: str, names: list[str], tenant: str | None, after: str, upto: int,
           part: tuple[int, int], fresh: bool, reports: Any) -> None:
    """One process of a parallel replay: fold one share of the streams; never move a checkpoint."""
    log, out = SQLiteEventStore(log_path), SQLiteProjectionStore(out_path)
    try:
        runner = Runner(out, [by_name(n) for n in names], fresh=fresh, use_checkpoints=fresh, write_checkpoints=False)
        n = run_log(runner, log, tenant, after, lambda done: reports.put(("progress", part[0], done)), part, upto)
        reports.put(("done", part[0], n))
    except BaseException as exc:
        reports.put(("failed", part[0], f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        out.close()
        log.close()
