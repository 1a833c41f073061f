"""Effects that did not happen: run the ones a stopped process never started, retry the ones that failed.

Invariants: an effect's attempts are read from its source stream (``EffectStarted`` / ``EffectFailed``
caused by the source event, and the effect's own "done" event), so any process may sweep and two
sweepers cannot both retry: the retry claims the attempt with a conditional append like the first run
(``effects.claim``). Only effects listed in ``RETRIES`` are swept: a fax session is worth nothing once
the call is over, a voicemail mail is worth sending an hour late.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.bootstrap import Services
from chalicelib.effects import HANDLERS, Handler, attempts, record_abandoned, run_handler
from chalicelib.projections.log import iter_log
from domain.events import StoredEvent

log = logging.getLogger("vpbx.effects")


@dataclass(frozen=True, slots=True)
class Retry:
    done: str
    """The event type the effect appends when it succeeded (caused by the source event)."""
    backoff: tuple[int, ...] = (60, 300, 1800, 7200)
    """Seconds to wait after the n-th failure before attempt n + 1; attempts stop after the last."""
    grace: int = 60
    """A source event younger than this may still be in the hands of the process that appended it."""
    lease: int = 600
    """An attempt started this long ago without an outcome died with its process: counted as failed."""


RETRIES: dict[str, Retry] = {"mail_voicemail": Retry(done="VoicemailMailed")}


@dataclass
class _Cursor:
    position: str = ""
    pending: dict[str, StoredEvent] = field(default_factory=dict)  # unsettled sources by event id
    lock: threading.Lock = field(default_factory=threading.Lock)


_cursors: weakref.WeakKeyDictionary[object, dict[str, _Cursor]] = weakref.WeakKeyDictionary()
_cursors_lock = threading.Lock()


def _age(now: datetime, stamp: str) -> float:
    return (now - datetime.fromisoformat(stamp)).total_seconds()


def _retryable(event_type: str) -> list[tuple[Handler, Retry]]:
    return [(h, RETRIES[h.__name__]) for h in HANDLERS.get(event_type, ()) if h.__name__ in RETRIES]


def sweep(services: Services, tenant_id: str) -> int:
    """One pass over a tenant: read the log appended since the last pass, then settle what is due.

    Returns how many effects were run. Sources stay in memory until they are settled (done, given up,
    or declined by their handler), so a pass costs the new log plus the unsettled few.
    """
    with _cursors_lock:
        cursor = _cursors.setdefault(services.store, {}).setdefault(tenant_id, _Cursor())
    with cursor.lock:
        for e in iter_log(services.store, tenant_id, cursor.position):
            cursor.position = e.position
            if _retryable(e.event_type):
                cursor.pending[e.event_id] = e
        tenant = services.tenants.get(tenant_id)
        ran = 0
        for event_id, source in list(cursor.pending.items()):
            settled = True
            for handler, retry in _retryable(source.event_type):
                outcome = _settle(services, tenant, source, handler, retry)
                ran += outcome == "ran"
                settled &= outcome in ("done", "declined", "given up")
            if settled:
                del cursor.pending[event_id]
        return ran


def _settle(services: Services, tenant: object, source: StoredEvent, handler: Handler, retry: Retry) -> str:
    """What to do about one effect of one source now: "done", "declined", "given up", "waiting" or "ran"."""
    now = services.clock()
    effect = handler.__name__
    events, version = services.store.load(source.stream_id)
    a = attempts(events, source, effect, retry.done)
    if a.done:
        return "done"
    if a.started > a.failed:  # an attempt is under way, or its process died during it
        if _age(now, a.last_started_at) < retry.lease:
            return "waiting"
        record_abandoned(services, source, effect, retry.lease, version)
        return "waiting"  # counted as failed from now on (or someone else acted); the backoff runs from here
    if a.started == 0 and a.failed == 0:
        if _age(now, source.recorded_at) < retry.grace:
            return "waiting"
    elif a.failed > len(retry.backoff):
        log.error("effect %s for %s gave up after %d attempts", effect, source.event_id, a.failed)
        return "given up"
    elif _age(now, a.last_failed_at) < retry.backoff[a.failed - 1]:
        return "waiting"
    run_handler(services, tenant, source, handler)  # type: ignore[arg-type]
    after = attempts(services.store.load(source.stream_id)[0], source, effect, retry.done)
    if after.started == a.started and after.failed == a.failed and not after.done:
        return "declined"  # the handler did not claim it (e.g. the box has no e-mail address)
    return "ran"


def sweep_all(services: Services, tenants: Sequence[str]) -> int:
    """``sweep`` each tenant; one tenant's failure is logged and does not stop the others."""
    ran = 0
    for t in tenants:
        try:
            ran += sweep(services, t)
        except Exception:  # noqa: BLE001 - the sweeper must survive one tenant's trouble
            log.exception("effect sweep failed for tenant %s", t)
    return ran


def start_sweeper(get_services: Callable[[], Services], tenants: Callable[[Services], list[str]],
                  interval: float = 30.0) -> threading.Event:
    """The daemon thread ``vpbx serve`` runs; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            services = get_services()
            sweep_all(services, tenants(services))

    threading.Thread(target=loop, name="vpbx-effect-sweeper", daemon=True).start()
    return stop
