"""The events table in the template is the table DynamoDBEventStore's pynamodb model would create."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.stores.dynamodb import _model
from tests.infra.support import load_template, sub_template


def by_name(items: list[dict[str, Any]], key: str = "AttributeName") -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: i[key])


def model_table_arguments() -> dict[str, Any]:
    """What ``EventItem.create_table`` sends, in CloudFormation's spelling."""
    model = _model("vpbx-events", None, "us-east-1")
    schema = model._get_schema()
    return {
        "AttributeDefinitions": by_name(schema["attribute_definitions"]),
        "KeySchema": schema["key_schema"],
        "GlobalSecondaryIndexes": [
            {"IndexName": g["index_name"], "KeySchema": sorted(g["key_schema"], key=lambda k: k["KeyType"]),
             "Projection": g["projection"]}
            for g in schema["global_secondary_indexes"]],
        "BillingMode": model.Meta.billing_mode,
        "StreamSpecification": {"StreamViewType": model.Meta.stream_view_type},
    }


def template_table_arguments() -> dict[str, Any]:
    props = load_template()["Resources"]["EventsTable"]["Properties"]
    return {
        "AttributeDefinitions": by_name(props["AttributeDefinitions"]),
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": [
            {"IndexName": g["IndexName"], "KeySchema": sorted(g["KeySchema"], key=lambda k: k["KeyType"]),
             "Projection": g["Projection"]}
            for g in props["GlobalSecondaryIndexes"]],
        "BillingMode": props["BillingMode"],
        "StreamSpecification": props["StreamSpecification"],
    }


def test_keys_attribute_types_index_billing_and_stream_equal_the_pynamodb_model() -> None:
    # given the model DynamoDBEventStore builds and the template's EventsTable
    # when both are put in CloudFormation's terms; then they are the same table
    assert template_table_arguments() == model_table_arguments()


def test_the_events_table_keeps_point_in_time_recovery_encryption_and_is_never_deleted_with_the_stack() -> None:
    table = load_template()["Resources"]["EventsTable"]
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def describe(client: Any, name: str) -> dict[str, Any]:
    t = client.describe_table(TableName=name)["Table"]
    return {"keys": t["KeySchema"], "attributes": by_name(t["AttributeDefinitions"]),
            "billing": t["BillingModeSummary"]["BillingMode"], "stream": t["StreamSpecification"],
            "indexes": [(g["IndexName"], sorted(g["KeySchema"], key=lambda k: k["KeyType"]), g["Projection"])
                        for g in t.get("GlobalSecondaryIndexes", [])]}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with mock_aws():
        yield


def test_the_stack_creates_the_same_table_pynamodb_creates_for_itself(aws: Any) -> None:
    # given one table created by the template's stack and one by pynamodb's create_table
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="events-only", TemplateBody=json.dumps(sub_template(["EventsTable"])),
                     Parameters=[{"ParameterKey": "EventsTableName", "ParameterValue": "from-stack"}])
    _model("from-pynamodb", None, "us-east-1").create_table(wait=True)
    # when DynamoDB describes both; then keys, types, index, billing and stream are identical
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    assert describe(ddb, "from-stack") == describe(ddb, "from-pynamodb")
