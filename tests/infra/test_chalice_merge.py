"""What ``chalice package --merge-template infra/template.yaml`` produces is wired to this stack:
the template's roles replace Chalice's generated policies, the consumer reads the real stream,
and the Lambda environment makes the app's Settings point at the stack's resources."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from chalicelib.settings import Settings
from tests.infra.support import CHALICE_CONFIG, ROOT, chalice_template, load_template, merged_template


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def test_every_function_chalice_generates_runs_under_a_role_this_template_defines() -> None:
    # given Chalice's own template of the app and ours
    generated, ours = json.loads(chalice_template()), load_template()["Resources"]
    # when we look at each function's role
    roles = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions(generated).items()}
    # then each one is ours, so no auto-generated policy ships, and nothing is left unbuilt
    assert set(roles) == {"APIHandler", "OnEventRecords"}
    assert all(ours[role]["Type"] == "AWS::IAM::Role" for role in roles.values())
    merged = merged_template()
    for role in roles.values():
        assert merged["Resources"][role]["Properties"]["Policies"] == ours[role]["Properties"]["Policies"]
    assert "Placeholder" not in json.dumps(merged)


def test_the_projection_consumer_reads_this_stacks_stream_and_runs_chalices_handler() -> None:
    generated = functions(json.loads(chalice_template()))["OnEventRecords"]["Properties"]
    ours = load_template()["Resources"]["OnEventRecords"]["Properties"]
    merged = functions(merged_template())["OnEventRecords"]["Properties"]
    # the handler cannot drift from the decorated function, and the event source keeps Chalice's id
    assert ours["Handler"] == generated["Handler"]
    assert set(ours["Events"]) == set(generated["Events"]) == set(merged["Events"])
    source = next(iter(merged["Events"].values()))["Properties"]
    # Chalice only knew a placeholder ARN at package time; the merge points it at the table's stream
    assert "not-configured" in next(iter(generated["Events"].values()))["Properties"]["Stream"]
    assert source["Stream"] == {"Fn::GetAtt": ["EventsTable", "StreamArn"]}
    assert source["StartingPosition"] == "TRIM_HORIZON"


STACK_VALUES = {"EventsTable": "vpbx-events", "ProjectionsTable": "vpbx-events-projections",
                "BlobBucket": "vpbx-blobs-123", "BlobPrefix": "blobs", "PublicUrl": "https://pbx.example.com",
                "MediaTokenSecret": "arn:secret", "GatewayAuthToken": "tok", "GatewayAccountSid": "AC1",
                "MailFrom": "fax@example.com", "AWS::Region": "eu-west-1", "MediaHostName": "media.example.com",
                "EventsTable.StreamArn": "arn:aws:dynamodb:eu-west-1:1:table/vpbx-events/stream/x"}


def resolve(value: Any) -> str:
    """Enough of CloudFormation's Ref / GetAtt / Sub for the Lambda environment, with sample values."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return STACK_VALUES[value["Ref"]]
    if "Fn::GetAtt" in value:
        return STACK_VALUES[".".join(value["Fn::GetAtt"])]
    text = value["Fn::Sub"]
    for name, sample in STACK_VALUES.items():
        text = text.replace("${" + name + "}", sample)
    return text


@pytest.mark.parametrize("function", ["APIHandler", "OnEventRecords"])
def test_in_lambda_the_apps_settings_point_at_the_stacks_resources(function: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # given the environment SAM gives the function: Globals, then the function's own variables
    merged = merged_template()
    env = dict(merged["Globals"]["Function"]["Environment"]["Variables"])
    own = functions(merged)[function]["Properties"].get("Environment", {}).get("Variables", {})
    # (a stage variable in config.json would silently win over the template's reference)
    assert {k: v for k, v in own.items() if k in env and env[k] != v} == {}
    env.update(own)
    for key in [k for k in os.environ if k.startswith("VPBX_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, resolve(value))
    # when the app reads its settings
    settings = Settings.from_env()
    # then it uses the stack's table, bucket prefix, URL and token, and writes only under /tmp
    assert (settings.store, settings.dynamodb_table) == ("dynamodb", "vpbx-events")
    assert settings.blob_dir == "s3://vpbx-blobs-123/blobs"
    assert settings.public_url == "https://pbx.example.com"
    assert settings.media_token == "{{resolve:secretsmanager:arn:secret:SecretString}}"
    assert settings.dynamodb_url is None and settings.sqlite_path.startswith("/tmp/")
    assert settings.media_url == "https://media.example.com" and settings.ses_region == "eu-west-1"
    assert os.environ["VPBX_PROJECTIONS_TABLE"] == "vpbx-events-projections"


def test_the_prod_stage_stays_inside_api_gateways_timeout_and_uses_dynamodb() -> None:
    prod = json.loads(CHALICE_CONFIG.read_text())["stages"]["prod"]
    assert prod["environment_variables"]["VPBX_STORE"] == "dynamodb"
    assert prod["lambda_timeout"] < 29  # API Gateway cuts a REST integration at 29 s
    merged = functions(merged_template())
    assert merged["APIHandler"]["Properties"]["Timeout"] == prod["lambda_timeout"]


# Settings the Lambda deliberately leaves at their defaults on AWS, and why.
LEFT_AT_DEFAULT = {
    "VPBX_DYNAMODB_URL": "unset means the real DynamoDB endpoint",
    "VPBX_MEDIA_TIMEOUT": "the default suits a webhook waiting on the media core",
    "VPBX_DEMO_AUTH_TOKEN": "only seeds the demo tenant (vpbx serve); tenants carry their own token",
    "VPBX_SMTP_HOST": "mail goes through SES (VPBX_SES_REGION)",
    "VPBX_SMTP_PORT": "mail goes through SES (VPBX_SES_REGION)",
}


def test_every_setting_the_app_reads_is_given_by_the_template_or_deliberately_left_at_its_default() -> None:
    # given the variables Settings.from_env reads (the app's one place for the environment)
    source = (ROOT / "functions" / "chalicelib" / "settings.py").read_text()
    read = set(re.findall(r'env\.get\("(VPBX_\w+)"', source))
    given = set(load_template()["Globals"]["Function"]["Environment"]["Variables"])
    # then none is forgotten: a new setting needs a value in infra/template.yaml or a reason here
    assert read - given - set(LEFT_AT_DEFAULT) == set()
    assert not set(LEFT_AT_DEFAULT) & given
