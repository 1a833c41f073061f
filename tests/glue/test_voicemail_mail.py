"""A voicemail left through the webhook shell is mailed to its box's address once: SMTP, SES, fakes."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from pathlib import Path

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.effects import run_effects
from chalicelib.mailer import RecordingMailer, SesMailer, SmtpMailer
from tests.conftest import Gateway, call_params

SID = "CA" + "5" * 32
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(28)


def _leave_voicemail(gateway: Gateway, recording_url: str, sid: str = SID):  # type: ignore[no-untyped-def]
    """The demo path: menu -> 1 (sales) -> nobody answers -> the sales box records 9 s."""
    def follow(body: str, **extra: str):  # type: ignore[no-untyped-def]
        url = re.findall(r'action="([^"]+)"', body)[0]
        return gateway.follow(url, call_params(sid, CallStatus="in-progress", **extra))

    menu = gateway.post("voice", call_params(sid))
    dial = follow(menu.body, Digits="1")
    record = follow(dial.body, DialCallStatus="no-answer")
    params = {"RecordingUrl": recording_url, "RecordingDuration": "9", "RecordingSid": "RE1"}
    return record, follow(record.body, **params), params


def _events(services, sid: str = SID, kind: str | None = None):  # type: ignore[no-untyped-def]
    stored, _ = services.store.load(f"call-{sid}")
    return [e for e in stored if kind is None or e.event_type == kind]


def test_voicemail_is_mailed_over_smtp_with_caller_time_length_link_and_audio(
        services, gateway, inbox, http_files) -> None:  # type: ignore[no-untyped-def]
    # given a real SMTP server and the recording served over HTTP
    services.mailer = SmtpMailer("127.0.0.1", inbox.port)
    services.settings = dataclasses.replace(services.settings, smtp_from="pbx@demo.test")
    http_files.files["/rec/RE1.wav"] = (WAV, "audio/wav")
    # when a caller leaves a voicemail in the sales box
    _, done, _ = _leave_voicemail(gateway, http_files.url + "/rec/RE1.wav")
    # then the call ends as before and the box's address got one mail with the details and the audio
    assert done.status == 200 and "<Hangup/>" in done.body
    [mail] = inbox.messages
    assert mail["To"] == "sales@demo.test" and mail["From"] == "pbx@demo.test"
    assert mail["Subject"] == "Voicemail from +15550002000 (0:09)"
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Received: 2026-11-24 10:00:00 EST" in text  # 15:00 UTC in the tenant's New York time
    assert "Length:   0:09 (9 s)" in text and f"Listen:   {http_files.url}/rec/RE1.wav" in text
    [audio] = [p for p in mail.walk() if p.get_content_type() == "audio/wav"]
    assert audio.get_payload(decode=True) == WAV
    # and the call stream says it was mailed, caused by the VoicemailLeft event
    [left] = _events(services, kind="VoicemailLeft")
    [mailed] = _events(services, kind="VoicemailMailed")
    assert mailed.causation_id == left.event_id and mailed.correlation_id == left.correlation_id
    assert mailed.data == {"box": "sales", "to": "sales@demo.test", "message_id": f"<voicemail-{left.event_id}@vpbx>",
                           "attached": True}
    assert mail["Message-ID"] == mailed.data["message_id"]


def test_an_unreachable_recording_is_linked_not_attached(services, gateway) -> None:  # type: ignore[no-untyped-def]
    services.mailer = RecordingMailer()
    _leave_voicemail(gateway, "http://127.0.0.1:9/nothing-listens-here.wav")
    [mail] = services.mailer.sent
    assert not any(p.get_content_maintype() == "audio" for p in mail.walk())
    assert "Listen:   http://127.0.0.1:9/nothing-listens-here.wav" in mail.get_content()
    assert _events(services, kind="VoicemailMailed")[0].data["attached"] is False


def test_a_recording_in_the_local_blob_store_is_attached_and_nothing_outside_it(services, gateway) -> None:  # type: ignore[no-untyped-def]
    # given a recording stored under the blob directory, and a secret file next to it
    blobs = Path(services.settings.blob_dir)
    (blobs / "recordings").mkdir(parents=True)
    (blobs / "recordings" / "RE2.wav").write_bytes(WAV)
    (blobs.parent / "secret.wav").write_bytes(b"not yours")
    services.mailer = RecordingMailer()
    # when one voicemail names the blob key and another tries to climb out of the blob directory
    _leave_voicemail(gateway, "recordings/RE2.wav")
    _leave_voicemail(gateway, "../secret.wav", sid="CA" + "6" * 32)
    # then the first mail carries the audio and the second only the link
    inside, outside = services.mailer.sent
    assert [p.get_payload(decode=True) for p in inside.walk() if p.get_content_type() == "audio/wav"] == [WAV]
    assert not any(p.get_content_maintype() == "audio" for p in outside.walk())


def test_redelivered_webhook_and_a_replay_of_the_event_do_not_mail_twice(services, gateway) -> None:  # type: ignore[no-untyped-def]
    # given a voicemail already mailed
    services.mailer = RecordingMailer()
    record, first, params = _leave_voicemail(gateway, "https://gw/rec/RE1")
    assert len(services.mailer.sent) == 1
    # when the gateway redelivers the recording webhook, and the effects are run again for the event
    url = re.findall(r'action="([^"]+)"', record.body)[0]
    again = gateway.follow(url, call_params(SID, CallStatus="in-progress", **params))
    [left] = _events(services, kind="VoicemailLeft")
    run_effects(services, services.tenants.get("demo"), [left])
    # then the answer is the same and still only one mail went out
    assert again.body == first.body
    assert len(services.mailer.sent) == 1 and len(_events(services, kind="VoicemailMailed")) == 1


def test_concurrent_runs_for_one_event_mail_it_once(services, gateway) -> None:  # type: ignore[no-untyped-def]
    # given a voicemail left while no mailer was configured (nothing mailed yet)
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    [left] = _events(services, kind="VoicemailLeft")
    services.mailer = RecordingMailer()
    tenant = services.tenants.get("demo")
    barrier = threading.Barrier(8)

    def run() -> None:
        barrier.wait()
        run_effects(services, tenant, [left])

    # when eight workers run its effects at the same moment
    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then exactly one claimed it and mailed it
    assert len(services.mailer.sent) == 1
    assert len(_events(services, kind="EffectStarted")) == 1 and len(_events(services, kind="VoicemailMailed")) == 1


def test_a_failing_mail_server_is_recorded_and_the_caller_still_hears_goodbye(services, gateway, caplog) -> None:  # type: ignore[no-untyped-def]
    services.mailer = RecordingMailer(fail=ConnectionRefusedError(111, "Connection refused"))
    with caplog.at_level(logging.ERROR, logger="vpbx.effects"):
        _, done, _ = _leave_voicemail(gateway, "https://gw/rec/RE1")
    assert [r.getMessage().split(" for ")[0] for r in caplog.records] == ["effect mail_voicemail failed"]
    assert done.status == 200 and done.body.endswith("<Hangup/></Response>")
    [failed] = _events(services, kind="EffectFailed")
    [left] = _events(services, kind="VoicemailLeft")
    assert failed.data == {"effect": "mail_voicemail", "source_event_id": left.event_id,
                           "error": "ConnectionRefusedError: [Errno 111] Connection refused"}
    assert not _events(services, kind="VoicemailMailed")


def test_a_box_without_an_address_is_not_mailed(services, gateway) -> None:  # type: ignore[no-untyped-def]
    from domain.tenant import TenantConfigPatched

    version = services.store.stream_version("tenant-demo")
    services.tenants.append("demo", [TenantConfigPatched(path=["voicemail_boxes", "sales"], patch={"email": None})],
                           expected_version=version)
    services.mailer = RecordingMailer()
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    assert services.mailer.sent == [] and not _events(services, kind="EffectStarted")


def test_voicemail_is_mailed_through_ses_when_a_region_is_set(services, gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        # given SES (moto) with the sender's address verified
        boto3.client("ses", region_name="eu-west-1").verify_email_identity(EmailAddress="pbx@demo.test")
        services.settings = dataclasses.replace(services.settings, smtp_from="pbx@demo.test", ses_region="eu-west-1")
        from chalicelib.mailer import mailer_from_settings

        services.mailer = mailer_from_settings(services.settings)
        assert isinstance(services.mailer, SesMailer)
        # when a voicemail is left
        _leave_voicemail(gateway, "https://gw/rec/RE1")
        # then SES accepted one raw message for the box's address
        sent = ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
        assert len(sent) == 1
        assert sent[0].source == "pbx@demo.test" and set(sent[0].destinations) == {"sales@demo.test"}  # moto lists To twice
        assert "Subject: Voicemail from +15550002000 (0:09)" in sent[0].raw_data
        assert len(_events(services, kind="VoicemailMailed")) == 1
