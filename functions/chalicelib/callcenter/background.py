"""The scheduler thread ``vpbx serve`` runs: one call-center tick per tenant with queues, every few seconds."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable

from chalicelib.bootstrap import Services
from chalicelib.callcenter.scheduler import tick
from chalicelib.projections.log import iter_log

log = logging.getLogger("vpbx.callcenter")


class _Known:
    """Tenants seen in one store's log so far, and how far the log was read (tenants never disappear
    from a log, so each pass reads only what was appended since the last)."""

    def __init__(self) -> None:
        self.cursor = ""
        self.tenants: list[str] = []
        self.lock = threading.Lock()


_known: weakref.WeakKeyDictionary[object, _Known] = weakref.WeakKeyDictionary()
_known_lock = threading.Lock()


def known_tenants(services: Services) -> list[str]:
    """Every tenant with a configuration stream, in order of first appearance in the log."""
    with _known_lock:
        known = _known.setdefault(services.store, _Known())
    with known.lock:
        for e in iter_log(services.store, None, known.cursor):
            known.cursor = e.position
            if e.stream_id.startswith("tenant-") and e.tenant_id not in known.tenants:
                known.tenants.append(e.tenant_id)
        return list(known.tenants)


def tenants_with_queues(services: Services) -> list[str]:
    """Tenants whose configuration has call-center queues."""
    return [t for t in known_tenants(services) if (snap := services.tenants.get(t)) is not None
            and snap.section("queues")]


def run_due(services: Services, tenants: list[str] | None = None) -> dict[str, str]:
    """One tick for each tenant; a failing tenant is logged and does not stop the others."""
    out: dict[str, str] = {}
    for t in tenants if tenants is not None else tenants_with_queues(services):
        try:
            out[t] = tick(services, t).line()
        except Exception as exc:  # noqa: BLE001 - the loop must survive one tenant's bad config
            log.exception("call-center tick failed for tenant %s", t)
            out[t] = f"error: {exc}"
    return out


def start_scheduler(get_services: Callable[[], Services], interval: float = 5.0) -> threading.Event:
    """Start the daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            run_due(get_services())

    threading.Thread(target=loop, name="vpbx-callcenter-scheduler", daemon=True).start()
    return stop
