"""The template's tables, bucket and Lambda policies deployed into moto, used by the real adapters
under the Lambda roles' own permissions (moto enforcing IAM)."""

from __future__ import annotations

import ast
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin

from chalicelib.blobs import make_blob_store
from chalicelib.envelopes import wrap
from chalicelib.projections import stream_consumer
from chalicelib.settings import Settings
from chalicelib.stores.dynamodb import DynamoDBEventStore
from domain.calls.events import CallStarted, CallStatusChanged, DialEnded, StepDecided
from domain.ports import ConcurrencyError
from tests.infra.support import sub_template

REGION = "us-east-1"
T0 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@dataclass
class Stack:
    resources: dict[str, str]
    table: str
    bucket: str

    def policy(self, role: str) -> dict[str, Any]:
        """The role's inline policy with every intrinsic resolved by (moto's) CloudFormation."""
        doc = boto3.client("iam").get_role_policy(RoleName=self.resources[role], PolicyName=f"{role}Policy")
        raw = doc["PolicyDocument"]
        return ast.literal_eval(raw) if isinstance(raw, str) else raw  # moto keeps it as a dict's repr


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        body = sub_template(["EventsTable", "ProjectionsTable", "SnapshotsTable", "BlobBucket", "ApiHandlerRole",
                             "OnEventRecordsRole"])
        cfn = boto3.client("cloudformation")
        cfn.create_stack(StackName="vpbx", TemplateBody=json.dumps(body), Capabilities=["CAPABILITY_IAM"],
                         Parameters=[{"ParameterKey": "EventsTableName", "ParameterValue": "vpbx-events"}])
        assert cfn.describe_stacks(StackName="vpbx")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                     for r in cfn.describe_stack_resources(StackName="vpbx")["StackResources"]}
        yield Stack(resources, resources["EventsTable"], resources["BlobBucket"])


def on_table(statement: dict[str, Any], table: str) -> bool:
    resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
    return any(r.endswith(f":table/{table}") or f":table/{table}/" in r for r in resources)


def as_role(stack: Stack, role: str, monkeypatch: pytest.MonkeyPatch, table: str) -> boto3.Session:
    """From here on every call is authorised by IAM, as ``role``'s policy from the stack.

    Two adaptations to moto: moto authorises DynamoDB calls against resource "*" rather than the
    table's ARN, so only the statements granted on ``table`` are kept (and widened to "*"): the
    test then proves those statements alone are enough. And moto asks for
    ``dynamodb:TransactWriteItems``, where AWS checks each item's own action (PutItem for a
    conditional put; AWS docs, "Using IAM with DynamoDB transactions"), so it is granted exactly
    where PutItem is.
    """
    doc = stack.policy(role)
    kept = []
    for st in doc["Statement"]:
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        if not any(a.startswith("dynamodb:") for a in actions):
            kept.append(st)
        elif on_table(st, table):
            kept.append({**st, "Resource": "*"})
            if "dynamodb:PutItem" in actions:
                kept.append({"Effect": "Allow", "Action": "dynamodb:TransactWriteItems", "Resource": "*"})
    doc["Statement"] = kept
    iam = boto3.client("iam")
    name = f"test-{role}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
    creds = boto3.client("sts").assume_role(RoleArn=arn, RoleSessionName="lambda")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", creds["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", creds["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", creds["SessionToken"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=REGION)


def as_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back to moto's unchecked test credentials (to look at what a role did)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))


def a_call(store: DynamoDBEventStore, sid: str) -> int:
    """An inbound call answered after 8 s ringing, 95 s talk; appended batch by batch as the shell does."""
    ids = itertools.count()
    batches = [(0, [CallStarted(call_sid=sid, from_number="+15550002001", to_number="+15550001000")]),
               (5, [StepDecided(step=1, node="op", action="ring_extension", awaiting=True,
                                inputs={"targets": ["101"]}, instructions=[{"verb": "Dial", "targets": []}])]),
               (108, [DialEnded(node="op", dial_status="completed", duration=95, targets=["101"])]),
               (110, [CallStatusChanged(status="completed", sequence_number=3, duration=110)])]
    version = 0
    for seconds, events in batches:
        envelopes = wrap(events, tenant_id="demo", stream_id=f"call-{sid}", expected_version=version,
                         now=T0 + timedelta(seconds=seconds), new_id=lambda: f"{sid}-{next(ids)}",
                         correlation_id=f"req-{sid}-{seconds}")
        version = store.append(f"call-{sid}", envelopes, version)
    return version


def insert_records(table: str) -> list[dict[str, Any]]:
    """INSERT records with NEW_IMAGE for every item, in stream order, as Lambda hands them over.

    Built from the items rather than read from the stream API, which moto's in-process mode
    does not route (DescribeStream answers "Not yet implemented"); tests/projections covers the
    stream API itself against moto's server mode.
    """
    items = boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    items.sort(key=lambda i: (i["stream_id"]["S"], int(i["version"]["N"])))
    return [{"eventName": "INSERT", "dynamodb": {"NewImage": i, "StreamViewType": "NEW_IMAGE"}} for i in items]


def test_the_event_store_appends_and_loads_on_the_stack_table_with_the_api_role_only(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the stack's table, used with the API Lambda's permissions and nothing else
    as_role(stack, "ApiHandlerRole", monkeypatch, stack.table)
    store = DynamoDBEventStore(stack.table, region=REGION)
    # when a call is appended in four conditional batches
    version = a_call(store, "CA" + "a" * 32)
    # then it loads back in order, the tenant index replays it, and a stale append is refused
    events, loaded = store.load("call-CA" + "a" * 32)
    assert (loaded, [e.event_type for e in events]) == (
        4, ["CallStarted", "StepDecided", "DialEnded", "CallStatusChanged"])
    assert version == store.stream_version("call-CA" + "a" * 32) == 4
    assert [e.version for e in store.read_log("demo")] == [1, 2, 3, 4]
    assert [e.version for e in store.read_log("demo", after=events[1].position)] == [3, 4]
    assert [e.version for e in store.read_log(None)] == [1, 2, 3, 4]
    with pytest.raises(ConcurrencyError):
        store.append("call-CA" + "a" * 32, events[-1:], 3)


def test_call_snapshots_are_saved_and_read_on_the_stack_snapshot_table_with_the_api_role_only(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the stack's snapshot table (named after the events table), with the API Lambda's permissions
    assert stack.resources["SnapshotsTable"] == f"{stack.table}-snapshots"
    as_role(stack, "ApiHandlerRole", monkeypatch, stack.resources["SnapshotsTable"])
    store = DynamoDBEventStore(stack.table, region=REGION)
    # when a snapshot is saved, then an older one
    store.save_snapshot("call-CA1", 20, "callstate-1-x", '{"v":20}')
    store.save_snapshot("call-CA1", 10, "callstate-1-x", '{"v":10}')
    # then the newer one is read back, and a call without one has none
    assert store.load_snapshot("call-CA1") == (20, "callstate-1-x", '{"v":20}')
    assert store.load_snapshot("call-CA2") is None
    # and when the call ends its snapshot is deleted
    store.drop_snapshot("call-CA1", 25)
    assert store.load_snapshot("call-CA1") is None


def test_the_api_role_cannot_do_more_than_the_app_needs(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the API Lambda's permissions
    session = as_role(stack, "ApiHandlerRole", monkeypatch, stack.table)
    # when it tries what the app never does; then IAM refuses
    with pytest.raises(Exception, match="AccessDenied|not authorized"):
        session.client("dynamodb").delete_table(TableName=stack.table)
    with pytest.raises(Exception, match="AccessDenied"):
        session.client("s3").put_object(Bucket=stack.bucket, Key="elsewhere/x", Body=b"x")
    with pytest.raises(Exception, match="AccessDenied"):
        session.client("s3").delete_bucket(Bucket=stack.bucket)


def test_blobs_round_trip_under_the_prefix_through_the_apps_blob_store(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the app's blob store on s3://<bucket>/blobs (VPBX_BLOB_DIR as the template sets it)
    session = as_role(stack, "ApiHandlerRole", monkeypatch, stack.table)
    blobs = make_blob_store(Settings(blob_dir=f"s3://{stack.bucket}/blobs"), client=session.client("s3"))
    # when a greeting is stored, read, checked and deleted
    blobs.put("demo/audio/greeting", b"RIFF....WAVE", "audio/wav")
    # then each step works with the role's permissions, and a missing key is simply absent
    assert blobs.get("demo/audio/greeting") == b"RIFF....WAVE"
    assert blobs.exists("demo/audio/greeting") and not blobs.exists("demo/audio/missing")
    assert not blobs.exists("demo/audio/greet")  # a key that only begins like one is not there either
    with pytest.raises(KeyError):  # S3 answers 403 for it: the role may list only the blob prefix
        blobs.get("demo/audio/missing")
    blobs.delete("demo/audio/greeting")
    assert not blobs.exists("demo/audio/greeting")


def test_the_projection_consumer_folds_the_stack_stream_into_the_projections_table_with_its_role(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.projections.dynamodb_store import DynamoDBProjectionStore

    # given a call on the events table and the records its stream delivers
    sid = "CA" + "b" * 32
    a_call(DynamoDBEventStore(stack.table, region=REGION), sid)
    records = insert_records(stack.table)
    # when the consumer, with only its own role, folds the batch twice (a retry)
    as_role(stack, "OnEventRecordsRole", monkeypatch, stack.resources["ProjectionsTable"])
    out = DynamoDBProjectionStore(stack.resources["ProjectionsTable"], region=REGION)
    assert stream_consumer.consume(out, records) == 4
    stream_consumer.consume(out, records)
    # then the projections table holds the one CDR
    as_admin(monkeypatch)
    view = DynamoDBProjectionStore(stack.resources["ProjectionsTable"], region=REGION)
    cdrs = list(view.states("calls", "demo", "2026-11-24", "2026-11-25"))
    assert [(c["sid"], c["outcome"], c["talk"]) for c in cdrs] == [(sid, "answered", 95.0)]
