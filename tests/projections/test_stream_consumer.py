"""AWS path: the events table's DynamoDB stream (moto) fed to the Chalice consumer, twice."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import boto3

from chalicelib.envelopes import wrap
from chalicelib.projections import stream_consumer
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore
from chalicelib.stores.dynamodb import DynamoDBEventStore
from chalicelib.stores.memory import InMemoryEventStore
from domain.calls.events import CallStarted, CallStatusChanged, DialEnded, StepDecided
from domain.projections import calls

T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def a_call(store, sid: str) -> None:  # type: ignore[no-untyped-def]
    """An inbound call: started, dialled 101 (rings 8 s), answered, 95 s talk, completed."""
    ids = itertools.count()
    steps = [(0, [CallStarted(call_sid=sid, from_number="+15550002001", to_number="+15550001000")]),
             (5, [StepDecided(step=1, node="op", action="ring_extension", awaiting=True,
                              inputs={"targets": ["101"]}, instructions=[{"verb": "Dial", "targets": []}])]),
             (108, [DialEnded(node="op", dial_status="completed", duration=95, targets=["101"])]),
             (110, [CallStatusChanged(status="completed", sequence_number=3, duration=110)])]
    version = 0
    for seconds, events in steps:
        envelopes = wrap(events, tenant_id="demo", stream_id=f"call-{sid}", expected_version=version,
                         now=T0 + timedelta(seconds=seconds), new_id=lambda: f"{sid}-{next(ids)}",
                         correlation_id=f"req-{sid}-{seconds}")
        version = store.append(f"call-{sid}", envelopes, version)


def stream_records(url: str, table: str) -> list[dict]:  # type: ignore[type-arg]
    """All records of the table's stream, shaped as Lambda delivers them to the handler."""
    ddb = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", endpoint_url=url, region_name="us-east-1")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    out = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it)
            for r in page["Records"]:
                d = dict(r["dynamodb"])
                d["ApproximateCreationDateTime"] = d["ApproximateCreationDateTime"].timestamp()
                out.append({**r, "dynamodb": d, "eventSourceARN": arn})
            it = page.get("NextShardIterator") if page["Records"] else None
    return out


def test_a_retried_stream_batch_leaves_the_same_outputs(dynamodb_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # given two calls appended to a DynamoDB events table with a stream
    table = f"events-{uuid.uuid4().hex[:8]}"
    store = DynamoDBEventStore(table, host=dynamodb_url, create=True)
    a_call(store, "CA" + "a" * 32)
    a_call(store, "CA" + "b" * 32)
    records = stream_records(dynamodb_url, table)
    assert len(records) == 8
    monkeypatch.setenv("VPBX_PROJECTIONS_PATH", str(tmp_path / "p.sqlite"))
    out = SQLiteProjectionStore(tmp_path / "p.sqlite")
    # when Lambda delivers the batch to the Chalice handler, then retries the whole batch
    event = {"Records": records}
    stream_consumer.on_event_records(event, None)
    once = b"".join(out_dump(out))
    stream_consumer.on_event_records(event, None)
    # then nothing changed, and the CDRs are what the embedded path folds from the same events
    assert b"".join(out_dump(out)) == once
    memory = InMemoryEventStore()
    a_call(memory, "CA" + "a" * 32)
    a_call(memory, "CA" + "b" * 32)
    embedded = SQLiteProjectionStore(tmp_path / "e.sqlite")
    Runner(embedded, [calls.projection()]).run(memory.read_log(None, limit=100))
    assert b"".join(embedded.dump("calls")) == b"".join(out.dump("calls"))
    cdr = out.state("calls", "call-CA" + "a" * 32)
    assert cdr is not None and (cdr["outcome"], cdr["ring"], cdr["talk"]) == ("answered", 8.0, 95.0)


def test_records_arriving_in_two_overlapping_batches_are_folded_once(dynamodb_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = f"events-{uuid.uuid4().hex[:8]}"
    store = DynamoDBEventStore(table, host=dynamodb_url, create=True)
    a_call(store, "CA" + "c" * 32)
    records = stream_records(dynamodb_url, table)
    out = SQLiteProjectionStore(tmp_path / "p.sqlite")
    stream_consumer.consume(out, records[:3])
    stream_consumer.consume(out, records[1:])  # a retry that overlaps what was already folded
    cdr = out.state("calls", "call-CA" + "c" * 32)
    assert cdr is not None and len(cdr["events"]) == 4 and cdr["talk"] == 95.0


def out_dump(out: SQLiteProjectionStore) -> list[bytes]:
    return [line for name in ("calls", "agents", "queues", "callbacks", "mailboxes") for line in out.dump(name)]


def test_on_aws_the_outputs_go_to_a_dynamodb_table_and_survive_retries(dynamodb_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.projections.dynamodb_store import DynamoDBProjectionStore

    # given a call on the DynamoDB log and its stream records
    table = f"events-{uuid.uuid4().hex[:8]}"
    store = DynamoDBEventStore(table, host=dynamodb_url, create=True)
    a_call(store, "CA" + "d" * 32)
    records = stream_records(dynamodb_url, table)
    out = DynamoDBProjectionStore(f"{table}-projections", host=dynamodb_url, create=True)
    # when the batch is consumed, then retried, then an older partial batch arrives late
    stream_consumer.consume(out, records)
    once = b"".join(out.dump("calls", "demo"))
    stream_consumer.consume(out, records)
    stream_consumer.consume(out, records[:2])
    # then the table holds the same CDR, never moved back, and equal to the SQLite store's document
    assert b"".join(out.dump("calls", "demo")) == once
    local = SQLiteProjectionStore(tmp_path / "local.sqlite")
    stream_consumer.consume(local, records)
    assert b"".join(local.dump("calls", "demo")) == once
    cdrs = list(out.states("calls", "demo", "2026-11-24", "2026-11-25"))
    assert [(c["sid"], c["outcome"], c["talk"]) for c in cdrs] == [("CA" + "d" * 32, "answered", 95.0)]
    assert list(out.states("calls", "demo", "2026-11-25", "2026-11-26")) == []


def test_on_aws_the_api_reads_figures_from_the_dynamodb_table(dynamodb_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalice.test import Client

    from chalicelib.auth import create_api_key
    from chalicelib.bootstrap import bootstrap, set_services
    from chalicelib.demo import seed_demo
    from chalicelib.server import load_app_module
    from chalicelib.settings import Settings

    # given a DynamoDB log with the demo tenant and one call, consumed from the stream into DynamoDB
    table = f"events-{uuid.uuid4().hex[:8]}"
    store = DynamoDBEventStore(table, host=dynamodb_url, create=True)
    counter = itertools.count()
    services = bootstrap(Settings(store="dynamodb", dynamodb_table=table, dynamodb_url=dynamodb_url), store,
                         clock=lambda: T0 + timedelta(minutes=5), ids=lambda: f"id-{next(counter)}")
    seed_demo(services.tenants, "token")
    a_call(store, "CA" + "f" * 32)
    monkeypatch.setenv("VPBX_STORE", "dynamodb")
    monkeypatch.setenv("VPBX_DYNAMODB_TABLE", table)
    monkeypatch.setenv("VPBX_DYNAMODB_URL", dynamodb_url)
    stream_consumer.on_event_records({"Records": stream_records(dynamodb_url, table)}, None)
    set_services(services)
    try:
        key, _ = create_api_key(services, "demo", scopes=["*"], actor="test")
        with Client(load_app_module().app) as client:
            # when a manager asks for the day's CDRs and the employee figures
            auth = {"Authorization": f"Bearer {key}"}
            cdrs = client.http.get("/api/v1/tenants/demo/cdrs?from=2026-11-24", headers=auth).json_body
            figures = client.http.get("/api/v1/tenants/demo/stats/employees?from=2026-11-24", headers=auth)
        # then they come from the DynamoDB projections table
        assert [(c["sid"], c["outcome"]) for c in cdrs["cdrs"]] == [("CA" + "f" * 32, "answered")]
        assert figures.json_body["employees"]["101"]["talk_seconds"] == 95.0
    finally:
        set_services(None)


def test_on_aws_the_live_etag_reads_one_head_item_not_every_cdr(dynamodb_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chalicelib.projections.dynamodb_store import DynamoDBProjectionStore

    # given two calls consumed from the stream into the DynamoDB projections table
    table = f"events-{uuid.uuid4().hex[:8]}"
    store = DynamoDBEventStore(table, host=dynamodb_url, create=True)
    a_call(store, "CA" + "1" * 32)
    a_call(store, "CA" + "2" * 32)
    records = stream_records(dynamodb_url, table)
    out = DynamoDBProjectionStore(f"{table}-projections", host=dynamodb_url, create=True)
    stream_consumer.consume(out, records)
    newest = max(str(i["pos"]) for i in out._query("state#calls#demo"))
    # when the live view asks for the newest position, no state is queried (one item read)
    real_query = out._query

    def no_query(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("max_pos must not read the states")

    monkeypatch.setattr(out, "_query", no_query)
    assert out.max_pos("calls", "demo") == newest
    # and an old partial batch arriving late does not move it back
    stream_consumer.consume(out, records[:2])
    assert out.max_pos("calls", "demo") == newest
    # a table written before heads existed answers from its states once, then from the head
    monkeypatch.setattr(out, "_query", real_query)
    out.table.delete_item(Key={"pk": "head#calls#demo"})
    assert out.max_pos("calls", "demo") == newest
    monkeypatch.setattr(out, "_query", no_query)
    assert out.max_pos("calls", "demo") == newest
    # and forgetting the tenant's CDRs forgets the head too
    monkeypatch.setattr(out, "_query", real_query)
    out.reset("calls", "demo")
    assert out.max_pos("calls", "demo") == ""
