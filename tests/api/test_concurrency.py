"""Concurrent writers: every change is appended at the version it was decided on, retried on a race.

Runs on SQLite (one file, a connection per writer) and on DynamoDB (moto's server on a free port).
"""

from __future__ import annotations

import threading
import uuid

import pytest

from chalicelib.api.state import change
from chalicelib.auth import authenticate, create_api_key, revoke_api_key
from chalicelib.bootstrap import bootstrap
from chalicelib.demo import seed_demo
from chalicelib.stores.dynamodb import DynamoDBEventStore
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.tenant import TenantConfigPatched
from tests.conftest import free_port


@pytest.fixture(scope="module")
def serial_dynamodb_url():
    """moto's DynamoDB on one request thread: moto checks a transaction's conditions and writes its items
    without a lock, so on its threaded server two conditional appends at one version can both succeed
    (measured: 2-4 duplicated versions in 60 racing appends). Real DynamoDB serializes them; so does this."""
    import os

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = make_server("127.0.0.1", free_port(), DomainDispatcherApplication(create_backend_app), threaded=False,
                         request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


@pytest.fixture(params=["sqlite", "dynamodb"])
def make_services(request, settings):
    """A factory of independent services (as separate processes would have) on one shared store."""
    if request.param == "sqlite":
        def factory():
            return bootstrap(settings, SQLiteEventStore(settings.sqlite_path))
    else:
        url, table = request.getfixturevalue("serial_dynamodb_url"), f"events-{uuid.uuid4().hex[:8]}"
        DynamoDBEventStore(table, host=url, create=True)

        def factory():
            return bootstrap(settings, DynamoDBEventStore(table, host=url))
    seed_demo(factory().tenants, "token")
    return factory


def test_concurrent_patches_and_list_additions_lose_no_update(make_services):
    # given four writers with their own services on the same store
    writers = 4
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(i: int) -> None:
        own = make_services()
        try:
            barrier.wait()
            for round_ in range(ROUNDS):
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
    tenant = make_services().tenants.get("demo")
    assert tenant.section("extensions")["101"]["tags"] == {f"w{i}": ROUNDS - 1 for i in range(writers)}
    assert tenant.section("extensions")["101"]["name"] == "Sam Sales"
    blacklist = tenant.section("lists")["blacklist"]
    assert sorted(blacklist) == sorted(["+15550009999"] + [f"+1555010{i}{r:03d}" for i in range(writers)
                                                           for r in range(ROUNDS)])


ROUNDS = 3


class _Request:
    def __init__(self, key: str) -> None:
        self.headers = {"Authorization": f"Bearer {key}"}
        self.method = "GET"


def test_a_key_revoked_by_one_process_is_refused_by_another(make_services):
    # given two processes; the first issues a key and the second accepts it
    first, second = make_services(), make_services()
    key, record = create_api_key(first, "demo")
    assert authenticate(_Request(key), second).tenant_id == "demo"
    # when the first revokes it
    assert revoke_api_key(first, "demo", record.key_id, actor="test")
    # then the second refuses it on the next request
    with pytest.raises(Exception, match="revoked"):
        authenticate(_Request(key), second)
