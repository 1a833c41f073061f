"""On AWS the chain is folded from the tenant log index into the DynamoDB projections table."""

from __future__ import annotations

import itertools
import uuid

import boto3

from chalicelib.bootstrap import bootstrap, set_services
from chalicelib.cli import main
from chalicelib.settings import Settings
from chalicelib.stores.dynamodb import DynamoDBEventStore
from tests.projections.test_stream_consumer import a_call


def test_verify_detects_an_edited_item_in_the_dynamodb_log(dynamodb_url, capsys) -> None:  # type: ignore[no-untyped-def]
    # given a call on a DynamoDB log, and the chain built once by a replay of the tenant
    table = f"events-{uuid.uuid4().hex[:8]}"
    store = DynamoDBEventStore(table, host=dynamodb_url, create=True)
    a_call(store, "CA" + "e" * 32)
    counter = itertools.count()
    set_services(bootstrap(Settings(store="dynamodb", dynamodb_table=table, dynamodb_url=dynamodb_url), store,
                           ids=lambda: f"id-{next(counter)}"))
    try:
        assert main(["verify", "--tenant", "demo"]) == 2  # nothing recorded yet: says so, does not pass
        assert "no hash chain recorded" in capsys.readouterr().out
        assert main(["replay", "--quiet", "--projection", "chain", "--tenant", "demo"]) == 0
        assert main(["verify", "--tenant", "demo"]) == 0
        assert capsys.readouterr().out.splitlines()[-1].startswith("OK demo: 4 events")
        # when someone edits the stored DialEnded (talk time) directly in the table
        ddb = boto3.client("dynamodb", endpoint_url=dynamodb_url, region_name="us-east-1")
        item = ddb.get_item(TableName=table, Key={"stream_id": {"S": "call-CA" + "e" * 32}, "version": {"N": "3"}})
        data = item["Item"]["data"]["S"].replace('"duration":95', '"duration":9')
        ddb.update_item(TableName=table, Key={"stream_id": {"S": "call-CA" + "e" * 32}, "version": {"N": "3"}},
                        UpdateExpression="SET #d = :d", ExpressionAttributeNames={"#d": "data"},
                        ExpressionAttributeValues={":d": {"S": data}})
        # then verify fails
        assert main(["verify", "--tenant", "demo"]) == 1
        assert "TAMPERED demo" in capsys.readouterr().out
    finally:
        set_services(None)
