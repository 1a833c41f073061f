"""Both projection stores give a projection's rows of one tenant by time ([since, until) on the row's time)."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.projections.dynamodb_store import DynamoDBProjectionStore
from chalicelib.projections.store import SQLiteProjectionStore


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return SQLiteProjectionStore(tmp_path / "out.sqlite")
    url = request.getfixturevalue("dynamodb_url")
    return DynamoDBProjectionStore(f"rows-{uuid.uuid4().hex[:8]}", host=url, create=True)


def test_rows_are_read_by_tenant_and_time_window(store) -> None:  # type: ignore[no-untyped-def]
    times = ["2026-10-31T23:59:59.000000+00:00", "2026-11-01T00:00:00.000000+00:00",
             "2026-11-30T23:59:59.999999+00:00", "2026-12-01T00:00:00.000000+00:00"]
    rows = [(f"k{i}", "t1", t, {"n": i}) for i, t in enumerate(times)] + [("other", "t2", times[1], {"n": 9})]
    store.commit({"agents": ([], rows, "0000000000000005", 5)})
    november = store.rows("agents", "t1", "2026-11-01T00:00:00.000000+00:00", "2026-12-01T00:00:00.000000+00:00")
    assert [r["n"] for r in november] == [1, 2]
    assert [r["n"] for r in store.rows("agents", "t1")] == [0, 1, 2, 3]
    assert [r["n"] for r in store.rows("agents", "t1", since_t=times[2])] == [2, 3]
