"""The mailboxes projection: the marks of a message from whichever call made them, applied twice."""

from __future__ import annotations

from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from domain.events import StoredEvent
from domain.projections.mailboxes import marks_of, projection


def event(stream: str, version: int, etype: str, data: dict, at: str, position: int) -> StoredEvent:  # type: ignore[type-arg]
    return StoredEvent(tenant_id="demo", stream_id=stream, version=version, event_id=f"{stream}-{version}",
                       event_type=etype, schema_version=1, occurred_at=at, recorded_at=at, correlation_id="r",
                       causation_id="r", data=data, position=f"{position:016d}")


def test_marks_from_the_phone_and_the_web_apply_once_whatever_the_redelivery(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # CA9 is 101's *97 call: it hears the messages CA1 and CA2 left and deletes CA1's; later the web app marks
    # CA2's message heard again (an event of CA2's own stream)
    marks = [event("call-CA9", 4, "VoicemailHeard", {"box": "101", "message": "m1"}, "2026-11-24T16:00:00+00:00", 3),
             event("call-CA9", 6, "VoicemailDeleted", {"box": "101", "message": "m1"}, "2026-11-24T16:00:05+00:00", 4),
             event("call-CA9", 8, "VoicemailHeard", {"box": "101", "message": "m2"}, "2026-11-24T16:00:09+00:00", 5),
             event("call-CA2", 6, "VoicemailHeard", {"box": "101", "message": "m2"}, "2026-11-24T17:00:00+00:00", 6),
             event("call-CA2", 7, "CallStatusChanged", {"status": "completed"}, "2026-11-24T17:00:01+00:00", 7)]
    out = SQLiteProjectionStore(tmp_path / "p.sqlite")
    runner = Runner(out, [projection()], use_checkpoints=False)
    for e in [*marks, *marks]:  # a redelivered batch (the stream consumer's retries)
        runner.feed(e)
    runner.flush()
    rows = out.rows("mailboxes", "demo")
    assert marks_of(rows) == {"m1": {"heard", "deleted"}, "m2": {"heard"}}
    # one row per mark (the later "heard" of m2 replaced the earlier), and no state for a fold that needs none
    assert sorted((r["mark"], r["message"], r["by_call"]) for r in rows) == [
        ("deleted", "m1", "CA9"), ("heard", "m1", "CA9"), ("heard", "m2", "CA2")]
    assert [line for line in out.dump("mailboxes") if line.startswith(b"states")] == []
    # the marks since a time are the rows from then on
    assert marks_of(out.rows("mailboxes", "demo", since_t="2026-11-24T16:00:06")) == {"m2": {"heard"}}
