"""Effects after an append: handlers keyed by event type, run by the shell once the events are stored.

Invariants: a handler only ever sees events that were appended (``run_effects`` is called after a
successful append, never before); each effect happens at most once per source event, because it
first claims the event with ``EffectStarted`` appended at the version it read (the store's
conditional append lets one claimant win); a failing effect is logged and recorded as
``EffectFailed`` on the same stream and never fails the webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from chalicelib.bootstrap import Services
from chalicelib.envelopes import wrap
from chalicelib.mailer import fetch_audio, mailbox_locked_message, voicemail_message
from domain.events import DomainEvent, StoredEvent, event
from domain.ports import ConcurrencyError
from domain.tenant import TenantSnapshot

log = logging.getLogger("vpbx.effects")
Handler = Callable[[Services, TenantSnapshot, list[StoredEvent]], None]
HANDLERS: dict[str, list[Handler]] = {}
MAX_ATTEMPTS = 8


@event
@dataclass(frozen=True, slots=True)
class EffectStarted(DomainEvent):
    """An effect claimed its source event (causation_id); no other run may perform it again."""

    event_type = "EffectStarted"
    effect: str
    source_event_id: str


@event
@dataclass(frozen=True, slots=True)
class EffectFailed(DomainEvent):
    event_type = "EffectFailed"
    effect: str
    source_event_id: str
    error: str


def on(event_type: str) -> Callable[[Handler], Handler]:
    """Register a handler for appended events of ``event_type`` (decorator)."""

    def register(handler: Handler) -> Handler:
        HANDLERS.setdefault(event_type, []).append(handler)
        return handler

    return register


def run_effects(services: Services, tenant: TenantSnapshot, stored: Sequence[StoredEvent]) -> None:
    """Run the handlers of the events just appended; never raises."""
    for source in stored:
        for handler in HANDLERS.get(source.event_type, ()):
            run_handler(services, tenant, source, handler)


def run_handler(services: Services, tenant: TenantSnapshot, source: StoredEvent, handler: Handler) -> None:
    """One handler for one source event (a failure names its own source); never raises."""
    try:
        handler(services, tenant, [source])
    except Exception as exc:  # an effect must not fail the webhook (or the sweep) that ran it
        log.exception("effect %s failed for %s", handler.__name__, source.event_id)
        _record_failure(services, source, handler.__name__, exc)


@dataclass(frozen=True, slots=True)
class Attempts:
    started: int
    failed: int
    done: bool
    last_started_at: str
    last_failed_at: str


def attempts(events: Sequence[StoredEvent], source: StoredEvent, effect: str, done: str = "") -> Attempts:
    """How an effect of ``source`` went so far, from the events it caused on the source's stream."""
    mine = [e for e in events if e.causation_id == source.event_id]
    started = [e for e in mine if e.event_type == "EffectStarted" and e.data.get("effect") == effect]
    failed = [e for e in mine if e.event_type == "EffectFailed" and e.data.get("effect") == effect]
    return Attempts(len(started), len(failed), any(e.event_type == done for e in mine) if done else False,
                    started[-1].recorded_at if started else "", failed[-1].recorded_at if failed else "")


def claim(services: Services, source: StoredEvent, effect: str) -> bool:
    """Append EffectStarted for ``source`` unless an attempt of this effect is under way or succeeded
    (an attempt without its EffectFailed); True if the attempt is ours."""
    for _ in range(MAX_ATTEMPTS):
        events, version = services.store.load(source.stream_id)
        a = attempts(events, source, effect)
        if a.started > a.failed:
            return False
        try:
            record(services, source, [EffectStarted(effect=effect, source_event_id=source.event_id)], version)
            return True
        except ConcurrencyError:
            continue
    raise ConcurrencyError(source.stream_id, version)


def record(services: Services, source: StoredEvent, events: Sequence[DomainEvent],
           expected_version: int | None = None) -> None:
    """Append ``events`` caused by ``source`` to its stream (same correlation id: the webhook's
    redelivery check is unchanged). Without ``expected_version``, retried on conflicts."""
    for _ in range(MAX_ATTEMPTS):
        version = services.store.stream_version(source.stream_id) if expected_version is None else expected_version
        envelopes = wrap(events, tenant_id=source.tenant_id, stream_id=source.stream_id, expected_version=version,
                         now=services.clock(), new_id=services.new_id, correlation_id=source.correlation_id,
                         causation_id=source.event_id)
        try:
            services.store.append(source.stream_id, envelopes, version)
            return
        except ConcurrencyError:
            if expected_version is not None:
                raise
    raise ConcurrencyError(source.stream_id, version)


def _record_failure(services: Services, source: StoredEvent, effect: str, exc: Exception) -> None:
    try:
        record(services, source, [EffectFailed(effect=effect, source_event_id=source.event_id,
                                               error=f"{type(exc).__name__}: {exc}"[:500])])
    except Exception:
        log.exception("could not record the failure of %s for %s", effect, source.event_id)


def record_abandoned(services: Services, source: StoredEvent, effect: str, lease: int, version: int) -> bool:
    """Record an attempt that never reported back (its process stopped) as failed, if the stream is still
    at ``version`` (what the caller judged from); False if something was appended meanwhile."""
    try:
        record(services, source, [EffectFailed(effect=effect, source_event_id=source.event_id,
                                               error=f"abandoned: no outcome within {lease} s of its start")],
               version)
    except ConcurrencyError:
        return False
    return True


# --- the handlers -------------------------------------------------------------------------------


@event
@dataclass(frozen=True, slots=True)
class FaxSessionAllocated(DomainEvent):
    """The media core listens for this call's T.38 on ``port``; it mails the fax to ``email``."""

    event_type = "FaxSessionAllocated"
    port: int
    media_url: str
    session_id: str = ""
    email: str = ""


@event
@dataclass(frozen=True, slots=True)
class VoicemailMailed(DomainEvent):
    event_type = "VoicemailMailed"
    box: str
    to: str
    message_id: str
    attached: bool = False


def fax_email(tenant: TenantSnapshot, number: str) -> str:
    """``numbers.<number>.fax.email`` if set, else the tenant's ``fax.email``, else empty."""
    entry = tenant.section("numbers").get(number)
    per_number = entry.get("fax") if isinstance(entry, Mapping) else None
    for section in (per_number, tenant.section("fax")):
        if isinstance(section, Mapping) and section.get("email"):
            return str(section["email"])
    return ""


@on("FaxReceiveRequested")
def allocate_fax_session(services: Services, tenant: TenantSnapshot, stored: list[StoredEvent]) -> None:
    if services.media is None:
        return  # no media core configured: the gateway's own <Receive> takes the fax
    for source in stored:
        if not claim(services, source, "allocate_fax_session"):
            continue
        email = fax_email(tenant, str(source.data.get("to_number", "")))
        call_sid = source.stream_id.removeprefix("call-")
        session = services.media.create_fax_session(tenant_id=source.tenant_id, call_sid=call_sid,
                                                    email=email or None)
        record(services, source, [FaxSessionAllocated(port=session.port, media_url=services.media.url,
                                                      session_id=session.session_id, email=email)])


def _to_box_owners(services: Services, tenant: TenantSnapshot, stored: list[StoredEvent],
                   effect: str) -> list[tuple[StoredEvent, str, str]]:
    """(event, box, e-mail address) for each event about a voicemail box whose owner can be mailed, claimed
    for ``effect`` (none without a mailer; a box without an address is logged and skipped)."""
    out = []
    for source in stored if services.mailer is not None else ():
        box = str(source.data.get("box", ""))
        to = str((tenant.section("voicemail_boxes").get(box) or {}).get("email") or "")
        if not to:
            log.info("voicemail box %r of %s has no e-mail address: %s skipped", box, source.tenant_id, effect)
        elif claim(services, source, effect):
            out.append((source, box, to))
    return out


@on("VoicemailLeft")
def mail_voicemail(services: Services, tenant: TenantSnapshot, stored: list[StoredEvent]) -> None:
    for source, box, to in _to_box_owners(services, tenant, stored, "mail_voicemail"):
        audio = fetch_audio(str(source.data.get("recording_url", "")), services.settings.blob_dir)
        message = voicemail_message(source, tenant, sender=services.settings.smtp_from, to=to, audio=audio)
        services.mailer.send(message)
        record(services, source, [VoicemailMailed(box=box, to=to, message_id=message["Message-ID"],
                                                  attached=audio is not None)])


@event
@dataclass(frozen=True, slots=True)
class MailboxLockMailed(DomainEvent):
    event_type = "MailboxLockMailed"
    box: str
    to: str
    message_id: str


@on("MailboxLocked")
def mail_mailbox_locked(services: Services, tenant: TenantSnapshot, stored: list[StoredEvent]) -> None:
    """Tell a box's owner (its e-mail address) that wrong PINs locked it: someone may be guessing."""
    from domain.actions.mailbox import LOCK_SECONDS

    for source, box, to in _to_box_owners(services, tenant, stored, "mail_mailbox_locked"):
        message = mailbox_locked_message(source, tenant, sender=services.settings.smtp_from, to=to,
                                         lock_minutes=LOCK_SECONDS // 60)
        services.mailer.send(message)
        record(services, source, [MailboxLockMailed(box=box, to=to, message_id=message["Message-ID"])])
