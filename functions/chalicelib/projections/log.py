"""Reading the event log for projections: any store through ``read_log``, SQLite straight from its table."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.bootstrap import Services
from chalicelib.projections.runner import Runner
from chalicelib.projections.store import SQLiteProjectionStore, projections_path
from chalicelib.settings import Settings
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.events import StoredEvent
from domain.ports import EventStore

PAGE = 5000
_stores: dict[str, SQLiteProjectionStore] = {}
_tables: dict[str, Any] = {}


def projection_store(services: Services) -> Any:
    """Where these services' projections live: DynamoDB next to a DynamoDB log, else SQLite."""
    return output_store(services.settings)


def output_store(settings: Settings) -> Any:
    """A DynamoDB table (VPBX_PROJECTIONS_TABLE, default ``<events table>-projections``) when the log is
    DynamoDB, else the SQLite file (VPBX_PROJECTIONS_PATH, else next to the log)."""
    if settings.store == "dynamodb":
        from chalicelib.projections.dynamodb_store import DynamoDBProjectionStore

        table = os.environ.get("VPBX_PROJECTIONS_TABLE") or f"{settings.dynamodb_table}-projections"
        if table not in _tables:
            _tables[table] = DynamoDBProjectionStore(table, host=settings.dynamodb_url, region=settings.aws_region,
                                                     create=bool(settings.dynamodb_url))
        return _tables[table]
    return projection_db(settings.sqlite_path)


def projection_db(sqlite_path: str) -> SQLiteProjectionStore:
    path = os.environ.get("VPBX_PROJECTIONS_PATH") or projections_path(sqlite_path)
    if path not in _stores:
        _stores[path] = SQLiteProjectionStore(path)
    return _stores[path]


def iter_log(store: EventStore, tenant: str | None = None, after: str = "") -> Iterator[StoredEvent]:
    """Every event after a position, in log order, page by page."""
    if isinstance(store, SQLiteEventStore):
        yield from _sqlite_log(store, tenant, after)
        return
    while True:
        page = store.read_log(tenant, after=after, limit=PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].position


def _sqlite_log(store: SQLiteEventStore, tenant: str | None, after: str) -> Iterator[StoredEvent]:
    loads = json.loads
    for r in sqlite_rows(store, tenant, after):
        yield StoredEvent(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], loads(r[11]), f"{r[0]:016d}")


RowFilter = dict[str, tuple[str, ...] | None]
Part = tuple[int, int]
"""(k, n): the k-th of n disjoint shares of the streams, by the last character of the stream id (call
ids end in hex or UUID digits, so shares are even). Every event of a stream falls in one share, so
stream folds over the shares, run apart, give exactly the outputs of one run over the whole log."""


def _where(tenant: str | None, after: str, only: RowFilter | None, part: Part | None = None,
           upto: int = 0) -> tuple[str, list[object]]:
    """The log rows past ``after`` (of one tenant, up to ``upto``, of one share of the streams), narrowed
    to what the projections use: SQLite skips the rest without building a Python row (a typical log is
    half menu steps and gathered digits)."""
    where, args = "position > ?", [int(after or 0)]
    if upto:
        where += " AND position <= ?"
        args.append(upto)
    if tenant is not None:
        where += " AND tenant_id = ?"
        args.append(tenant)
    if part is not None:
        where += " AND unicode(substr(stream_id, -1)) % ? = ?"
        args.extend([part[1], part[0]])
    if only is not None:
        plain = sorted(t for t, needles in only.items() if needles is None)
        terms = []
        if plain:
            terms.append(f"event_type IN ({','.join('?' * len(plain))})")
            args.extend(plain)
        for t, needles in sorted((t, n) for t, n in only.items() if n is not None):
            terms.append(f"(event_type = ? AND ({' OR '.join('instr(data, ?) > 0' for _ in needles)}))")
            args.extend([t, *needles])
        where += f" AND ({' OR '.join(terms) or '0'})"
    return where, args


def sqlite_rows(store: SQLiteEventStore, tenant: str | None, after: str,
                only: RowFilter | None = None) -> Iterator[tuple[Any, ...]]:
    """Raw rows in log order through one cursor (replay speed is dominated by per-row work)."""
    where, args = _where(tenant, after, only)
    sql = ("SELECT position, tenant_id, stream_id, version, event_id, event_type, schema_version, occurred_at, "
           f"recorded_at, correlation_id, causation_id, data FROM events WHERE {where} ORDER BY position")
    yield from store._conn().execute(sql, args)


def view_rows(store: SQLiteEventStore, tenant: str | None, after: str, only: RowFilter, part: Part | None = None,
              upto: int = 0) -> Iterator[tuple[Any, ...]]:
    """The rows the views fold, with only the columns a stream fold reads (see ``Envelope``)."""
    where, args = _where(tenant, after, only, part, upto)
    sql = ("SELECT position, tenant_id, stream_id, version, event_id, event_type, schema_version, occurred_at, "
           f"data FROM events WHERE {where} ORDER BY position")
    yield from store._conn().execute(sql, args)


def run_log(runner: Runner, store: EventStore, tenant: str | None = None, after: str = "",
            progress: Callable[[int], None] | None = None, part: Part | None = None, upto: int = 0) -> int:
    """Feed the log past ``after`` to a runner (from SQLite only the rows and columns its projections use;
    envelopes from anything else); returns how many events were handed to it. ``part`` and ``upto``
    (one share of the streams, up to a position) exist for the views on SQLite only."""
    if isinstance(store, SQLiteEventStore):
        only = runner.row_filter()
        if only is not None:
            return runner.run_view_rows(view_rows(store, tenant, after, only, part, upto), progress=progress)
        if part is not None or upto:
            raise ValueError("a share of the log (part, upto) is for the views; the hash chain reads it all")
        return runner.run_rows(sqlite_rows(store, tenant, after), progress=progress)
    if part is not None or upto:
        raise ValueError("a share of the log (part, upto) needs the SQLite log")
    return runner.run(iter_log(store, tenant, after), progress=progress)


def count_log(store: EventStore, tenant: str | None = None, after: str = "",
              only: RowFilter | None = None) -> int | None:
    """How many events of the log a replay will read (None when the store cannot say cheaply)."""
    if not isinstance(store, SQLiteEventStore):
        return None
    where, args = _where(tenant, after, only)
    return int(store._conn().execute(f"SELECT COUNT(*) FROM events WHERE {where}", args).fetchone()[0])


def last_position(store: SQLiteEventStore) -> int:
    """The log's last position now (0 when empty): where a run split across processes stops."""
    return int(store._conn().execute("SELECT COALESCE(MAX(position), 0) FROM events").fetchone()[0])


def position_before(store: EventStore, recorded_at: str) -> str:
    """A position just before the first event recorded at or after a time ("" = from the start)."""
    if not recorded_at or not isinstance(store, SQLiteEventStore):
        return ""
    row = store._conn().execute("SELECT MIN(position) FROM events WHERE recorded_at >= ?", (recorded_at,)).fetchone()
    return f"{int(row[0]) - 1:016d}" if row and row[0] else ""
