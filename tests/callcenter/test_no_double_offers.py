"""No double offers: callers arriving at the same moment (webhooks handled concurrently) never get the same
agent, on both stores. Offers are appended at the agent stream's expected version; losers re-decide."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest

from chalicelib.bootstrap import Services, bootstrap
from chalicelib.callcenter.streams import agent_stream, load_events
from chalicelib.demo import seed_demo
from chalicelib.gateway_api import RecordingGateway
from chalicelib.settings import Settings
from chalicelib.stores.dynamodb import DynamoDBEventStore
from chalicelib.stores.sqlite import SQLiteEventStore
from domain.callcenter.events import AgentOffered
from tests.callcenter.conftest import AGENTS, CallCenter, cc_config, setup_callcenter
from tests.conftest import TOKEN, FakeClock

CALLERS = 12


def linearizable_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's transact_write_items deep-copies each table first and, when a condition fails, puts that copy
    back -- wiping out any transaction another request thread committed meanwhile. Real DynamoDB
    transactions are atomic, so model that: one moto transaction at a time (moto runs in this process)."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    lock = threading.Lock()

    def serialized(self: DynamoDBBackend, transact_items: list) -> None:  # type: ignore[type-arg]
        with lock:
            original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", serialized)


@pytest.fixture(params=["sqlite", "dynamodb"])
def any_store_cc(request: pytest.FixtureRequest, settings: Settings, clock: FakeClock,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[CallCenter]:
    if request.param == "sqlite":
        store = SQLiteEventStore(settings.sqlite_path)
    else:
        linearizable_moto(monkeypatch)
        store = DynamoDBEventStore(f"cc-{uuid.uuid4().hex[:8]}", host=request.getfixturevalue("dynamodb_url"),
                                   create=True)
    counter = itertools.count(1)
    lock = threading.Lock()

    def ids() -> str:
        with lock:
            return f"00000000-0000-4000-8000-{next(counter):012d}"

    services: Services = bootstrap(settings, store, clock=clock, ids=ids)
    services.gateway = RecordingGateway()
    seed_demo(services.tenants, TOKEN)
    setup_callcenter(services, {"support": cc_config(strategy="longest_idle")})
    yield CallCenter(services, clock)


def test_concurrent_callers_never_share_an_agent(any_store_cc: CallCenter) -> None:
    cc = any_store_cc
    # given three free agents
    cc.login(*AGENTS)
    barrier = threading.Barrier(CALLERS)
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        try:
            barrier.wait()
            cc.call(cc.sid(n), f"+1555000{n:04d}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    # when twelve callers arrive at once, each on its own thread (its own webhook)
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(1, CALLERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # then each agent holds exactly one offer, for three different callers, and no offer overlapped another
    offers = {a: [e for e in load_events(cc.services, agent_stream("demo", a))[0] if isinstance(e, AgentOffered)]
              for a in AGENTS}
    assert {a: len(o) for a, o in offers.items()} == {a: 1 for a in AGENTS}
    assert len({o[0].call_sid for o in offers.values()}) == 3
    assert cc.audit() == []
    # and the gateway rang each agent once
    assert Counter(cc.rung()) == Counter(AGENTS)
    assert len(cc.line().waiting) == CALLERS
