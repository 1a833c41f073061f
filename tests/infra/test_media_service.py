"""The media core's Fargate service gives media_core what it reads, on the port it serves."""

from __future__ import annotations

import re
from typing import Any

from media_core.config import MediaConfig
from tests.infra.support import ROOT, load_template

# SES replaces SMTP in AWS (VPBX_SES_REGION set), so the SMTP server settings stay unset there.
NOT_NEEDED_ON_AWS = {"VPBX_SMTP_HOST", "VPBX_SMTP_PORT"}


def container() -> dict[str, Any]:
    task = load_template()["Resources"]["MediaTaskDefinition"]["Properties"]
    (only,) = task["ContainerDefinitions"]
    return only


def names_media_config_reads() -> set[str]:
    return set(re.findall(r'env\.get\("(VPBX_\w+)"', (ROOT / "media_core" / "config.py").read_text()))


def test_the_container_sets_every_variable_media_config_reads() -> None:
    given = {e["Name"] for e in container()["Environment"]} | {s["Name"] for s in container()["Secrets"]}
    assert names_media_config_reads() - NOT_NEEDED_ON_AWS == given


def test_with_that_environment_the_media_core_mails_through_ses_and_reports_to_the_api() -> None:
    # given the container's plain values and sample values for the references and the secret
    env = {e["Name"]: e["Value"] if isinstance(e["Value"], str) else f"<{e['Name']}>"
           for e in container()["Environment"]}
    env.update({s["Name"]: "secret" for s in container()["Secrets"]})
    # when media_core builds its configuration from it
    config = MediaConfig.from_env(environ=env)
    # then mail goes through SES in the stack's region, events go to the API with the shared token
    assert config.ses_region == "<VPBX_SES_REGION>" and config.media_token == "secret"
    assert config.backend_url == "<VPBX_BACKEND_URL>" and config.public_ws_base == "<VPBX_MEDIA_PUBLIC_WS>"
    assert str(config.spool_dir).startswith("/var/lib/vpbx")


def test_the_load_balancer_health_check_and_port_are_the_servers() -> None:
    resources = load_template()["Resources"]
    server = (ROOT / "media_core" / "server.py").read_text()
    port = int(re.search(r'add_argument\("--port", type=int, default=(\d+)\)', server).group(1))  # type: ignore[union-attr]
    assert container()["PortMappings"] == [{"ContainerPort": port, "Protocol": "tcp"}]
    assert resources["MediaTargetGroup"]["Properties"]["Port"] == port
    assert resources["MediaTargetGroup"]["Properties"]["HealthCheckPath"] == "/health"
    assert 'add_get("/health"' in server
    assert "/health" in container()["HealthCheck"]["Command"][1]


def test_rtp_can_reach_the_task_and_the_control_port_only_from_the_load_balancer() -> None:
    rules = load_template()["Resources"]["MediaTaskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    tcp = [r for r in rules if r["IpProtocol"] == "tcp"]
    udp = [r for r in rules if r["IpProtocol"] == "udp"]
    assert [r.get("SourceSecurityGroupId") for r in tcp] == [{"Ref": "MediaLoadBalancerSecurityGroup"}]
    assert [(r["FromPort"], r["ToPort"]) for r in udp] == [(32768, 60999)]  # Linux's ephemeral ports


def test_the_media_task_may_send_raw_mail_and_touch_only_blobs_under_the_prefix() -> None:
    # SesMailer calls send_raw_email (attachments); the task role grants that and the blob prefix
    assert "send_raw_email" in (ROOT / "media_core" / "fax" / "delivery.py").read_text()
    policy = load_template()["Resources"]["MediaTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in policy["Statement"]}
    assert grants["FaxToMail"][0] == "ses:SendRawEmail"
    assert grants["Blobs"][1] == {"Fn::Sub": "${BlobBucket.Arn}/${BlobPrefix}/*"}


def test_tenant_keys_and_spool_live_on_the_persistent_volume_and_blobs_in_the_bucket() -> None:
    # given where the container keeps its state, and what is mounted from EFS
    task = load_template()["Resources"]["MediaTaskDefinition"]["Properties"]
    (volume,) = task["Volumes"]
    mounts = [m["ContainerPath"] for m in container()["MountPoints"] if m["SourceVolume"] == volume["Name"]]
    env = {e["Name"]: e["Value"] for e in container()["Environment"]}
    dirs = {k: v for k, v in env.items() if k in ("VPBX_TENANT_KEYS_DIR", "VPBX_MEDIA_SPOOL_DIR")}
    # then recordings and faxes go to the bucket the API reads (not to a disk only the task sees)
    assert env["VPBX_BLOB_DIR"] == {"Fn::Sub": "s3://${BlobBucket}/${BlobPrefix}"}
    # and every state directory is on that volume (a replaced task keeps the keys to its recordings)
    assert len(dirs) == 2 and mounts
    assert all(any(d.startswith(m.rstrip("/") + "/") for m in mounts) for d in dirs.values()), dirs
    assert volume["EFSVolumeConfiguration"]["TransitEncryption"] == "ENABLED"
    assert load_template()["Resources"]["MediaStateFileSystem"]["Properties"]["Encrypted"] is True
