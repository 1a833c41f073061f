"""DynamoDB event store through pynamodb: partition = stream, sort = version.

Invariant: every put is conditional on ``attribute_not_exists`` of its (stream, version), and a
batch goes in one TransactWriteItems, so two writers at the same expected version cannot both
win and a batch is never half-written. A global index (tenant, log_key) replays a tenant's log
in time order; log_key = recorded_at # stream # version is also the opaque position cursor.
Snapshots live in a separate table ``<table>-snapshots`` (one item per stream, replaced only by a
newer version), so the events table's stream, and the projections fed by it, never see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.stores import check_batch, dumps, loads, read_snapshot_or_none
from domain.events import StoredEvent
from domain.ports import ConcurrencyError

MAX_TRANSACTION_ITEMS = 100
_READS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vpbx-snapshot-read")  # botocore clients are thread-safe
SNAPSHOT_TTL = timedelta(days=7)  # a call's snapshot is rewritten while it goes on; then DynamoDB expires it


def _model(table: str, host: str | None, region: str) -> type[Model]:
    class TenantLog(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "tenant-log"
            projection = AllProjection()

        tenant_id = UnicodeAttribute(hash_key=True)
        log_key = UnicodeAttribute(range_key=True)

    class EventItem(Model):
        class Meta:
            table_name = table
            billing_mode = "PAY_PER_REQUEST"
            stream_view_type = "NEW_IMAGE"

        stream_id = UnicodeAttribute(hash_key=True)
        version = NumberAttribute(range_key=True)
        tenant_id = UnicodeAttribute()
        log_key = UnicodeAttribute()
        event_id = UnicodeAttribute()
        event_type = UnicodeAttribute()
        schema_version = NumberAttribute()
        occurred_at = UnicodeAttribute()
        recorded_at = UnicodeAttribute()
        correlation_id = UnicodeAttribute()
        causation_id = UnicodeAttribute()
        data = UnicodeAttribute()
        by_tenant = TenantLog()

    return _located(EventItem, host, region)


def _snapshot_model(table: str, host: str | None, region: str) -> type[Model]:
    class SnapshotItem(Model):
        class Meta:
            table_name = f"{table}-snapshots"
            billing_mode = "PAY_PER_REQUEST"

        stream_id = UnicodeAttribute(hash_key=True)
        version = NumberAttribute()
        schema = UnicodeAttribute()
        doc = UnicodeAttribute()
        expires = TTLAttribute()

    return _located(SnapshotItem, host, region)


def _located(model: type[Model], host: str | None, region: str) -> type[Model]:
    model.Meta.region = region
    if host:
        model.Meta.host = host
    return model


class DynamoDBEventStore:
    def __init__(self, table: str, *, host: str | None = None, region: str = "us-east-1",
                 create: bool = False) -> None:
        self.table = table
        self.host = host
        self.region = region
        self.model = _model(table, host, region)
        self.snapshots = _snapshot_model(table, host, region)
        self._connection = Connection(region=region, host=host)
        if create:
            for model in (self.model, self.snapshots):
                if not model.exists():
                    model.create_table(wait=True)

    def load(self, stream_id: str, after_version: int = 0) -> tuple[list[StoredEvent], int]:
        condition = self.model.version > after_version if after_version else None
        items = self.model.query(stream_id, range_key_condition=condition, consistent_read=True,
                                 scan_index_forward=True)
        events = [_event(i) for i in items]
        return events, events[-1].version if events else after_version

    def stream_version(self, stream_id: str) -> int:
        items = list(self.model.query(stream_id, consistent_read=True, scan_index_forward=False, limit=1))
        return int(items[0].version) if items else 0

    def append(self, stream_id: str, events: Sequence[StoredEvent], expected_version: int) -> int:
        check_batch(stream_id, events, expected_version)
        if not events:
            return expected_version
        if len(events) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"at most {MAX_TRANSACTION_ITEMS} events in one append, got {len(events)}")
        try:
            with TransactWrite(connection=self._connection) as tx:
                for e in events:
                    tx.save(self._item(e), condition=self.model.stream_id.does_not_exist())
        except TransactWriteError as exc:
            reasons = {r.code for r in (exc.cancellation_reasons or []) if r is not None}
            # TransactionConflict: another transaction touched the same item at the same moment.
            # Nothing of ours was written either way, so both mean "reload and decide again".
            if reasons & {"ConditionalCheckFailed", "TransactionConflict"}:
                raise ConcurrencyError(stream_id, expected_version) from exc
            raise
        return expected_version + len(events)

    def read_log(self, tenant_id: str | None, after: str = "", limit: int = 1000) -> list[StoredEvent]:
        if tenant_id is None:
            # Whole-table replay (all tenants): a scan sorted by log key; fine for rebuilds, not hot paths.
            every = sorted((_event(i) for i in self.model.scan()), key=lambda e: e.position)
            return [e for e in every if e.position > after][:limit]
        condition = self.model.log_key > after if after else None
        items = self.model.by_tenant.query(tenant_id, range_key_condition=condition, limit=limit,
                                           scan_index_forward=True)
        return [_event(i) for i in items][:limit]

    def load_snapshot(self, stream_id: str) -> tuple[int, str, str] | None:
        # An eventually consistent read is enough: an older snapshot only means more events to load.
        try:
            item = self.snapshots.get(stream_id)
        except self.snapshots.DoesNotExist:
            return None
        return int(item.version), str(item.schema), str(item.doc)

    def load_from_snapshot(self, stream_id: str) -> tuple[tuple[int, str, str] | None, list[StoredEvent], int]:
        """The snapshot's GetItem and the stream's Query at the same time: one round trip's latency, not
        two. The Query returns every event (its version is not known before the snapshot arrives); the
        reader folds only those after the snapshot."""
        pending = _READS.submit(read_snapshot_or_none, self, stream_id)
        events, version = self.load(stream_id)
        return pending.result(), events, version

    def save_snapshot(self, stream_id: str, version: int, schema: str, doc_json: str) -> None:
        item = self.snapshots
        try:
            item(stream_id, version=version, schema=schema, doc=doc_json, expires=SNAPSHOT_TTL).save(
                condition=item.stream_id.does_not_exist() | (item.version < version))
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise  # a newer snapshot is already stored: nothing to do; anything else is a real error

    def drop_snapshot(self, stream_id: str, version: int) -> None:
        # The item's TTL would expire it within days; deleting it when the call ends keeps the table to
        # the calls in progress. The condition fails (harmlessly) when there is none or a newer one.
        item = self.snapshots
        try:
            item(stream_id).delete(condition=item.version <= version)
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def _item(self, e: StoredEvent) -> Model:
        return self.model(e.stream_id, e.version, tenant_id=e.tenant_id, log_key=log_key(e), event_id=e.event_id,
                          event_type=e.event_type, schema_version=e.schema_version, occurred_at=e.occurred_at,
                          recorded_at=e.recorded_at, correlation_id=e.correlation_id or "-",
                          causation_id=e.causation_id or "-", data=dumps(dict(e.data)))


def log_key(e: StoredEvent) -> str:
    return f"{e.recorded_at}#{e.stream_id}#{e.version:010d}"


def _event(i: Any) -> StoredEvent:
    return StoredEvent(tenant_id=i.tenant_id, stream_id=i.stream_id, version=int(i.version), event_id=i.event_id,
                       event_type=i.event_type, schema_version=int(i.schema_version), occurred_at=i.occurred_at,
                       recorded_at=i.recorded_at,
                       correlation_id="" if i.correlation_id == "-" else i.correlation_id,
                       causation_id="" if i.causation_id == "-" else i.causation_id,
                       data=loads(i.data), position=i.log_key)
