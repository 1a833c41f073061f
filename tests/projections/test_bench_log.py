"""The replay bench's recorded mix: calls played through the webhook path, cloned into a big log. The
headline replay figure is measured on it, so a clone must be the same call as its template: the same
CDR but for its ids and times, whatever time it was moved to."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from chalicelib.projections.log import run_log
from chalicelib.projections.replay import EVIDENCE
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.projections import all_projections

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_projections as bench  # noqa: E402

SAME = ("outcome", "direction", "status", "from", "to", "duration", "talk", "ring", "hold", "picked_up_by")


def test_clones_of_a_recorded_call_fold_to_the_same_record(tmp_path: Path) -> None:
    templates = bench.recorded_templates(str(tmp_path))
    # every demo scenario and the call-center calls were recorded, each with the events of its own kind
    assert len(templates) > len(bench.DEMO_CALLS)
    kinds = Counter(e[2] for _, tpl in templates for e in tpl)
    assert {"CallStarted", "StepDecided", "DigitsGathered", "DialEnded", "VoicemailLeft", "CallStatusChanged",
            "CallerQueued", "CallerAssigned", "AgentConnected", "AgentCallEnded", "DialAnswered"} <= set(kinds)

    path = str(tmp_path / "log.sqlite")
    written = bench.generate_recorded(path, 14_000, templates)
    out = SQLiteProjectionStore(tmp_path / "out.sqlite")
    runner = Runner(out, [p for p in all_projections() if p.name not in EVIDENCE], fresh=True)
    assert run_log(runner, SQLiteEventStore(path)) > written // 3

    cdrs = {int(doc["sid"][2:], 16): doc for doc in out.states("calls")}
    cycle = bench.call_cycle(templates)
    assert len(cdrs) > len(cycle)  # more calls than one round of the cycle: every call came back at least once
    compared = Counter()
    for n, cdr in cdrs.items():
        twin = cdrs.get(n + len(cycle))  # the same template, moved by len(cycle) call starts
        if twin is None or cdr["status"] != "completed" or twin["status"] != "completed":
            continue
        assert {k: cdr[k] for k in SAME} == {k: twin[k] for k in SAME}, (n, cdr, twin)
        assert [len(cdr[k]) for k in ("legs", "events", "recordings")] == \
               [len(twin[k]) for k in ("legs", "events", "recordings")]
        assert cdr["t"] < twin["t"] and cdr["events"] != twin["events"]
        compared[cdr["outcome"]] += 1
    # answered, voicemail and rejected calls all came round twice and matched
    assert {"answered", "voicemail", "rejected"} <= set(compared), compared
    # the call-center clones: each queued caller left one queue row, answered by an agent or not
    rows = out.rows("queues")
    assert rows and Counter(r["outcome"] for r in rows)["answered"] > 0
