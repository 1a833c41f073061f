"""The snapshots table in the template is the table DynamoDBEventStore's snapshot model would create."""

from __future__ import annotations

from chalicelib.stores.dynamodb import _snapshot_model
from tests.infra.support import load_template


def test_the_snapshots_table_has_the_models_name_keys_billing_and_expiry_attribute() -> None:
    # given the snapshot model for the default events table and the template's SnapshotsTable
    model = _snapshot_model("vpbx-events", None, "us-east-1")
    schema = model._get_schema()
    table = load_template()["Resources"]["SnapshotsTable"]["Properties"]
    # then it is named after the events table, keyed and billed the same, and expires by the model's TTL field
    assert table["TableName"] == {"Fn::Sub": "${EventsTableName}-snapshots"}
    assert model.Meta.table_name == "vpbx-events-snapshots"
    assert (table["KeySchema"], table["AttributeDefinitions"]) == (schema["key_schema"],
                                                                   schema["attribute_definitions"])
    assert not schema["global_secondary_indexes"] and "GlobalSecondaryIndexes" not in table
    assert table["BillingMode"] == model.Meta.billing_mode
    assert table["TimeToLiveSpecification"] == {"AttributeName": model._ttl_attribute().attr_name, "Enabled": True}


def test_snapshots_never_reach_the_event_stream_and_only_the_api_may_touch_them() -> None:
    resources = load_template()["Resources"]
    assert "StreamSpecification" not in resources["SnapshotsTable"]["Properties"]
    grants = {role: [st for p in resources[role]["Properties"]["Policies"] for st in p["PolicyDocument"]["Statement"]
                     if "SnapshotsTable" in str(st["Resource"])] for role in ("ApiHandlerRole", "OnEventRecordsRole")}
    assert [st["Action"] for st in grants["ApiHandlerRole"]] == [
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]]  # delete: when the call ends
    assert grants["OnEventRecordsRole"] == []
