"""Projection replay and billing benchmarks (``make bench``).

Synthetic calls go straight into a temporary SQLite event log (no webhooks), shaped like the real
ones: CallStarted, a menu step, DigitsGathered, a dial step, DialEnded, a hang-up step and the
completed status; one call in ten also passes through a queue and an agent (queue and agent
streams). Calls overlap (CONCURRENT open at any time), as on a busy PBX. Then all projections are
rebuilt from the log, for 10^4, 10^5 and 10^6 events, and the largest tenant's month is billed.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from chalicelib.projections.log import count_log, run_log  # noqa: E402
from chalicelib.projections.replay import EVIDENCE  # noqa: E402
from chalicelib.projections.runner import Runner  # noqa: E402
from chalicelib.projections.store import SQLiteProjectionStore  # noqa: E402
from chalicelib.stores.sqlite import SQLiteEventStore  # noqa: E402
from domain.billing.rating import rate_month  # noqa: E402
from domain.billing.tariff import parse_versions, version_for  # noqa: E402
from domain.projections import all_projections  # noqa: E402
from domain.projections.stats import device_map  # noqa: E402

CONCURRENT = 200
START = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)
COLUMNS = ("tenant_id, stream_id, version, event_id, event_type, schema_version, occurred_at, recorded_at, "
           "correlation_id, causation_id, data")


def dumps(d: object) -> str:
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def call_events(tenant: str, n: int, t: datetime) -> list[tuple[str, str, str, dict]]:  # type: ignore[type-arg]
    """(stream, type, time, data) of one call; every fourth call is an extension calling out (rated per
    minute), every tenth is queued and handled by an agent."""
    sid = f"CA{n:032x}"
    stream = f"call-{sid}"
    caller = f"+1555{n % 10_000_000:07d}"
    if n % 4 == 1:
        to = ("+442071234567", "+447700900123", "+15551234567", "+4930123456")[n % 16 // 4]
        talk = 20 + n % 300
        return [(stream, "CallStarted", t, {"call_sid": sid, "from_number": "client:102", "to_number": to,
                                            "direction": "outbound-api", "status": "ringing", "params": {}}),
                (stream, "CallStatusChanged", t + timedelta(seconds=6), {"status": "in-progress",
                                                                         "sequence_number": 1}),
                (stream, "CallStatusChanged", t + timedelta(seconds=6 + talk), {
                    "status": "completed", "sequence_number": 2, "duration": talk})]
    s = [(stream, "CallStarted", t, {"call_sid": sid, "from_number": caller, "to_number": "+15550001000",
                                     "direction": "inbound", "status": "ringing", "plan_id": "main", "plan_version": 1,
                                     "account_sid": "AC0", "params": {"CallSid": sid, "From": caller}}),
         (stream, "StepDecided", t, {"step": 1, "node": "menu", "action": "ivr_menu", "awaiting": True,
                                     "instructions": [{"verb": "Gather", "action": "voice?node=menu&step=1"}],
                                     "request_id": f"r{n}a", "plan_version": 1}),
         (stream, "DigitsGathered", t + timedelta(seconds=5), {"node": "menu", "digits": "1"}),
         (stream, "StepDecided", t + timedelta(seconds=5), {
             "step": 2, "node": "sales", "action": "ring_group", "awaiting": True, "inputs": {"targets": ["101", "102"]},
             "instructions": [{"verb": "Dial", "targets": [{"verb": "Sip", "uri": "sip:101@x"}]}],
             "request_id": f"r{n}b", "plan_version": 1})]
    answered = n % 3 != 0
    talk = 30 + n % 200 if answered else 0
    end = t + timedelta(seconds=5 + 12 + talk)
    s.append((stream, "DialEnded", end, {"node": "sales", "dial_status": "completed" if answered else "no-answer",
                                         "duration": talk, "targets": ["101", "102"],
                                         "answered_by": "101" if answered else ""}))
    s.append((stream, "StepDecided", end, {"step": 3, "node": "sales", "action": "ring_group", "branch": "answered",
                                           "instructions": [{"verb": "Hangup"}], "request_id": f"r{n}c"}))
    s.append((stream, "CallStatusChanged", end + timedelta(seconds=1), {"status": "completed", "sequence_number": 3,
                                                                        "duration": int((end - t).total_seconds())}))
    if n % 10 == 0:
        queue, agent = f"queue-{tenant}-support", f"agent-{tenant}-{200 + n % 20}"
        at = (t + timedelta(seconds=6)).isoformat()
        s += [(queue, "CallerQueued", t + timedelta(seconds=6), {"call_sid": sid, "number": caller, "priority": 0,
                                                                 "at": at}),
              (queue, "CallerAssigned", t + timedelta(seconds=17), {
                  "call_sid": sid, "agent": agent[-3:], "offer_id": f"o{n}", "number": caller,
                  "at": (t + timedelta(seconds=17)).isoformat(), "waited_seconds": 11}),
              (agent, "AgentConnected", t + timedelta(seconds=17), {
                  "agent": agent[-3:], "offer_id": f"o{n}", "call_sid": sid, "queue": "support", "room": "r",
                  "at": (t + timedelta(seconds=17)).isoformat()}),
              (agent, "AgentCallEnded", end, {"agent": agent[-3:], "call_sid": sid, "queue": "support",
                                              "at": end.isoformat(), "talk_seconds": talk,
                                              "wrapup_until": (end + timedelta(seconds=10)).isoformat()})]
    return s


def generate(path: str, events: int, tenants: list[tuple[str, int]]) -> int:
    """Write about ``events`` events; tenants = [(tenant, calls)] with the calls spread over November."""
    log = SQLiteEventStore(path)
    conn = log._conn()
    versions: dict[str, int] = {}
    rows: list[tuple] = []  # type: ignore[type-arg]
    written = 0
    pending: list[tuple[datetime, str, str, str, dict]] = []  # type: ignore[type-arg]
    n = 0
    conn.execute("BEGIN")
    for tenant, calls in tenants:
        step = timedelta(seconds=29 * 86400 / max(calls, 1))
        for i in range(calls):
            t = START + step * i
            for stream, etype, at, data in call_events(tenant, n, t):
                pending.append((at, tenant, stream, etype, data))
            n += 1
            # keep about CONCURRENT calls in flight: emit what is due before this call starts
            if len(pending) > CONCURRENT * 8:
                pending.sort(key=lambda p: p[0])
                due, pending = pending[:-CONCURRENT * 7], pending[-CONCURRENT * 7:]
                written += _write(conn, due, versions, rows)
            if written >= events:
                break
        pending.sort(key=lambda p: p[0])
        written += _write(conn, pending, versions, rows)
        pending = []
    conn.execute("COMMIT")
    log.close()
    return written


def _write(conn: sqlite3.Connection, due: list, versions: dict[str, int], rows: list) -> int:  # type: ignore[type-arg]
    out = []
    for at, tenant, stream, etype, data in due:
        v = versions.get(stream, 0) + 1
        versions[stream] = v
        stamp = at.isoformat(timespec="microseconds")
        out.append((tenant, stream, v, f"{stream}/{v}", etype, 2 if etype == "CallStarted" else 1, stamp, stamp,
                    f"c{stream}", f"c{stream}", dumps(data)))
    conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", out)
    return len(out)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def replay(log_path: str, out_path: str) -> tuple[int, int, float, float, int]:
    """What `vpbx replay` does: rebuild every view (the hash chain is evidence, extended, never rebuilt)."""
    log = SQLiteEventStore(log_path)
    out = SQLiteProjectionStore(out_path)
    runner = Runner(out, [p for p in all_projections() if p.name not in EVIDENCE], fresh=True)
    peak = 0

    def progress(_: int) -> None:
        nonlocal peak
        peak = max(peak, runner.cached())

    started, cpu = time.perf_counter(), time.process_time()
    folded = run_log(runner, log, progress=progress)
    took, wall = time.process_time() - cpu, time.perf_counter() - started
    events = count_log(log) or 0
    log.close()
    return events, folded, wall, took, peak


def replay_split(log_path: str, out_path: str, jobs: int) -> tuple[int, float, float]:
    """`vpbx replay --jobs N`: the views rebuilt by N processes, one share of the streams each. Returns the
    events, the wall time, and the CPU time of this process and its children together."""
    from chalicelib.projections.replay import replay as replay_views

    log, out = SQLiteEventStore(log_path), SQLiteProjectionStore(out_path)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, cpu = time.perf_counter(), time.process_time()
    result = replay_views(log, out, jobs=jobs)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = time.process_time() - cpu + (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    log.close()
    return result.events, wall, took


def ceiling(log_path: str, tmp: str) -> float:
    """What the replay costs with the CDR fold's own work taken away: a first run records what the CDR
    fold returns for every event, a second returns those recorded results from a dict (same outputs,
    checked by digest). Returns the CPU seconds of the second run: the floor of this pipeline (reading,
    decoding, routing, the other folds, writing) in CPython, whatever the CDR fold costs."""
    import dataclasses

    views = [p for p in all_projections() if p.name not in EVIDENCE]
    calls = next(p for p in views if p.name == "calls")
    seen: dict[tuple[str, int], Any] = {}

    def recording(state: Any, e: Any) -> Any:
        seen[(e.stream_id, e.version)] = result = calls.evolve(state, e)
        return result

    def recorded(state: Any, e: Any) -> Any:
        return seen[(e.stream_id, e.version)]

    took, digests = [], []
    for name, evolve in (("record", recording), ("replayed", recorded)):
        log = SQLiteEventStore(log_path)
        out = SQLiteProjectionStore(f"{tmp}/ceiling-{name}.sqlite")
        runner = Runner(out, [dataclasses.replace(calls, evolve=evolve), *(p for p in views if p is not calls)],
                        fresh=True)
        cpu = time.process_time()
        run_log(runner, log)
        took.append(time.process_time() - cpu)
        digests.append(out.digest("calls"))
        log.close()
    assert digests[0] == digests[1], "the recorded CDR results must build the same CDRs"
    return took[1]


def chain(log_path: str, out_path: str) -> tuple[int, float]:
    """Chaining a log that was never chained (what the follower does as events arrive), for the record."""
    log = SQLiteEventStore(log_path)
    runner = Runner(SQLiteProjectionStore(out_path), [p for p in all_projections() if p.name in EVIDENCE])
    cpu = time.process_time()
    n = run_log(runner, log)
    took = time.process_time() - cpu
    log.close()
    return n, took


def bill(out_path: str, tenant: str) -> tuple[float, dict]:  # type: ignore[type-arg]
    out = SQLiteProjectionStore(out_path)
    tariff = version_for(parse_versions(json.loads((ROOT / "domain/billing/tariffs/standard.json").read_text())),
                         "2026-11")
    devices = device_map({"extensions": {"101": {}, "102": {"devices": [{"type": "client", "identity": "102"}]}}})
    started = time.process_time()
    invoice = rate_month(out.states("calls", tenant, "2026-11-01T05:00:00", "2026-12-01T05:00:00"), tariff,
                         tenant=tenant, month="2026-11", devices=devices)
    return time.process_time() - started, invoice


def main() -> int:
    sizes = [10_000, 100_000, 1_000_000] if os.environ.get("BENCH_FULL", "1") == "1" else [10_000, 100_000]
    print(f"projection replay (vpbx replay): all {len(all_projections()) - len(EVIDENCE)} views together, "
          f"{CONCURRENT} calls in flight")
    print("events/s per core = events of the log / CPU seconds of the replaying process (wall time also shown: the")
    print("machine may be shared); one process, one thread, SQLite log -> SQLite projections database. 'folded' is")
    print("how many of those events reached a fold: SQLite skips the rest (menu steps, gathered digits) in its query.")
    print(f"{'events':>10} {'folded':>9} {'wall s':>7} {'CPU s':>7} {'events/s/core':>14} {'us/event':>9} "
          f"{'max open states':>16} {'max RSS MB':>11}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            log_path, out_path = f"{tmp}/log-{size}.sqlite", f"{tmp}/out-{size}.sqlite"
            # the largest run: a tenant with 100,000 calls in November plus a second tenant
            tenants = [("big", 100_000), ("other", 10**9)] if size == 1_000_000 else [("bench", 10**9)]
            generate(log_path, size, tenants)
            n, folded, wall, took, peak = replay(log_path, out_path)
            results.append((n, took))
            print(f"{n:>10,} {folded:>9,} {wall:>7.2f} {took:>7.2f} {n / took:>14,.0f} {took / n * 1e6:>9.2f} "
                  f"{peak:>16,} {rss_mb():>11.0f}")
        base_n, base_t = results[0]
        for n, t in results[1:]:
            print(f"scaling {base_n:,} -> {n:,} events: x{n / base_n:.0f} events took x{t / base_t:.1f} CPU time "
                  f"(linear would be x{n / base_n:.0f})")
        jobs = os.cpu_count() or 1
        if jobs > 1:
            single_wall = wall
            n, wall, took = replay_split(log_path, f"{tmp}/split.sqlite", jobs)
            print(f"the same {n:,} events split over {jobs} processes (vpbx replay --jobs {jobs}): wall {wall:.2f} s "
                  f"= {n / wall:,.0f} events/s ({single_wall / wall:.2f}x one process), CPU {took:.2f} s in all "
                  f"= {n / took:,.0f} events/s per core (process start-up included)")
        # last: recording every CDR result takes memory, and the RSS column above is the process's peak
        n, took = results[1]
        without = ceiling(f"{tmp}/log-{sizes[1]}.sqlite", tmp)
        print(f"the {n:,} events with the CDR fold's results recorded beforehand (its own work removed, same CDRs): "
              f"{n / without:,.0f} events/s per core, the ceiling of this pipeline in CPython; the CDR fold is "
              f"{(took - without) / n * 1e6:.1f} of {took / n * 1e6:.1f} us/event")
        n, took = chain(log_path, f"{tmp}/chain.sqlite")
        print(f"hash chain over the same {n:,} events from nothing (the follower's job, not replay's): "
              f"{n / took:,.0f} events/s per core")
        if size == 1_000_000:
            took, invoice = bill(out_path, "big")
            calls = invoice["lines"][0]["quantity"]
            print(f"monthly bill: tenant with {calls:,} calls rated in {took:.2f} s (target < 2 s), "
                  f"total {invoice['total']} {invoice['currency']}")
    rate = results[-1][0] / results[-1][1]
    print(f"replay rate at {results[-1][0]:,} events: {rate:,.0f} events/s per core (target >= 200,000): "
          f"{'OK' if rate >= 200_000 else 'BELOW TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
