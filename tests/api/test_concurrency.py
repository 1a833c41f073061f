"""Concurrent writers: every change is appended at the version it was decided on, retried on a race."""

from __future__ import annotations

import threading

from chalicelib.api.state import change
from chalicelib.bootstrap import bootstrap
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.tenant import TenantConfigPatched


def test_concurrent_patches_and_list_additions_lose_no_update(services, settings):
    # given eight writers, each with its own services on the same SQLite file (as separate Lambdas would be)
    writers = 8
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(i: int) -> None:
        own = bootstrap(settings, SQLiteEventStore(settings.sqlite_path))
        try:
            barrier.wait()
            for round_ in range(3):
                # each sets its own field of the same extension ...
                change(own, "demo", lambda s, i=i, r=round_: [TenantConfigPatched(
                    path=["extensions", "101"], patch={"tags": {f"w{i}": r}}, actor=f"w{i}")])
                # ... and adds its own number to the same list (a read-modify-write of the whole list)
                change(own, "demo", lambda s, i=i, r=round_: [TenantConfigPatched(
                    path=["lists"], patch={"blacklist": [*s.section("lists")["blacklist"], f"+1555010{i}{r:03d}"]})])
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every write is there
    assert failures == []
    tenant = services.tenants.get("demo")
    assert tenant.section("extensions")["101"]["tags"] == {f"w{i}": 2 for i in range(writers)}
    assert tenant.section("extensions")["101"]["name"] == "Sam Sales"
    blacklist = tenant.section("lists")["blacklist"]
    assert sorted(blacklist) == sorted(["+15550009999"] + [f"+1555010{i}{r:03d}" for i in range(writers)
                                                           for r in range(3)])
