"""SQLite event store (the embedded default): WAL, unique (stream, version), global position.

Invariant: an append is one IMMEDIATE transaction that checks the stream's version and inserts
every event, or nothing; the unique index backs the check against any other writer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from chalicelib.stores import check_batch, dumps, loads, snapshot_then_events
from domain.events import StoredEvent
from domain.ports import ConcurrencyError

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  event_type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  occurred_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT NOT NULL,
  data TEXT NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant_id, position);
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL,
  schema TEXT NOT NULL,
  doc TEXT NOT NULL
);
"""
# One statement: the row is replaced only by a newer version, whoever commits first.
SAVE_SNAPSHOT = ("INSERT INTO snapshots (stream_id, version, schema, doc) VALUES (?, ?, ?, ?) "
                 "ON CONFLICT(stream_id) DO UPDATE SET version = excluded.version, schema = excluded.schema, "
                 "doc = excluded.doc WHERE excluded.version > snapshots.version")
COLUMNS = ("tenant_id, stream_id, version, event_id, event_type, schema_version, occurred_at, recorded_at, "
           "correlation_id, causation_id, data")


def connect(path: str, patience: float = 30.0) -> sqlite3.Connection:
    """A connection as every vpbx SQLite file wants it: autocommit (we BEGIN ourselves), WAL,
    synchronous=NORMAL (durable at checkpoints, never corrupt), and patience with other writers."""
    conn = sqlite3.connect(path, timeout=patience, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={int(patience * 1000)}")
    _wal(conn, patience)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _wal(conn: sqlite3.Connection, patience: float) -> None:
    """Put the file in WAL mode (a property of the file, kept once set). Switching needs the file to
    itself and SQLite does not wait for that: two processes opening a new file at once (two followers
    creating the projections database) can get "database is locked" here, so wait and try again."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.005)


class SQLiteEventStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)
        self._stop = threading.Event()
        if self.path != ":memory:":
            threading.Thread(target=self._checkpoint, name="sqlite-checkpoint", daemon=True).start()

    def _checkpoint(self, interval: float = 0.05, restart_frames: int = 4000) -> None:
        """Copy the WAL into the database off the request path (that fsync is what stalled a
        webhook now and then); restart the WAL when it has grown, so it stays small."""
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=2000")
            while not self._stop.wait(interval):
                try:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames > restart_frames:
                        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                except sqlite3.Error:
                    continue  # busy or closing: the next round (or the writers' safety net) does it
        finally:
            conn.close()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            # The background thread checkpoints; writers only do it if it fell far behind.
            conn.execute("PRAGMA wal_autocheckpoint=20000")
            self._local.conn = conn
        return conn

    def load(self, stream_id: str, after_version: int = 0) -> tuple[list[StoredEvent], int]:
        rows = self._conn().execute(
            f"SELECT position, {COLUMNS} FROM events WHERE stream_id = ? AND version > ? ORDER BY version",
            (stream_id, after_version)).fetchall()
        events = [_row(r) for r in rows]
        return events, events[-1].version if events else after_version

    def stream_version(self, stream_id: str) -> int:
        row = self._conn().execute("SELECT MAX(version) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()
        return int(row[0] or 0)

    def append(self, stream_id: str, events: Sequence[StoredEvent], expected_version: int) -> int:
        check_batch(stream_id, events, expected_version)
        if not events:
            return expected_version
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT MAX(version) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()
            if int(row[0] or 0) != expected_version:
                raise ConcurrencyError(stream_id, expected_version)
            conn.executemany(
                f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(e.tenant_id, e.stream_id, e.version, e.event_id, e.event_type, e.schema_version, e.occurred_at,
                  e.recorded_at, e.correlation_id, e.causation_id, dumps(dict(e.data))) for e in events],
            )
            conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            if "stream_id" in str(exc):
                raise ConcurrencyError(stream_id, expected_version) from exc
            raise ValueError(f"event store refused the batch: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return expected_version + len(events)

    def read_log(self, tenant_id: str | None, after: str = "", limit: int = 1000) -> list[StoredEvent]:
        start = int(after or 0)
        if tenant_id is None:
            rows = self._conn().execute(
                f"SELECT position, {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (start, limit)).fetchall()
        else:
            rows = self._conn().execute(
                f"SELECT position, {COLUMNS} FROM events WHERE tenant_id = ? AND position > ? "
                "ORDER BY position LIMIT ?", (tenant_id, start, limit)).fetchall()
        return [_row(r) for r in rows]

    def load_snapshot(self, stream_id: str) -> tuple[int, str, str] | None:
        row = self._conn().execute("SELECT version, schema, doc FROM snapshots WHERE stream_id = ?",
                                   (stream_id,)).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    def load_from_snapshot(self, stream_id: str) -> tuple[tuple[int, str, str] | None, list[StoredEvent], int]:
        return snapshot_then_events(self, stream_id)

    def save_snapshot(self, stream_id: str, version: int, schema: str, doc_json: str) -> None:
        self._conn().execute(SAVE_SNAPSHOT, (stream_id, version, schema, doc_json))

    def drop_snapshot(self, stream_id: str, version: int) -> None:
        self._conn().execute("DELETE FROM snapshots WHERE stream_id = ? AND version <= ?", (stream_id, version))

    def close(self) -> None:
        self._stop.set()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _row(r: tuple) -> StoredEvent:  # type: ignore[type-arg]
    return StoredEvent(tenant_id=r[1], stream_id=r[2], version=r[3], event_id=r[4], event_type=r[5],
                       schema_version=r[6], occurred_at=r[7], recorded_at=r[8], correlation_id=r[9],
                       causation_id=r[10], data=loads(r[11]), position=f"{r[0]:016d}")
