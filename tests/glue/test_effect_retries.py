"""Effects that did not happen are swept up: a failed voicemail mail is retried with back-off, one a
stopped process never started is run, an attempt that never reported back is retried after its lease;
every effect still happens once."""

from __future__ import annotations

import threading

from chalicelib.cli import main
from chalicelib.effect_retries import RETRIES, _settle, sweep
from chalicelib.effects import HANDLERS, claim
from chalicelib.mailer import RecordingMailer
from tests.glue.test_voicemail_mail import _events, _leave_voicemail

REFUSED = ConnectionRefusedError(111, "Connection refused")


def _kinds(services) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.event_type for e in _events(services) if e.event_type.startswith(("Effect", "Voicemail"))]


def test_a_failed_mail_is_retried_after_its_back_off_and_sent_once(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # given the mail server down while a caller leaves a voicemail
    services.mailer = RecordingMailer(fail=REFUSED)
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    assert _kinds(services) == ["VoicemailLeft", "EffectStarted", "EffectFailed"]
    # when the server is back: nothing is retried before the first back-off has passed
    services.mailer.fail = None
    assert sweep(services, "demo") == 0
    clock.advance(59)
    assert sweep(services, "demo") == 0 and services.mailer.sent == []
    # then after it, one sweep mails it, and later sweeps leave it alone
    clock.advance(2)
    assert sweep(services, "demo") == 1
    assert len(services.mailer.sent) == 1
    assert _kinds(services) == ["VoicemailLeft", "EffectStarted", "EffectFailed", "EffectStarted", "VoicemailMailed"]
    clock.advance(86_400)
    assert sweep(services, "demo") == 0 and len(services.mailer.sent) == 1


def test_the_back_off_grows_and_the_sweep_gives_up_after_the_last_attempt(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    services.mailer = RecordingMailer(fail=REFUSED)
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    backoff = RETRIES["mail_voicemail"].backoff
    for n, wait in enumerate(backoff, start=1):
        clock.advance(wait - 1)
        assert sweep(services, "demo") == 0  # not yet due
        clock.advance(1)
        assert sweep(services, "demo") == 1  # attempt n + 1, failing again
        assert _kinds(services).count("EffectFailed") == n + 1
    clock.advance(10 * 86_400)
    assert sweep(services, "demo") == 0
    assert _kinds(services).count("EffectStarted") == len(backoff) + 1 and services.mailer.sent == []


def test_a_voicemail_whose_effects_never_ran_is_mailed_after_the_grace(services, gateway, clock, capsys) -> None:  # type: ignore[no-untyped-def]
    # given a voicemail appended by a process that stopped before its effects (no attempt on the stream)
    services.mailer = None
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    assert _kinds(services) == ["VoicemailLeft"]
    services.mailer = RecordingMailer()
    # when the sweep runs: not within the grace (the appending process may still be at it), then yes
    assert sweep(services, "demo") == 0
    clock.advance(61)
    assert main(["effects", "sweep"]) == 0
    assert "effects run: 1" in capsys.readouterr().out
    assert len(services.mailer.sent) == 1 and _kinds(services) == ["VoicemailLeft", "EffectStarted", "VoicemailMailed"]


def test_an_attempt_that_never_reported_back_is_retried_after_its_lease(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # given an attempt claimed by a process that then stopped (no outcome recorded)
    services.mailer = None
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    [left] = _events(services, kind="VoicemailLeft")
    assert claim(services, left, "mail_voicemail")
    services.mailer = RecordingMailer()
    retry = RETRIES["mail_voicemail"]
    # when the sweeps run: within the lease it waits; past it, the attempt is recorded as abandoned
    clock.advance(retry.lease - 1)
    assert sweep(services, "demo") == 0 and _kinds(services)[-1] == "EffectStarted"
    clock.advance(1)
    assert sweep(services, "demo") == 0
    [abandoned] = _events(services, kind="EffectFailed")
    assert abandoned.data["error"].startswith("abandoned")
    # then the next attempt comes after the first back-off, once
    clock.advance(retry.backoff[0])
    assert sweep(services, "demo") == 1 and len(services.mailer.sent) == 1


def test_sweepers_in_many_processes_at_once_mail_once(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    # given a failed mail whose retry is due
    services.mailer = RecordingMailer(fail=REFUSED)
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    services.mailer.fail = None
    clock.advance(RETRIES["mail_voicemail"].backoff[0])
    [left] = _events(services, kind="VoicemailLeft")
    [handler] = HANDLERS["VoicemailLeft"]
    tenant = services.tenants.get("demo")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def settle() -> None:  # what each process's sweeper does for this source
        barrier.wait()
        outcomes.append(_settle(services, tenant, left, handler, RETRIES["mail_voicemail"]))

    # when eight sweepers settle it at the same moment
    threads = [threading.Thread(target=settle) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then one attempt was claimed and one mail sent
    assert len(services.mailer.sent) == 1
    assert _kinds(services).count("EffectStarted") == 2 and _kinds(services).count("VoicemailMailed") == 1


def test_serve_sweeps_in_the_background_until_stopped(services, gateway, clock) -> None:  # type: ignore[no-untyped-def]
    import time

    from chalicelib.callcenter.background import known_tenants
    from chalicelib.effect_retries import start_sweeper

    services.mailer = None
    _leave_voicemail(gateway, "https://gw/rec/RE1")
    services.mailer = RecordingMailer()
    clock.advance(61)
    stop = start_sweeper(lambda: services, known_tenants, interval=0.02)
    try:
        deadline = time.monotonic() + 10
        while not services.mailer.sent and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
    assert len(services.mailer.sent) == 1
