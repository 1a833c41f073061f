"""The scheduler thread ``vpbx serve`` runs: one call-center tick per tenant with queues, every few seconds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from chalicelib.bootstrap import Services
from chalicelib.callcenter.scheduler import tick

log = logging.getLogger("vpbx.callcenter")


def tenants_with_queues(services: Services) -> list[str]:
    """Tenants whose configuration has call-center queues (found by reading the log)."""
    found: list[str] = []
    cursor = ""
    while True:
        batch = services.store.read_log(None, cursor, 1000)
        if not batch:
            break
        cursor = batch[-1].position
        for e in batch:
            if e.stream_id.startswith("tenant-") and e.tenant_id not in found:
                found.append(e.tenant_id)
    return [t for t in found if (snap := services.tenants.get(t)) is not None and snap.section("queues")]


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
