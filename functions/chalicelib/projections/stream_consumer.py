"""AWS: keep the projections current from the events table's DynamoDB stream (NEW_IMAGE).

Invariant: a batch is folded and committed in one transaction, and every stream projection skips
an event at or below the version its stream's state already holds, so Lambda retrying a whole
batch (or delivering a record twice) leaves the outputs exactly as one delivery would. Records
arrive in order per partition key, which is the event stream: what the folds need. The hash chain
is a log-order fold and is not run here (``vpbx verify`` folds the tenant log index instead).
Outputs go to the DynamoDB projections table when VPBX_STORE=dynamodb (else the SQLite file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from chalice import Blueprint

from chalicelib.projections.log import output_store
from chalicelib.projections.runner import Runner
from chalicelib.settings import Settings
from chalicelib.stores import loads
from domain.events import StoredEvent
from domain.projections import all_projections
from domain.projections.base import StreamProjection

bp = Blueprint(__name__)
STREAM_ARN = os.environ.get("VPBX_EVENTS_STREAM_ARN",
                            "arn:aws:dynamodb:us-east-1:000000000000:table/vpbx-events/stream/not-configured")
_deserialize = TypeDeserializer().deserialize


def stored_event(image: Mapping[str, Any]) -> StoredEvent:
    """An event from a stream record's NEW_IMAGE (typed attribute values, as DynamoDB sends them)."""
    item = {k: _deserialize(v) for k, v in image.items()}
    return StoredEvent(tenant_id=str(item["tenant_id"]), stream_id=str(item["stream_id"]), version=int(item["version"]),
                       event_id=str(item["event_id"]), event_type=str(item["event_type"]),
                       schema_version=int(item["schema_version"]), occurred_at=str(item["occurred_at"]),
                       recorded_at=str(item["recorded_at"]),
                       correlation_id="" if item["correlation_id"] == "-" else str(item["correlation_id"]),
                       causation_id="" if item["causation_id"] == "-" else str(item["causation_id"]),
                       data=loads(item["data"]), position=str(item["log_key"]))


def consume(out: Any, records: Iterable[Mapping[str, Any]]) -> int:
    """Fold a batch of stream records (Lambda's ``Records`` entries) into the stream projections."""
    inserted = [stored_event(r["dynamodb"]["NewImage"]) for r in records
                if r.get("eventName") == "INSERT" and r.get("dynamodb", {}).get("NewImage")]
    runner = Runner(out, [p for p in all_projections() if isinstance(p, StreamProjection)], use_checkpoints=False)
    for e in inserted:
        runner.feed(e)
    runner.flush()
    return len(inserted)


@bp.on_dynamodb_record(stream_arn=STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def on_event_records(event: Any) -> None:
    # Any exception fails the whole batch; Lambda retries it and the folds skip what they have seen.
    consume(output_store(Settings.from_env()), event.to_dict()["Records"])
