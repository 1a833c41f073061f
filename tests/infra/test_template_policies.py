"""Least privilege and storage hygiene, read off the template itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.infra.support import load_template


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, resource in load_template()["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                for st in policy["PolicyDocument"]["Statement"]:
                    yield name, st


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_role_is_granted_a_wildcard_action_or_every_resource() -> None:
    wide = [(role, st.get("Sid")) for role, st in statements()
            if any(a == "*" or a.endswith(":*") for a in as_list(st["Action"])) or "*" in as_list(st["Resource"])]
    assert wide == []


def test_lambda_roles_reach_only_the_tables_indexes_stream_and_blob_prefix_of_this_stack() -> None:
    allowed = {"EventsTable", "ProjectionsTable", "SnapshotsTable", "BlobBucket", "EventsTable.StreamArn"}
    for role, st in statements():
        if role not in ("ApiHandlerRole", "OnEventRecordsRole") or st["Sid"] in ("Logs", "Mail"):
            continue
        for resource in as_list(st["Resource"]):
            text = str(resource)
            assert any(name in text for name in allowed), (role, st["Sid"], resource)
        if any(a.startswith("s3:") and a.endswith("Object") for a in as_list(st["Action"])):
            assert st["Resource"] == {"Fn::Sub": "${BlobBucket.Arn}/${BlobPrefix}/*"}, (role, st["Sid"])


def test_the_stream_consumer_cannot_write_the_event_log() -> None:
    consumer = [st for role, st in statements() if role == "OnEventRecordsRole"]
    # every grant that names the events table names its stream, and only stream reads are granted there
    on_log = [st for st in consumer if "EventsTable" in str(st["Resource"])]
    assert on_log and all("StreamArn" in str(st["Resource"]) or "/stream/*" in str(st["Resource"]) for st in on_log)
    actions = {a for st in on_log for a in as_list(st["Action"])}
    assert actions == {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                       "dynamodb:ListStreams"}


def test_the_blob_bucket_is_private_encrypted_versioned_and_ages_large_blobs_out() -> None:
    bucket = load_template()["Resources"]["BlobBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    recordings = next(r for r in bucket["LifecycleConfiguration"]["Rules"] if r["Id"].startswith("recordings"))
    assert [t["StorageClass"] for t in recordings["Transitions"]] == ["STANDARD_IA", "GLACIER_IR"]
    assert recordings["Prefix"] == {"Fn::Sub": "${BlobPrefix}/"}
    # greetings and prompts (played on every call) are small and stay in STANDARD
    assert int(recordings["ObjectSizeGreaterThan"]) >= 128 * 1024


def test_plain_http_to_the_bucket_is_refused() -> None:
    (deny,) = load_template()["Resources"]["BlobBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
