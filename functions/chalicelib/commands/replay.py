"""vpbx replay: rebuild projections from the event log and print their digests."""

from __future__ import annotations

import argparse
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from chalicelib.bootstrap import get_services
from chalicelib.projections.log import projection_store
from chalicelib.projections.replay import ReplayFailed, replay
from domain.projections import ALL


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("replay", help="rebuild projections (statistics, CDRs, queues) from the event log; "
                       "extend the hash chain")
    p.add_argument("--tenant", default=None, help="only this tenant's outputs")
    p.add_argument("--from", dest="since", default="", help="first day (YYYY-MM-DD) of the window to rebuild")
    p.add_argument("--to", dest="until", default="", help="day after the window (YYYY-MM-DD, exclusive)")
    p.add_argument("--projection", action="append", choices=list(ALL),
                   help="only this projection (repeatable); 'chain' is extended over unchained events, never rebuilt")
    p.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                   help="rebuild the views in N processes, one share of the calls each (SQLite; default 1). "
                        "Same outputs; the wall time divides by up to N cores")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more, got {value!r}")
    return jobs


def _day(value: str, name: str) -> str:
    if not value:
        return ""
    import datetime as dt

    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise SystemExit(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from exc


def run(args: argparse.Namespace) -> int:
    services = get_services()
    since, until = _day(args.since, "--from"), _day(args.until, "--to")
    if since and until and until <= since:
        raise SystemExit("--to must be after --from")
    started = time.perf_counter()
    with Progress(TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=args.quiet) as bar:
        task = bar.add_task("replay", total=None)
        try:
            result = replay(services.store, projection_store(services), names=args.projection, tenant=args.tenant,
                            since=since, until=until, jobs=args.jobs, on_total=lambda n: bar.update(task, total=n),
                            progress=lambda n: bar.advance(task, n))
        except (ReplayFailed, ValueError) as exc:
            raise SystemExit(f"replay: {exc}") from exc
    took = time.perf_counter() - started
    rate = result.events / took if took > 0 else 0.0
    print(f"replayed {result.events} events in {took:.2f} s ({rate:,.0f} events/s; {result.folded} of them "
          f"folded, the rest used by no projection asked for)")
    for name, digest in sorted(result.digests.items()):
        print(f"  {name:<8} sha256:{digest}")
    return 0
