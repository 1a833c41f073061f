"""Projection replay and billing benchmarks (``make bench``).

Two logs of 10^4, 10^5 and 10^6 events each, written straight into a temporary SQLite event log,
with calls overlapping (CONCURRENT open at any time) as on a busy PBX; all projections are rebuilt
from each, and the largest synthetic tenant's month is billed.

- Recorded mix (the headline): calls played through vpbx's own webhook path first (the simulator's
  gateway against the demo tenant, and the call-center simulator), then cloned with new call ids,
  event ids and times. These are the events vpbx writes: every routing step, full gateway params.
- Synthetic mix (the earlier benches'): calls made up here. Fewer steps per call (no screening step,
  no menu branch step), a quarter of them outbound (for the per-minute rates of the bill).
"""

from __future__ import annotations

import heapq
import json
import os
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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


def call_events(tenant: str, n: int, t: datetime) -> list[tuple[str, str, datetime, dict]]:  # type: ignore[type-arg]
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
    s: list[tuple[str, str, datetime, dict[str, Any]]]
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


# -- the recorded mix

PUBLIC, TOKEN = "https://pbx.example.com", "bench-token"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?\+00:00")
Template = list[tuple[str, str, str, int, float, str]]
"""One recorded call: (tenant, stream, event type, schema version, seconds after the call's start, data text)."""
DEMO_CALLS = [  # (weight in 100 calls, caller, keys pressed, outcome of each Dial) through the demo plan
    (30, "+15550002000", "1", "completed"),  # sales ring group answers
    (10, "+15550002000", "1", "no-answer"),  # nobody in sales: voicemail
    (15, "+15550002000", "2", "completed"),  # support extension answers
    (5, "+15550002000", "2", "busy"),  # support busy: voicemail
    (8, "+15550002000", "0", "completed"),  # the operator answers
    (5, "+15550002000", "", "completed"),  # no key pressed: the menu repeats, then the operator
    (4, "+15550002222", "", "completed"),  # a VIP caller straight to the operator's extension
    (3, "+15550009999", "", "completed"),  # a blocked caller, rejected
]
QUEUE_WEIGHT = 20  # call-center calls: queued, offered to agents, some call-backs and abandons


class _Pace:
    """The demo calls' clock: a few seconds per step, plus each Dial's ring and talk and each recording."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class _InProcess:
    """The simulator's HTTP session, answered by vpbx's webhook handler in this process."""

    def __init__(self, svc: Any, pace: _Pace) -> None:
        self.svc, self.pace = svc, pace

    def post(self, url: str, data: str, headers: dict[str, str], timeout: float) -> SimpleNamespace:
        from chalicelib.calls import handle_webhook

        parts, params = urlsplit(url), dict(parse_qsl(data))
        _, tenant, endpoint = parts.path.strip("/").split("/")
        ring_talk = 12 + int(params.get("DialCallDuration", 0)) if "DialCallStatus" in params else 0
        self.pace.now += timedelta(seconds=3 + ring_talk + int(params.get("RecordingDuration", 0)))
        r = handle_webhook(self.svc, tenant_id=tenant, endpoint=endpoint, query=dict(parse_qsl(parts.query)),
                           headers=headers, body=data.encode(), content_type=headers["Content-Type"])
        return SimpleNamespace(status_code=r.status, text=r.body)


def recorded_templates(tmp: str) -> list[tuple[float, Template]]:
    """Calls as vpbx records them, with their weights: the DEMO_CALLS through the simulator's gateway, and
    a call-center scenario (each call with the queue and agent events that name it)."""
    from chalicelib.bootstrap import bootstrap
    from chalicelib.demo import DEMO_NUMBER, seed_demo
    from chalicelib.settings import Settings
    from chalicelib.simulator import Gateway, Script
    from chalicelib.simulator_queue import Scenario, simulate_queue, virtual_services

    pace = _Pace()
    demo = bootstrap(Settings(public_url=PUBLIC, sqlite_path=f"{tmp}/demo.sqlite", demo_auth_token=TOKEN),
                     SQLiteEventStore(f"{tmp}/demo.sqlite"), clock=pace)
    seed_demo(demo.tenants, TOKEN)
    gateway = Gateway(PUBLIC, PUBLIC, "demo", TOKEN, say=lambda _: None, session=_InProcess(demo, pace))
    out: list[tuple[float, Template]] = []
    for weight, caller, digits, dial in DEMO_CALLS:
        sid = "CA" + uuid.uuid4().hex
        gateway.call(DEMO_NUMBER, caller, Script(digits=[digits] if digits else [], dial=[dial]), call_sid=sid)
        out.append((weight, _template(demo.store, sid)))
    center = virtual_services(f"{tmp}/center.sqlite", start=START)
    simulate_queue(center, Scenario(callers=40, agents=4, seed=5))
    conn = center.store._conn()
    sids = [s[5:] for (s,) in conn.execute("SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'call-%'")]
    for sid in sids:
        out.append((QUEUE_WEIGHT / len(sids), _template(center.store, sid)))
    return out


def _template(store: SQLiteEventStore, sid: str) -> Template:
    """A call's own events, with the queue, agent and callback events that name it or one of its offers."""
    rows = store._conn().execute("SELECT tenant_id, stream_id, event_type, schema_version, occurred_at, data "
                                 "FROM events WHERE stream_id NOT LIKE 'tenant-%' ORDER BY position").fetchall()
    mine = [r for r in rows if r[1] == f"call-{sid}" or (not r[1].startswith("call-") and sid in r[5])]
    offers = {m for r in mine for m in re.findall(r'"offer_id":"([^"]+)"', r[5])}
    mine = [r for r in rows if r in mine or (offers and not r[1].startswith("call-")
                                             and set(re.findall(r'"offer_id":"([^"]+)"', r[5])) & offers)]
    t0 = datetime.fromisoformat(mine[0][4])
    return [(tenant, stream.replace(sid, "{sid}"), etype, schema, (datetime.fromisoformat(at) - t0).total_seconds(),
             data.replace(sid, "{sid}")) for tenant, stream, etype, schema, at, data in mine]


def generate_recorded(path: str, events: int, templates: list[tuple[float, Template]]) -> int:
    """About ``events`` events: recorded calls in a fixed shuffled order by weight, each clone with its own
    call id, event ids and times (every time in its data moved with it), CONCURRENT calls in flight."""
    cycle = call_cycle(templates)
    lengths = [tpl[-1][4] for _, tpl in templates]
    step = timedelta(seconds=sum(lengths[i] for i in cycle) / len(cycle) / CONCURRENT)
    # each template's data split around its times: text, time, text, ... (times as offsets from START)
    parts = [[[(piece if k % 2 == 0 else datetime.fromisoformat(piece) - START)
               for k, piece in enumerate(_split_times(data))] for *_, data in tpl] for _, tpl in templates]
    log = SQLiteEventStore(path)
    conn = log._conn()
    versions: dict[str, int] = {}
    due: list[tuple[datetime, int, tuple[Any, ...]]] = []
    written = seq = n = 0
    conn.execute("BEGIN")
    while written < events:
        t = START + step * n
        batch = []
        while due and due[0][0] < t:
            batch.append(heapq.heappop(due)[2])
        written += _write_recorded(conn, batch, versions, written)
        i = cycle[n % len(cycle)]
        sid, shift = f"CA{n:032x}", t - START
        for (tenant, stream, etype, schema, offset, _), pieces in zip(templates[i][1], parts[i], strict=True):
            data = "".join(p if isinstance(p, str) else (START + p + shift).isoformat(timespec="microseconds")
                           for p in pieces).replace("{sid}", sid)
            seq += 1
            at = t + timedelta(seconds=offset)
            heapq.heappush(due, (at, seq, (tenant, stream.replace("{sid}", sid), etype, schema, at, data)))
        n += 1
    written += _write_recorded(conn, [heapq.heappop(due)[2] for _ in range(len(due))], versions, written)
    conn.execute("COMMIT")
    log.close()
    return written


def call_cycle(templates: list[tuple[float, Template]]) -> list[int]:
    """Which template each call of a round plays: a template of weight w (in 100 calls) w*10 times in 1,000,
    in a fixed shuffled order; call n of the log plays cycle[n % len(cycle)]."""
    cycle = [i for i, (weight, _) in enumerate(templates) for _ in range(max(1, round(weight * 10)))]
    random.Random(7).shuffle(cycle)
    return cycle


def _split_times(data: str) -> list[str]:
    out, last = [], 0
    for m in STAMP.finditer(data):
        out += [data[last:m.start()], m.group()]
        last = m.end()
    return [*out, data[last:]]


def _write_recorded(conn: sqlite3.Connection, batch: list[tuple[Any, ...]], versions: dict[str, int],
                    first: int) -> int:
    out = []
    for k, (tenant, stream, etype, schema, at, data) in enumerate(batch, first):
        v = versions.get(stream, 0) + 1
        versions[stream] = v
        stamp = at.isoformat(timespec="microseconds")
        out.append((tenant, stream, v, str(uuid.UUID(int=k + 1, version=4)), etype, schema, stamp, stamp,
                    f"req-{stream}", f"req-{stream}", data))
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
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        templates = recorded_templates(tmp)
        # one untimed replay first: the process's one-time costs (imports, first queries, caches) would
        # otherwise land on the smallest log's row and bend the scaling lines
        generate_recorded(f"{tmp}/warm-log.sqlite", 2_000, templates)
        replay(f"{tmp}/warm-log.sqlite", f"{tmp}/warm-out.sqlite")
        print(f"\nrecorded mix: {len(templates)} calls recorded through vpbx's webhook path, cloned (weights: "
              f"{', '.join(str(w) for w, *_ in DEMO_CALLS)} through the demo plan, {QUEUE_WEIGHT} call-center)")
        results = table(tmp, "rec", sizes, lambda path, size: generate_recorded(path, size, templates))
        rates["recorded mix"] = results[-1][0] / results[-1][1]
        recorded = results
        print("\nsynthetic mix (the earlier benches' log: fewer steps per call, a quarter outbound)")
        # the largest run: a tenant with 100,000 calls in November plus a second tenant (billed below)
        results = table(tmp, "syn", sizes, lambda path, size: generate(
            path, size, [("big", 100_000), ("other", 10**9)] if size == 1_000_000 else [("bench", 10**9)]))
        rates["synthetic mix"] = results[-1][0] / results[-1][1]
        size = sizes[-1]
        log_path, out_path = f"{tmp}/syn-log-{size}.sqlite", f"{tmp}/syn-out-{size}.sqlite"
        jobs = os.cpu_count() or 1
        if jobs > 1:
            single_wall = results[-1][2]
            n, wall, took = replay_split(log_path, f"{tmp}/split.sqlite", jobs)
            print(f"the same {n:,} events split over {jobs} processes (vpbx replay --jobs {jobs}): wall {wall:.2f} s "
                  f"= {n / wall:,.0f} events/s ({single_wall / wall:.2f}x one process), CPU {took:.2f} s in all "
                  f"= {n / took:,.0f} events/s per core (process start-up included)")
        n, took = chain(log_path, f"{tmp}/chain.sqlite")
        print(f"hash chain over the same {n:,} events from nothing (the follower's job, not replay's): "
              f"{n / took:,.0f} events/s per core")
        if size == 1_000_000:
            took, invoice = bill(out_path, "big")
            calls = invoice["lines"][0]["quantity"]
            print(f"monthly bill: tenant with {calls:,} calls rated in {took:.2f} s (target < 2 s), "
                  f"total {invoice['total']} {invoice['currency']}")
        # last: recording every CDR result takes memory, and the RSS columns above are the process's peak
        n, took, _ = recorded[1]
        without = ceiling(f"{tmp}/rec-log-{sizes[1]}.sqlite", tmp)
        print(f"the recorded mix's {n:,} events with the CDR fold's results recorded beforehand (its own work "
              f"removed, same CDRs): {n / without:,.0f} events/s per core, the ceiling of this pipeline in CPython; "
              f"the CDR fold is {(took - without) / n * 1e6:.1f} of {took / n * 1e6:.1f} us/event")
    print()
    for mix, rate in rates.items():
        print(f"replay rate at {sizes[-1]:,} events, {mix}: {rate:,.0f} events/s per core (target >= 200,000): "
              f"{'OK' if rate >= 200_000 else 'BELOW TARGET'}")
    return 0


def table(tmp: str, mix: str, sizes: list[int], make: Any) -> list[tuple[int, float, float]]:
    """Generate and replay one log per size; print a row each and the scaling. Returns (events, CPU s, wall s)."""
    print(f"{'events':>10} {'folded':>9} {'wall s':>7} {'CPU s':>7} {'events/s/core':>14} {'us/event':>9} "
          f"{'max open states':>16} {'max RSS MB':>11}")
    results = []
    for size in sizes:
        log_path, out_path = f"{tmp}/{mix}-log-{size}.sqlite", f"{tmp}/{mix}-out-{size}.sqlite"
        make(log_path, size)
        n, folded, wall, took, peak = replay(log_path, out_path)
        results.append((n, took, wall))
        print(f"{n:>10,} {folded:>9,} {wall:>7.2f} {took:>7.2f} {n / took:>14,.0f} {took / n * 1e6:>9.2f} "
              f"{peak:>16,} {rss_mb():>11.0f}")
    base_n, base_t, _ = results[0]
    for n, t, _ in results[1:]:
        print(f"scaling {base_n:,} -> {n:,} events: x{n / base_n:.0f} events took x{t / base_t:.1f} CPU time "
              f"(linear would be x{n / base_n:.0f})")
    return results


if __name__ == "__main__":
    sys.exit(main())
