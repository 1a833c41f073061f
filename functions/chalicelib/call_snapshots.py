"""Persisted call-state snapshots: (CallState, request ids seen) at a stream version.

Invariant: a snapshot is only a cache. It is written after a successful append, from the state
that append produced, so it is the fold of exactly the events up to its version; a reader always
loads the events after that version. A snapshot of another schema, or one that does not parse,
is never used, nor one that does not name the call's tenant (written before calls knew their
owner: the shell checks a webhook's tenant against it), and nothing here lets a webhook fail.
"""

from __future__ import annotations

import logging

from chalicelib.stores import dumps, loads
from domain.calls.state import SNAPSHOT_SCHEMA, CallState, from_snapshot, to_snapshot
from domain.ports import EventStore

SNAPSHOT_EVERY = 10  # events between two snapshots of a call written by one process
# The stored document also holds the seen request ids: its layout is part of the schema.
SCHEMA = f"{SNAPSHOT_SCHEMA}+seen1"

log = logging.getLogger("vpbx.snapshots")


def usable(stream: str, found: tuple[int, str, str] | None) -> tuple[int, CallState, frozenset[str]] | None:
    """(version, state, seen) from a stored snapshot (version, schema, JSON); None if it is of another
    schema or does not parse (logged: it is ignored, and the next save replaces it)."""
    if found is None:
        return None
    version, schema, text = found
    if schema != SCHEMA:  # written by code of another shape: ignore it, the next save replaces it
        return None
    try:
        doc = loads(text)
        seen = doc["seen"]
        if type(seen) is not list:
            raise ValueError(f"seen is {type(seen).__name__}, not a list of request ids")
        state = from_snapshot(doc["state"])
        ids = frozenset(seen)  # TypeError if an id is not hashable
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the corrupt snapshot of %s at version %d: %s", stream, version, exc)
        return None
    if not state.tenant_id:  # written before snapshots kept the owner: the events say whose call it is
        return None
    return version, state, ids


def drop_snapshot(store: EventStore, stream: str, version: int) -> None:
    """A call that has ended needs no snapshot (a late webhook folds its events): forget it, so the
    snapshots stay as many as the calls in progress. A failure is logged and ignored."""
    try:
        store.drop_snapshot(stream, version)
    except Exception:
        log.warning("could not drop the snapshot of %s at version %d", stream, version, exc_info=True)


def write_snapshot(store: EventStore, stream: str, version: int, state: CallState, seen: frozenset[str]) -> None:
    """Persist the fold at ``version``; a failure is logged and ignored (the events stay the truth)."""
    try:
        doc = dumps({"state": to_snapshot(state), "seen": sorted(seen)})
        store.save_snapshot(stream, version, SCHEMA, doc)
    except Exception:
        log.warning("could not save the snapshot of %s at version %d", stream, version, exc_info=True)
