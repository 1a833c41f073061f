"""Ports the shell implements: the event store. Adapters live in functions/chalicelib/stores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.events import StoredEvent


class ConcurrencyError(Exception):
    """Another writer appended to the stream first: reload, decide again, retry."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id!r} moved past expected version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


class EventStore(Protocol):
    """Append-only streams with optimistic concurrency and an ordered per-tenant log."""

    def load(self, stream_id: str, after_version: int = 0) -> tuple[list[StoredEvent], int]:
        """The stream's events after ``after_version`` in version order, and the stream's version
        (``after_version`` when nothing newer exists; 0 for an empty stream)."""
        ...

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 if empty), without loading it."""
        ...

    def append(self, stream_id: str, events: Sequence[StoredEvent], expected_version: int) -> int:
        """Append all or nothing; raise ConcurrencyError if the stream is not at expected_version."""
        ...

    def read_log(self, tenant_id: str | None, after: str = "", limit: int = 1000) -> list[StoredEvent]:
        """A tenant's events (all tenants if None) in log order, after an opaque position cursor."""
        ...

    # Snapshots are a cache of a stream's fold, kept beside the streams and never in the log: a
    # reader always loads the events after the snapshot's version, so an old one costs time, not
    # correctness. ``schema`` names the shape of ``doc_json``; a reader ignores one it does not know.

    def load_snapshot(self, stream_id: str) -> tuple[int, str, str] | None:
        """The stream's stored snapshot as (version, schema, JSON text), or None if it has none."""
        ...

    def load_from_snapshot(self, stream_id: str) -> tuple[tuple[int, str, str] | None, list[StoredEvent], int]:
        """What a reader holding nothing of the stream needs: its snapshot (as ``load_snapshot``, None
        also when it could not be read), the events after the snapshot's version (all of them without
        one; an adapter may return older ones too, which the reader skips), and the stream's version as
        ``load`` gives it. An adapter may fetch the snapshot and the events at the same time."""
        ...

    def save_snapshot(self, stream_id: str, version: int, schema: str, doc_json: str) -> None:
        """Keep this snapshot if its version is newer than the stored one's, else change nothing
        (a conditional write: racing savers never raise, and the newest version survives)."""
        ...

    def drop_snapshot(self, stream_id: str, version: int) -> None:
        """Forget the stream's snapshot if its version is at most ``version`` (a newer one, saved by a
        racing writer, stays); a stream without one is not an error. For a call that has ended."""
        ...
