"""Benchmarks for the call path (issue 2). Prints figures and ratios measured in one run.

1. Webhooks handled per second on one core, in-process on SQLite, each for a call that already has
   30 events (load + fold + decide + conditional append + render), with p50/p99 latency: warm (this
   process's cache is current), cold (a new process: persisted snapshot + newer events), and cold
   without a snapshot (a new process folds all 30 events).
2. Append+load throughput of our SQLite event store against the eventsourcing library's SQLite
   application recorder on the same workload.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "functions"))

from chalicelib.bootstrap import bootstrap  # noqa: E402
from chalicelib.calls import _caches, handle_webhook  # noqa: E402
from chalicelib.demo import seed_demo  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402
from chalicelib.signatures import public_url, twilio_signature  # noqa: E402
from chalicelib.stores.sqlite import SQLiteEventStore  # noqa: E402

PUBLIC, TOKEN = "https://pbx.example.com", "bench-token"
MIDWAY = 5  # snapshots come every 10 events: a cold process folds 0 to 9 newer ones, 4.5 on average
CALLS = 2000  # per set: one set cold from snapshots then warm, one cold without snapshots
PRIOR = 30


def signed(endpoint: str, params: dict[str, str], query: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """What the gateway sends: its own work (encoding, signing) is done before the clock starts."""
    url = public_url(PUBLIC, f"/webhooks/demo/{endpoint}", query)
    headers = {"X-Twilio-Signature": twilio_signature(TOKEN, url, params.items())}
    return {"tenant_id": "demo", "endpoint": endpoint, "query": query, "headers": headers,
            "body": urlencode(params).encode(), "content_type": "application/x-www-form-urlencoded"}


def post(svc, endpoint: str, params: dict[str, str], query: dict[str, str]):  # type: ignore[no-untyped-def]
    return handle_webhook(svc, **signed(endpoint, params, query))


def bench_webhooks(tmp: Path) -> dict[str, float]:
    settings = Settings(public_url=PUBLIC, sqlite_path=str(tmp / "wh.sqlite"), demo_auth_token=TOKEN)
    store = SQLiteEventStore(settings.sqlite_path)
    svc = bootstrap(settings, store)
    seed_demo(svc.tenants, TOKEN)
    with_snapshot, without_snapshot = _calls(svc), _calls(svc)
    midway = _calls(svc, PRIOR + MIDWAY)  # snapshots at 10, 20, 30; the last MIDWAY events are newer
    common = {"AccountSid": "AC" + "0" * 32, "From": "+15550002000", "To": "+15550001000",
              "CallStatus": "in-progress", "Direction": "inbound"}

    def support(sids: list[str]) -> list[dict]:  # type: ignore[type-arg]
        return [signed("voice", {"CallSid": sid, **common, "Digits": "2"}, {"node": "menu", "step": "2"})
                for sid in sids]

    # Cold: a fresh cache, as in a new process (a new Lambda container): the persisted snapshot
    # plus the events after it are read.
    snapshot_version = store.load_snapshot(f"call-{with_snapshot[0]}")[0]  # type: ignore[index]
    _caches.clear()
    cold = _timed(svc, support(with_snapshot), "sip:103@")
    # Warm: the next step of the same calls; this process's cache is current, only newer events load.
    warm = _timed(svc, [signed("voice", {"CallSid": sid, **common, "DialCallStatus": "no-answer"},
                               {"node": "support", "step": "4"}) for sid in with_snapshot], "<Record")
    # Cold, typical: snapshots are written every 10 events, so a fresh cache usually folds a few newer ones.
    _caches.clear()
    typical = _timed(svc, support(midway), "sip:103@")
    # Cold without a snapshot: a fresh cache and no persisted snapshots, so all 30 events are folded
    # (and, as in production, a snapshot is then written for each call).
    store._conn().execute("DELETE FROM snapshots")
    _caches.clear()
    bare = _timed(svc, support(without_snapshot), "sip:103@")
    return {"snapshot_version": snapshot_version, **{f"cold_{k}": v for k, v in cold.items()},
            **{f"typical_{k}": v for k, v in typical.items()},
            **{f"warm_{k}": v for k, v in warm.items()}, **{f"bare_{k}": v for k, v in bare.items()}}


def _calls(svc, prior: int = PRIOR) -> list[str]:  # type: ignore[no-untyped-def]
    """CALLS calls at the menu with ``prior`` events each, every event written by a webhook (the menu,
    then status callbacks with increasing SequenceNumber), so snapshots are written as in production."""
    sids = ["CA" + uuid.uuid4().hex for _ in range(CALLS)]
    for sid in sids:
        base = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": "+15550002000", "To": "+15550001000",
                "CallStatus": "ringing", "Direction": "inbound"}
        post(svc, "voice", base, {})
        for seq in range(1, prior - svc.store.stream_version(f"call-{sid}") + 1):
            post(svc, "status", {**base, "CallStatus": "in-progress", "SequenceNumber": str(seq)}, {})
    assert all(svc.store.stream_version(f"call-{sid}") == prior for sid in sids[:10])
    return sids


def _timed(svc, requests: list[dict], expect: str) -> dict[str, float]:  # type: ignore[no-untyped-def,type-arg]
    latencies, cpu_latencies = [], []
    start = time.perf_counter()
    cpu0 = time.process_time()
    for request in requests:
        t, c = time.perf_counter(), time.thread_time()
        resp = handle_webhook(svc, **request)
        latencies.append(time.perf_counter() - t)
        cpu_latencies.append(time.thread_time() - c)
        assert resp.status == 200 and expect in resp.body, resp.body
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    latencies.sort()
    cpu_latencies.sort()
    n = len(requests)
    return {"per_s_wall": n / wall, "per_s_cpu": n / cpu, "cpu_p99_ms": cpu_latencies[int(n * 0.99)] * 1000,
            "p50_ms": statistics.median(latencies) * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


STREAMS, APPENDS, BATCH = 2000, 10, 3


def workload_ours(path: Path) -> float:
    from domain.events import StoredEvent

    store = SQLiteEventStore(path)
    start = time.perf_counter()
    for s in range(STREAMS):
        sid = f"call-{s}"
        for a in range(APPENDS):
            v = a * BATCH
            batch = [StoredEvent(tenant_id="t", stream_id=sid, version=v + i + 1, event_id=str(uuid.uuid4()),
                                 event_type="StepDecided", schema_version=1, occurred_at="2026-11-01T00:00:00",
                                 recorded_at="2026-11-01T00:00:00", correlation_id="r", causation_id="r",
                                 data={"step": v + i, "node": "menu", "inputs": {"digits": "1"}})
                     for i in range(BATCH)]
            store.append(sid, batch, v)
    for s in range(STREAMS):
        events, _ = store.load(f"call-{s}")
        assert len(events) == APPENDS * BATCH
    return time.perf_counter() - start


def workload_eventsourcing(path: Path) -> float:
    from eventsourcing.persistence import StoredEvent as ESEvent
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

    recorder = SQLiteApplicationRecorder(SQLiteDatastore(str(path)))
    recorder.create_table()
    ids = [uuid.uuid4() for _ in range(STREAMS)]
    start = time.perf_counter()
    for oid in ids:
        for a in range(APPENDS):
            v = a * BATCH
            recorder.insert_events([ESEvent(originator_id=oid, originator_version=v + i + 1, topic="StepDecided",
                                            state=json.dumps({"step": v + i, "node": "menu",
                                                              "inputs": {"digits": "1"}}).encode())
                                    for i in range(BATCH)])
    for oid in ids:
        events = recorder.select_events(oid)
        assert len(events) == APPENDS * BATCH
    return time.perf_counter() - start


def main() -> int:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wh = bench_webhooks(tmp)
        ours = workload_ours(tmp / "ours.sqlite")
        theirs = workload_eventsourcing(tmp / "es.sqlite")
    ops = STREAMS * (APPENDS + 1)
    print(f"webhooks, in-process on SQLite, calls with {PRIOR} prior events, {CALLS} webhooks each run:")
    for kind, label in (("warm", "warm (cache current, next step of the call)"),
                        ("cold", f"cold (fresh cache: persisted snapshot at v{wh['snapshot_version']:.0f}"
                                 f" + {PRIOR - wh['snapshot_version']:.0f} newer events)"),
                        ("typical", f"cold, typical (a call of {PRIOR + MIDWAY} events: snapshot at "
                                    f"v{wh['snapshot_version']:.0f} + {MIDWAY} newer events folded)"),
                        ("bare", f"cold without snapshot (fresh cache, fold all {PRIOR} events from SQLite)")):
        print(f"  {label}: {wh[kind + '_per_s_wall']:,.0f} webhooks/s on one core (wall), "
              f"{wh[kind + '_per_s_cpu']:,.0f}/s by CPU time [target >= 2,000: ratio "
              f"{wh[kind + '_per_s_wall'] / 2000:.2f}x]; p50 {wh[kind + '_p50_ms']:.2f} ms, "
              f"p99 {wh[kind + '_p99_ms']:.2f} ms [target <= 5 ms: ratio {5 / wh[kind + '_p99_ms']:.2f}x]; "
              f"p99 of CPU time per webhook {wh[kind + '_cpu_p99_ms']:.2f} ms")
    print(f"  (machine load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
    print(f"event store, {STREAMS} streams x {APPENDS} appends of {BATCH} events, then one load each ({ops:,} ops):")
    print(f"  vpbx SQLiteEventStore        {ours:.2f} s  ({ops / ours:,.0f} ops/s)")
    print(f"  eventsourcing SQLite recorder {theirs:.2f} s  ({ops / theirs:,.0f} ops/s)")
    print(f"  ratio (eventsourcing time / vpbx time) = {theirs / ours:.2f} [target >= 1.0]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
