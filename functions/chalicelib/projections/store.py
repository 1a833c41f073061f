"""SQLite store for projection outputs, in its own database file next to the event log.

Invariant: a projection's states, rows and checkpoint change in one IMMEDIATE transaction, so
after a crash the outputs are exactly those of the events up to the checkpoint. Documents are
stored as sorted, compact JSON, so the same fold over the same events gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from chalicelib.stores.sqlite import connect
from domain.projections.base import JSON, Row

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (projection TEXT PRIMARY KEY, position TEXT NOT NULL,
  events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS states (projection TEXT NOT NULL, key TEXT NOT NULL, tenant TEXT NOT NULL,
  t TEXT NOT NULL, closed INTEGER NOT NULL, pos TEXT NOT NULL, doc TEXT NOT NULL,
  UNIQUE (projection, key));
CREATE INDEX IF NOT EXISTS states_by_time ON states (projection, tenant, t);
CREATE INDEX IF NOT EXISTS states_by_pos ON states (projection, tenant, pos);
CREATE TABLE IF NOT EXISTS rows (projection TEXT NOT NULL, key TEXT NOT NULL, tenant TEXT NOT NULL,
  t TEXT NOT NULL, pos TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (projection, key));
CREATE INDEX IF NOT EXISTS rows_by_time ON rows (projection, tenant, t);
"""


try:
    import orjson

    def dumps(doc: Any) -> str:
        """Sorted, compact JSON (UTF-8 kept as is): the same document always gives the same bytes."""
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode()
except ImportError:  # pragma: no cover - orjson is a declared dependency

    def dumps(doc: Any) -> str:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def projections_path(sqlite_path: str) -> str:
    """The projections database that goes with an event log file."""
    if sqlite_path == ":memory:":
        return ":memory:"
    p = Path(sqlite_path)
    return str(p.with_name(p.stem + ".projections.sqlite"))


def _window(projection: str, tenant: str | None, since_t: str, until_t: str) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) for a projection's outputs, by tenant and time window."""
    where, args = "projection = ?", [projection]
    if tenant is not None:
        where += " AND tenant = ?"
        args.append(tenant)
    if since_t:
        where += " AND t >= ?"
        args.append(since_t)
    if until_t:
        where += " AND t < ?"
        args.append(until_t)
    return where, args


class SQLiteProjectionStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.conn().executescript(SCHEMA)

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    # -- reading
    def checkpoint(self, projection: str) -> tuple[str, int]:
        row = self.conn().execute("SELECT position, events FROM checkpoints WHERE projection = ?",
                                  (projection,)).fetchone()
        return (str(row[0]), int(row[1])) if row else ("", 0)

    def state(self, projection: str, key: str) -> JSON | None:
        row = self.conn().execute("SELECT doc FROM states WHERE projection = ? AND key = ?",
                                  (projection, key)).fetchone()
        return json.loads(row[0]) if row else None

    def states(self, projection: str, tenant: str | None = None, since_t: str = "", until_t: str = "",
               open_only: bool = False, after_pos: str = "") -> Iterator[JSON]:
        where, args = _window(projection, tenant, since_t, until_t)
        sql = "SELECT doc FROM states WHERE " + where
        if open_only:
            sql += " AND closed = 0"
        if after_pos:
            sql += " AND pos > ?"
            args.append(after_pos)
        for (doc,) in self.conn().execute(sql + " ORDER BY t, key", args):
            yield json.loads(doc)

    def max_pos(self, projection: str, tenant: str) -> str:
        row = self.conn().execute("SELECT MAX(pos) FROM states WHERE projection = ? AND tenant = ?",
                                  (projection, tenant)).fetchone()
        return str(row[0] or "")

    def rows(self, projection: str, tenant: str | None = None, since_t: str = "", until_t: str = "") -> list[JSON]:
        """A projection's rows (of one tenant; whose time is in [since_t, until_t)), in key order."""
        where, args = _window(projection, tenant, since_t, until_t)
        return [json.loads(d) for (d,) in self.conn().execute(f"SELECT doc FROM rows WHERE {where} ORDER BY key", args)]

    # -- writing
    def commit(self, writes: Mapping[str, tuple[Sequence[tuple[str, JSON, bool, str]], Iterable[Row], str, int]],
               checkpoint: bool = True) -> None:
        """For each projection: (states as (key, doc, closed, pos), rows, checkpoint position, events seen).
        ``checkpoint=False`` leaves the checkpoints alone (a partial replay: one tenant, one window, one
        partition of the streams; moving the checkpoint there would skip other streams' events)."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            for name, (states, rows, position, events) in writes.items():
                conn.executemany(
                    "INSERT OR REPLACE INTO states (projection, key, tenant, t, closed, pos, doc) VALUES (?,?,?,?,?,?,?)",
                    [(name, key, str(doc.get("tenant", "")), str(doc.get("t", "")), int(closed), pos, dumps(doc))
                     for key, doc, closed, pos in states])
                conn.executemany("INSERT OR REPLACE INTO rows (projection, key, tenant, t, pos, doc) VALUES (?,?,?,?,?,?)",
                                 [(name, key, tenant, t, position, dumps(doc)) for key, tenant, t, doc in rows])
                if checkpoint:
                    conn.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?)", (name, position, events))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def reset(self, projection: str, tenant: str | None = None, since_t: str = "", until_t: str = "") -> None:
        """Forget a projection's outputs (all, one tenant's, or those whose time is in a window)."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            where, args = _window(projection, tenant, since_t, until_t)
            for table in ("states", "rows"):
                conn.execute(f"DELETE FROM {table} WHERE {where}", args)
            if tenant is None and not since_t and not until_t:
                conn.execute("DELETE FROM checkpoints WHERE projection = ?", (projection,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def dump(self, projection: str, tenant: str | None = None) -> Iterator[bytes]:
        """The projection's outputs as canonical lines, in key order (what the digest covers)."""
        for table in ("states", "rows"):
            sql, args = f"SELECT key, doc FROM {table} WHERE projection = ?", [projection]
            if tenant is not None:
                sql += " AND tenant = ?"
                args.append(tenant)
            for key, doc in self.conn().execute(sql + " ORDER BY key", args):
                yield f"{table}\t{key}\t{doc}\n".encode()

    def digest(self, projection: str, tenant: str | None = None) -> str:
        h = hashlib.sha256()
        for line in self.dump(projection, tenant):
            h.update(line)
        return h.hexdigest()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
