"""The embedded dispatcher: follows the SQLite log and keeps every projection up to date.

``catch_up`` applies whatever the log holds past the projections' checkpoints (queries call it
first, so figures are never behind the log); ``LogFollower`` does the same on a background thread.
"""

from __future__ import annotations

import logging
import threading

from chalicelib.bootstrap import Services
from chalicelib.projections.log import projection_store, run_log
from chalicelib.projections.runner import Runner
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.projections import all_projections

log = logging.getLogger(__name__)
_lock = threading.Lock()


def catch_up(services: Services) -> int:
    """Fold the log's new events into all projections; the number of events read."""
    if not isinstance(services.store, SQLiteEventStore):
        return 0  # on AWS the DynamoDB stream consumer keeps the projections current
    with _lock:
        out = projection_store(services)
        runner = Runner(out, all_projections())
        after = min(runner.position.values(), default="")
        return run_log(runner, services.store, None, after)


class LogFollower(threading.Thread):
    def __init__(self, services: Services, interval: float = 0.5) -> None:
        super().__init__(name="vpbx-projections", daemon=True)
        self.services = services
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                catch_up(self.services)
            except Exception:  # keep following; the next pass retries from the checkpoint
                log.exception("projection follower pass failed")
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
