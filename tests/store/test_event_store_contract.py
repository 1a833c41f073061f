"""One contract, every adapter: SQLite (embedded default), DynamoDB (moto server), in-memory."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator

import pytest

from chalicelib.stores.dynamodb import DynamoDBEventStore
from chalicelib.stores.memory import InMemoryEventStore
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.events import StoredEvent
from domain.ports import ConcurrencyError, EventStore


@pytest.fixture(params=["sqlite", "dynamodb", "memory"])
def store(request, tmp_path) -> Iterator[EventStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield SQLiteEventStore(tmp_path / "events.sqlite")
    elif request.param == "dynamodb":
        url = request.getfixturevalue("dynamodb_url")
        yield DynamoDBEventStore(f"events-{uuid.uuid4().hex[:8]}", host=url, create=True)
    else:
        yield InMemoryEventStore()


def ev(stream: str, version: int, tenant: str = "t1", at: str = "2026-11-01T10:00:00.000000+00:00",
       **data: object) -> StoredEvent:
    return StoredEvent(tenant_id=tenant, stream_id=stream, version=version, event_id=str(uuid.uuid4()),
                       event_type="Thing", schema_version=1, occurred_at=at, recorded_at=at,
                       correlation_id="req-1", causation_id="req-1", data={"n": version, **data})


def test_an_empty_stream_loads_as_version_zero(store: EventStore) -> None:
    assert store.load("nothing") == ([], 0)
    assert store.stream_version("nothing") == 0


def test_appended_events_load_back_in_order_with_their_envelope(store: EventStore) -> None:
    batch = [ev("s", 1, text="héllo"), ev("s", 2, nested={"a": [1, 2]})]
    assert store.append("s", batch, 0) == 2
    loaded, version = store.load("s")
    assert version == 2 and store.stream_version("s") == 2
    assert [(e.version, e.event_id, dict(e.data)) for e in loaded] == [(b.version, b.event_id, dict(b.data)) for b in batch]
    assert loaded[0].tenant_id == "t1" and loaded[0].correlation_id == "req-1"
    assert loaded[0].recorded_at == batch[0].recorded_at and loaded[0].position


def test_an_append_at_a_stale_version_is_refused_and_writes_nothing(store: EventStore) -> None:
    store.append("s", [ev("s", 1)], 0)
    with pytest.raises(ConcurrencyError):
        store.append("s", [ev("s", 1), ev("s", 2)], 0)
    assert store.load("s")[1] == 1


def test_a_batch_is_all_or_nothing(store: EventStore) -> None:
    store.append("s", [ev("s", 1)], 0)
    store.append("s", [ev("s", 2)], 1)
    # A batch for versions 2..3 collides on version 2: neither event may land.
    with pytest.raises(ConcurrencyError):
        store.append("s", [ev("s", 2), ev("s", 3)], 1)
    assert [e.version for e in store.load("s")[0]] == [1, 2]


def test_a_malformed_batch_names_the_problem(store: EventStore) -> None:
    with pytest.raises(ValueError, match="version 3, expected 1"):
        store.append("s", [ev("s", 3)], 0)
    with pytest.raises(ValueError, match="belongs to stream 'other'"):
        store.append("s", [ev("other", 1)], 0)
    assert store.stream_version("s") == 0


def test_the_tenant_log_replays_in_order_and_pages_by_cursor(store: EventStore) -> None:
    store.append("a", [ev("a", 1, at="2026-11-01T10:00:00.000001+00:00")], 0)
    store.append("b", [ev("b", 1, tenant="t2", at="2026-11-01T10:00:00.000002+00:00")], 0)
    store.append("a", [ev("a", 2, at="2026-11-01T10:00:00.000003+00:00"),
                       ev("a", 3, at="2026-11-01T10:00:00.000003+00:00")], 1)
    log = store.read_log("t1")
    assert [(e.stream_id, e.version) for e in log] == [("a", 1), ("a", 2), ("a", 3)]
    page = store.read_log("t1", after=log[0].position, limit=1)
    assert [(e.stream_id, e.version) for e in page] == [("a", 2)]
    assert [(e.stream_id, e.version) for e in store.read_log(None)] == [("a", 1), ("b", 1), ("a", 2), ("a", 3)]


def test_concurrent_writers_at_the_same_version_exactly_one_wins(store: EventStore) -> None:
    writers = 8
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(i: int) -> None:
        barrier.wait()
        try:
            store.append("race", [ev("race", 1, writer=i), ev("race", 2, writer=i)], 0)
            result = f"won:{i}"
        except ConcurrencyError:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("lost") == writers - 1
    events, version = store.load("race")
    assert version == 2 and {e.data["writer"] for e in events} == {int(winners[0].split(":")[1])}


def test_concurrent_writers_that_retry_lose_no_event(store: EventStore) -> None:
    writers, each = 4, 5
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(each):
                while True:
                    version = store.stream_version("counter")
                    try:
                        store.append("counter", [ev("counter", version + 1, writer=i, j=j)], version)
                        break
                    except ConcurrencyError:
                        continue
        except BaseException as exc:  # a writer that dies must fail the test, not vanish
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    events, version = store.load("counter")
    assert version == writers * each
    assert sorted((e.data["writer"], e.data["j"]) for e in events) == [(i, j) for i in range(writers) for j in range(each)]


def test_loading_after_a_version_returns_only_newer_events(store: EventStore) -> None:
    store.append("s", [ev("s", 1), ev("s", 2), ev("s", 3)], 0)
    newer, version = store.load("s", after_version=1)
    assert [e.version for e in newer] == [2, 3] and version == 3
    assert store.load("s", after_version=3) == ([], 3)


def test_a_stream_without_a_snapshot_has_none(store: EventStore) -> None:
    assert store.load_snapshot("call-none") is None


def test_a_saved_snapshot_loads_back_as_written(store: EventStore) -> None:
    doc = '{"state":{"status":"in-progress","digits":["1"]},"seen":["r1"],"text":"héllo"}'
    store.save_snapshot("call-a", 12, "callstate-1-abc", doc)
    assert store.load_snapshot("call-a") == (12, "callstate-1-abc", doc)
    assert store.load_snapshot("call-b") is None


def test_a_newer_snapshot_replaces_the_stored_one(store: EventStore) -> None:
    store.save_snapshot("call-a", 10, "s1", '{"v":10}')
    store.save_snapshot("call-a", 20, "s2", '{"v":20}')
    assert store.load_snapshot("call-a") == (20, "s2", '{"v":20}')


def test_an_older_or_equal_snapshot_changes_nothing_and_does_not_raise(store: EventStore) -> None:
    store.save_snapshot("call-a", 20, "s2", '{"v":20}')
    store.save_snapshot("call-a", 10, "s1", '{"v":10}')
    store.save_snapshot("call-a", 20, "other", '{"v":"again"}')
    assert store.load_snapshot("call-a") == (20, "s2", '{"v":20}')


def test_dropping_a_snapshot_forgets_it_unless_a_newer_one_was_saved(store: EventStore) -> None:
    store.save_snapshot("call-a", 10, "s1", '{"v":10}')
    store.save_snapshot("call-b", 20, "s1", '{"v":20}')
    # a drop at the snapshot's version (or later) forgets it; other streams keep theirs
    store.drop_snapshot("call-a", 10)
    assert store.load_snapshot("call-a") is None
    assert store.load_snapshot("call-b") == (20, "s1", '{"v":20}')
    # a drop older than the stored snapshot (a racing writer saved a newer one) changes nothing
    store.drop_snapshot("call-b", 19)
    assert store.load_snapshot("call-b") == (20, "s1", '{"v":20}')
    store.drop_snapshot("call-b", 25)
    assert store.load_snapshot("call-b") is None
    # and there being none to drop is not an error; saving again works as for a new stream
    store.drop_snapshot("call-none", 5)
    store.save_snapshot("call-a", 3, "s1", '{"v":3}')
    assert store.load_snapshot("call-a") == (3, "s1", '{"v":3}')


def test_snapshots_are_not_events_of_the_stream_or_the_log(store: EventStore) -> None:
    store.append("call-a", [ev("call-a", 1)], 0)
    store.save_snapshot("call-a", 1, "s1", "{}")
    assert store.load("call-a")[1] == 1 and store.stream_version("call-a") == 1
    assert [(e.stream_id, e.version) for e in store.read_log(None)] == [("call-a", 1)]


def test_a_reader_holding_nothing_gets_the_snapshot_and_at_least_the_events_after_it(store: EventStore) -> None:
    # given a stream of four events, without a snapshot and then with one at version 2
    store.append("call-a", [ev("call-a", v) for v in range(1, 5)], 0)
    # then without a snapshot every event comes back
    found, events, version = store.load_from_snapshot("call-a")
    assert found is None and [e.version for e in events] == [1, 2, 3, 4] and version == 4
    # and with one, the snapshot and the events after it (an adapter may return older ones too)
    store.save_snapshot("call-a", 2, "s1", '{"n":2}')
    found, events, version = store.load_from_snapshot("call-a")
    assert found == (2, "s1", '{"n":2}') and version == 4
    assert [e.version for e in events if e.version > 2] == [3, 4]
    assert [e.version for e in events] in ([3, 4], [1, 2, 3, 4])


def test_concurrent_snapshot_savers_in_any_order_leave_the_newest(store: EventStore) -> None:
    versions = list(range(1, 25))
    random.Random(7).shuffle(versions)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def save(mine: list[int]) -> None:
        barrier.wait()
        try:
            for v in mine:
                store.save_snapshot("call-race", v, "s", f'{{"v":{v}}}')
        except BaseException as exc:  # an older save must be a no-op, never an error
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(versions[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.load_snapshot("call-race") == (24, "s", '{"v":24}')
