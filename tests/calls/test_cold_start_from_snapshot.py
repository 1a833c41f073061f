"""A new process (a fresh Lambda container) answers a call from its persisted snapshot plus the
events after it, exactly as a process that folded every event would."""

from __future__ import annotations

import itertools
import logging
import re
import sqlite3
import threading
import uuid
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from chalicelib import calls as calls_module
from chalicelib.bootstrap import Services, bootstrap
from chalicelib.call_snapshots import SCHEMA, SNAPSHOT_EVERY
from chalicelib.calls import WebhookResponse
from chalicelib.demo import seed_demo
from chalicelib.envelopes import decode_all
from chalicelib.settings import Settings
from chalicelib.stores.dynamodb import DynamoDBEventStore
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.calls.state import CallState, fold, from_snapshot, updated
from domain.events import StoredEvent
from tests.conftest import TOKEN, FakeClock, Gateway, call_params

SID = "CA" + "7" * 32
STREAM = f"call-{SID}"
MENU_STEP = {"node": "menu", "step": "2"}


class Spying:
    """Mixed into a real store: notes which versions the call's loads start after and how
    snapshots are used; can pretend there are none, or fail every save."""

    loads_after: list[int]
    snapshot_reads = 0
    snapshot_saves = 0
    snapshots = True
    saving_fails = False

    def load(self, stream_id: str, after_version: int = 0):  # type: ignore[no-untyped-def]
        if stream_id == STREAM:  # not the tenant's stream
            self.loads_after.append(after_version)
        return super().load(stream_id, after_version)  # type: ignore[misc]

    def load_snapshot(self, stream_id: str) -> tuple[int, str, str] | None:
        self.snapshot_reads += 1
        return super().load_snapshot(stream_id) if self.snapshots else None  # type: ignore[misc,no-any-return]

    def save_snapshot(self, stream_id: str, version: int, schema: str, doc_json: str) -> None:
        self.snapshot_saves += 1
        if self.saving_fails:
            raise sqlite3.OperationalError("disk I/O error")
        super().save_snapshot(stream_id, version, schema, doc_json)  # type: ignore[misc]


class SpyingStore(Spying, SQLiteEventStore):
    def __init__(self, path: str, *, snapshots: bool = True, saving_fails: bool = False) -> None:
        super().__init__(path)
        self.loads_after, self.snapshots, self.saving_fails = [], snapshots, saving_fails


class SpyingDynamoDBStore(Spying, DynamoDBEventStore):
    def __init__(self, table: str, host: str) -> None:
        super().__init__(table, host=host, create=True)
        self.loads_after = []


def process(settings: Settings, clock: FakeClock, name: str, **spy: bool) -> Gateway:
    """A new process on the same database: its own store object, so its own empty call-state cache."""
    counter = itertools.count(1)
    store = SpyingStore(settings.sqlite_path, **spy)
    return Gateway(bootstrap(settings, store, clock=clock, ids=lambda: f"{name}-{next(counter)}"))


def spy(gw: Gateway) -> Spying:
    store = gw.services.store
    assert isinstance(store, Spying)
    return store


def status(gw: Gateway, seq: int) -> WebhookResponse:
    return gw.post("status", call_params(SID, CallStatus="in-progress", SequenceNumber=str(seq)))


def press(gw: Gateway, digits: str, menu: WebhookResponse | None = None) -> WebhookResponse:
    """Digits for the menu ``menu`` answered with (the first menu if None)."""
    params = call_params(SID, CallStatus="in-progress", Digits=digits)
    if menu is None:
        return gw.post("voice", params, dict(MENU_STEP))
    (action,) = re.findall(r'<Gather action="([^"]+)"', menu.body)
    return gw.follow(action, params)


def call_of_25_webhooks(gw: Gateway) -> WebhookResponse:
    """The menu, one "no input" retry of it, then 23 status callbacks; returns the retry's answer."""
    assert "For sales, press 1" in gw.post("voice", call_params(SID)).body
    again = press(gw, "")
    for seq in range(1, 24):
        status(gw, seq)
    return again


def copy_database(settings: Settings, to: Path) -> Settings:
    src, dst = sqlite3.connect(settings.sqlite_path), sqlite3.connect(to)
    src.backup(dst)
    src.close()
    dst.close()
    return replace(settings, sqlite_path=str(to))


def owned_fold(stored: list[StoredEvent]) -> CallState:
    """The fold of a call's events as the shell keeps it: stamped with the tenant of its first event."""
    return updated(fold(decode_all(stored)), tenant_id=stored[0].tenant_id)


def events_after(gw: Gateway, version: int) -> list[tuple[str, dict[str, object]]]:
    stored, _ = gw.services.store.load(STREAM, version)
    return [(e.event_type, dict(e.data)) for e in stored]


def test_a_new_process_reads_the_snapshot_and_only_the_events_after_it_and_answers_the_same(
        services: Services, settings: Settings, clock: FakeClock, tmp_path: Path) -> None:
    # given a call that had 25 webhooks in one process, which wrote snapshots as it went
    first = process(settings, clock, "p1")
    menu = call_of_25_webhooks(first)
    assert spy(first).snapshot_reads == 0  # its first webhook was a new call: nothing to read
    version = first.services.store.stream_version(STREAM)
    snapshot_version, schema, _ = first.services.store.load_snapshot(STREAM) or (0, "", "")
    assert schema == SCHEMA and 0 < snapshot_version <= version < snapshot_version + SNAPSHOT_EVERY
    # and an identical copy of the database for a process that ignores snapshots
    folding = process(copy_database(settings, tmp_path / "copy.sqlite"), clock, "p2", snapshots=False)
    cold = process(settings, clock, "p2")
    # when the next webhook of the call reaches each new process
    from_snapshot_answer, folded_answer = press(cold, "2", menu), press(folding, "2", menu)
    # then the snapshot's process asked only for the events after the snapshot's version
    assert spy(cold).snapshot_reads == 1 and spy(cold).loads_after == [snapshot_version]
    assert spy(folding).loads_after == [0]
    # and both answered and recorded exactly the same
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in from_snapshot_answer.body
    assert from_snapshot_answer == folded_answer
    assert events_after(cold, version) == events_after(folding, version) != []


def test_a_redelivered_webhook_is_recognised_after_a_cold_start_from_a_snapshot(
        services: Services, settings: Settings, clock: FakeClock) -> None:
    # given a call whose menu retry was answered long before its latest snapshot
    first = process(settings, clock, "p1")
    again = call_of_25_webhooks(first)
    version = first.services.store.stream_version(STREAM)
    assert (first.services.store.load_snapshot(STREAM) or (0,))[0] > 3
    # when the gateway redelivers that retry to a new process
    cold = process(settings, clock, "p2")
    redelivered = press(cold, "")
    # then it answers as before, from the snapshot, and writes nothing
    assert spy(cold).snapshot_reads == 1 and spy(cold).loads_after[0] > 0
    assert redelivered == again and "For sales, press 1" in again.body
    assert cold.services.store.stream_version(STREAM) == version


@pytest.mark.parametrize(("schema", "doc", "warned"), [
    (SCHEMA, "{not json", True),
    (SCHEMA, '{"state": {"status": "in-progress"}, "seen": []}', True),
    (SCHEMA, '{"state": null}', True),
    ("callstate-0-0123456789ab+seen1", '{"state": {}, "seen": []}', False),
])
def test_a_snapshot_of_another_schema_or_corrupt_is_ignored_and_the_call_goes_on(
        services: Services, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture,
        schema: str, doc: str, warned: bool) -> None:
    # given a call of 25 webhooks whose stored snapshot is then damaged or written by other code
    menu = call_of_25_webhooks(process(settings, clock, "p1"))
    with sqlite3.connect(settings.sqlite_path) as db:
        assert db.execute("UPDATE snapshots SET schema = ?, doc = ? WHERE stream_id = ?",
                          (schema, doc, STREAM)).rowcount == 1
    # when a new process handles the next webhook
    cold = process(settings, clock, "p2")
    with caplog.at_level(logging.WARNING, logger="vpbx.snapshots"):
        answer = press(cold, "2", menu)
    # then it folded every event instead (having read those after the snapshot first: SQLite reads the
    # snapshot, then the events after it), answered correctly, and said so only for a corrupt one
    assert answer.status == 200 and ">sip:103@demo.sip.vpbx.local</Sip>" in answer.body
    assert spy(cold).loads_after == [20, 0]
    assert ("corrupt snapshot of " + STREAM in caplog.text) is warned
    # and its own snapshot, of the current schema, replaced the bad one
    version, new_schema, text = cold.services.store.load_snapshot(STREAM) or (0, "", "")
    assert (version, new_schema) == (cold.services.store.stream_version(STREAM), SCHEMA)
    assert from_snapshot(orjson.loads(text)["state"]) == owned_fold(cold.services.store.load(STREAM)[0])


def test_a_snapshot_that_names_no_tenant_is_not_trusted_to_say_whose_call_it_is(
        services: Services, settings: Settings, clock: FakeClock) -> None:
    # given a call of the demo tenant whose snapshot was written before snapshots kept the call's owner
    menu = call_of_25_webhooks(process(settings, clock, "p1"))
    with sqlite3.connect(settings.sqlite_path) as db:
        (text,) = db.execute("SELECT doc FROM snapshots WHERE stream_id = ?", (STREAM,)).fetchone()
        doc = orjson.loads(text)
        assert doc["state"]["tenant_id"] == "demo"
        doc["state"]["tenant_id"] = ""
        db.execute("UPDATE snapshots SET doc = ? WHERE stream_id = ?", (orjson.dumps(doc).decode(), STREAM))
    # and a rival tenant with its own gateway account
    from tests.routing.pbx import base_config, make_tenant

    config = base_config()
    rival = make_tenant(services, "rival", {"root": {"id": "bye", "action": "hangup", "data": {}}},
                        gateway={**config["gateway"], "auth_token": "rival-token"})
    rival.token = "rival-token"
    before = services.store.stream_version(STREAM)
    # when the rival, in a new process, signs a status callback naming the call
    cold = process(settings, clock, "p2")
    rival.services = cold.services
    hijack = rival.post("status", call_params(SID, CallStatus="completed", SequenceNumber="90"))
    # then the snapshot was not used (every event was folded, the first one naming the owner): 404, nothing written
    assert hijack.status == 404 and "no call " + SID in hijack.body
    assert spy(cold).loads_after == [20, 0]
    assert services.store.stream_version(STREAM) == before
    # while the owner's next webhook goes on as before
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in press(cold, "2", menu).body


def test_a_call_that_ends_drops_its_snapshot_and_a_late_webhook_still_folds_it_all(
        services: Services, settings: Settings, clock: FakeClock) -> None:
    # given a call long enough to have a snapshot
    gw = process(settings, clock, "p1")
    call_of_25_webhooks(gw)
    assert (services.store.load_snapshot(STREAM) or (0,))[0] >= SNAPSHOT_EVERY
    # when the gateway reports it completed
    gw.post("status", call_params(SID, CallStatus="completed", SequenceNumber="30", CallDuration="80"))
    # then its snapshot is gone: the snapshots are as many as the calls in progress
    assert services.store.load_snapshot(STREAM) is None
    # and late webhooks of the ended call (another process's too) write none again, and are still
    # folded from every event: a late status fills in nothing, a redelivery is recognised
    late = process(settings, clock, "p2")
    for seq in (31, 32):
        late.post("status", call_params(SID, CallStatus="completed", SequenceNumber=str(seq), CallDuration="80"))
    again = late.post("status", call_params(SID, CallStatus="completed", SequenceNumber="30", CallDuration="80"))
    assert again.status == 200 and spy(late).snapshot_saves == 0 and spy(late).loads_after[0] == 0
    assert services.store.load_snapshot(STREAM) is None
    stored, _ = services.store.load(STREAM)
    assert fold(decode_all(stored)).ended
    assert sum(e.correlation_id == stored[-1].correlation_id for e in stored) == 1


def test_a_short_call_that_ends_spends_no_request_on_a_snapshot_it_never_had(
        services: Services, settings: Settings, clock: FakeClock) -> None:
    gw = process(settings, clock, "p1")
    dropped: list[tuple[str, int]] = []
    gw.services.store.drop_snapshot = lambda stream, version: dropped.append((stream, version))  # type: ignore[method-assign]
    gw.post("voice", call_params(SID))
    gw.post("status", call_params(SID, CallStatus="completed", SequenceNumber="2", CallDuration="8"))
    assert services.store.stream_version(STREAM) < SNAPSHOT_EVERY and dropped == []


def test_a_failing_snapshot_save_is_logged_and_the_webhooks_still_succeed(
        services: Services, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    # given a process whose snapshot writes fail
    broken = process(settings, clock, "p1", saving_fails=True)
    # when a call has 25 webhooks there
    with caplog.at_level(logging.WARNING, logger="vpbx.snapshots"):
        answer = press(broken, "2", call_of_25_webhooks(broken))
    # then every webhook was answered, the failure was logged, and it was not retried on every webhook
    assert ">sip:103@" in answer.body
    assert "could not save the snapshot of " + STREAM in caplog.text
    version = broken.services.store.stream_version(STREAM)
    assert 1 <= spy(broken).snapshot_saves <= version // SNAPSHOT_EVERY
    assert broken.services.store.load_snapshot(STREAM) is None


def test_two_processes_racing_on_one_call_stay_correct(
        services: Services, settings: Settings, clock: FakeClock) -> None:
    # given a call started in one process, and two processes with their own caches on the same store
    menu = process(settings, clock, "p0").post("voice", call_params(SID))
    racers = [process(settings, clock, f"p{i}") for i in (1, 2)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(gw: Gateway, seqs: range) -> None:
        barrier.wait()
        try:
            for seq in seqs:
                assert status(gw, seq).status == 200
        except BaseException as exc:
            errors.append(exc)

    # when both handle status callbacks of the call at the same time (each sees the other's events
    # only by reloading after a conflict, and each writes snapshots)
    threads = [threading.Thread(target=run, args=(gw, range(i, 41, 2))) for i, gw in zip((1, 2), racers, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # then every callback is in the stream once
    stored, version = services.store.load(STREAM)
    changes = [e for e in stored if e.event_type == "CallStatusChanged"]
    assert sorted(e.data["sequence_number"] for e in changes) == list(range(1, 41))
    # and the surviving snapshot is the exact fold of the events up to its version
    snapshot_version, schema, text = services.store.load_snapshot(STREAM) or (0, "", "")
    assert schema == SCHEMA and version - SNAPSHOT_EVERY < snapshot_version <= version
    doc = orjson.loads(text)
    assert from_snapshot(doc["state"]) == owned_fold(stored[:snapshot_version])
    assert set(doc["seen"]) == {e.correlation_id for e in stored[:snapshot_version]}
    # and a third process answers the next webhook from it as a full fold would
    cold = process(settings, clock, "p3")
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in press(cold, "2", menu).body
    assert spy(cold).loads_after == [snapshot_version]
    assert fold(decode_all(services.store.load(STREAM)[0])).awaiting == "support"


def test_on_dynamodb_a_new_container_starts_from_the_snapshot_table(
        settings: Settings, clock: FakeClock, dynamodb_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a call of 25 webhooks handled by one container on DynamoDB
    table = f"snap-{uuid.uuid4().hex[:8]}"

    def container(name: str) -> Gateway:
        counter = itertools.count(1)
        store = SpyingDynamoDBStore(table, dynamodb_url)
        return Gateway(bootstrap(replace(settings, store="dynamodb", dynamodb_table=table, dynamodb_url=dynamodb_url),
                                 store, clock=clock, ids=lambda: f"{name}-{next(counter)}"))

    first = container("c1")
    seed_demo(first.services.tenants, TOKEN)
    menu = call_of_25_webhooks(first)
    snapshot_version, schema, _ = first.services.store.load_snapshot(STREAM) or (0, "", "")
    assert schema == SCHEMA and snapshot_version > 0
    # when the next webhook reaches a new container
    cold = container("c2")
    folded: list[int] = []
    real_decode = calls_module.decode_all
    monkeypatch.setattr(calls_module, "decode_all", lambda events: folded.extend(e.version for e in events) or
                        real_decode(events))
    answer = press(cold, "2", menu)
    # then it read the snapshot and the whole stream at once (one Query, beside the GetItem), folded only
    # the events after the snapshot, and answered as the call requires
    assert spy(cold).loads_after == [0] and spy(cold).snapshot_reads == 1
    assert folded and min(folded) > snapshot_version
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in answer.body
    assert fold(decode_all(cold.services.store.load(STREAM)[0])).awaiting == "support"


def test_a_snapshot_ahead_of_its_stream_costs_one_retry_not_the_call(
        services: Services, settings: Settings, clock: FakeClock) -> None:
    # given a call whose snapshot claims a version the stream never reached (events lost or restored)
    menu = call_of_25_webhooks(process(settings, clock, "p1"))
    with sqlite3.connect(settings.sqlite_path) as db:
        db.execute("UPDATE snapshots SET version = 999 WHERE stream_id = ?", (STREAM,))
    # when a new process handles the next webhook
    cold = process(settings, clock, "p2")
    answer = press(cold, "2", menu)
    # then the append at version 999 was refused and the retry folded the events themselves
    assert spy(cold).loads_after == [999, 0]
    assert ">sip:103@demo.sip.vpbx.local</Sip>" in answer.body
    assert fold(decode_all(cold.services.store.load(STREAM)[0])).awaiting == "support"


def test_on_dynamodb_the_snapshot_and_the_events_are_read_at_the_same_time(dynamodb_url: str) -> None:
    # given a DynamoDB store whose snapshot read and stream Query each wait until the other has begun
    # (read one after the other, in either order, one of them would time out)
    store = DynamoDBEventStore(f"snap-{uuid.uuid4().hex[:8]}", host=dynamodb_url, create=True)
    store.save_snapshot(STREAM, 3, SCHEMA, "{}")
    get_started, query_started = threading.Event(), threading.Event()
    overlapped: list[bool] = []
    real_get, real_load = store.load_snapshot, store.load

    def slow_get(stream_id: str) -> tuple[int, str, str] | None:
        get_started.set()
        overlapped.append(query_started.wait(timeout=10))
        return real_get(stream_id)

    def load(stream_id: str, after_version: int = 0):  # type: ignore[no-untyped-def]
        query_started.set()
        overlapped.append(get_started.wait(timeout=10))
        return real_load(stream_id, after_version)

    store.load_snapshot = slow_get  # type: ignore[method-assign]
    store.load = load  # type: ignore[method-assign]
    # when a new container reads the call
    found, events, version = store.load_from_snapshot(STREAM)
    # then both reads were in flight together, and the snapshot came back
    assert overlapped == [True, True] and found == (3, SCHEMA, "{}") and (events, version) == ([], 0)
