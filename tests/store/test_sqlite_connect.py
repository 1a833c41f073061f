"""Opening an SQLite file: WAL is switched on even when several processes open the new file at once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from chalicelib.stores.sqlite import connect


def test_connections_racing_to_create_a_file_all_get_it_in_wal_mode(tmp_path: Path) -> None:
    # Two followers starting together both create the projections database. Switching a new file to WAL
    # needs it to themselves, and SQLite answers "database is locked" at once (no busy wait) to the one
    # that would deadlock: before, that killed a follower now and then (about 1 race in 13 here).
    errors: list[str] = []
    for i in range(100):
        path = str(tmp_path / f"new-{i}.sqlite")
        barrier = threading.Barrier(4)

        def open_it(path: str = path, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                conn = connect(path)
                conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
                assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                conn.close()
            except sqlite3.OperationalError as exc:
                errors.append(str(exc))

        threads = [threading.Thread(target=open_it) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_a_file_held_longer_than_the_patience_still_fails_naming_the_lock(tmp_path: Path) -> None:
    holder = sqlite3.connect(tmp_path / "new.sqlite", isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN")
    holder.execute("SELECT * FROM t").fetchall()  # a reader on the new file (rollback journal still)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        connect(str(tmp_path / "new.sqlite"), patience=0.2)
    holder.execute("COMMIT")
    assert connect(str(tmp_path / "new.sqlite")).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
