"""The call-history facts (sticky routing, least recently called) read the tenant log the same
way on DynamoDB as on SQLite."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest

from chalicelib.bootstrap import Services, bootstrap, set_services
from chalicelib.demo import seed_demo
from chalicelib.gateway_api import RecordingGateway
from chalicelib.stores.dynamodb import DynamoDBEventStore
from tests.conftest import TOKEN, FakeClock, Gateway
from tests.routing.pbx import Call, make_tenant, sid


@pytest.fixture
def dynamo_services(settings, clock: FakeClock, dynamodb_url: str) -> Iterator[Services]:  # type: ignore[no-untyped-def]
    store = DynamoDBEventStore(f"hist-{uuid.uuid4().hex[:8]}", host=dynamodb_url, create=True)
    counter = itertools.count(1)
    services = bootstrap(settings, store, clock=clock, ids=lambda: f"00000000-0000-4000-8000-{next(counter):012d}")
    services.gateway = RecordingGateway()
    seed_demo(services.tenants, TOKEN)
    set_services(services)
    yield services
    set_services(None)


def test_sticky_caller_is_offered_to_the_last_agent_on_dynamodb(dynamo_services) -> None:  # type: ignore[no-untyped-def]
    plan = {"root": {"id": "sticky", "action": "sticky", "children": {
        "_": {"id": "group", "action": "ring_group", "data": {"group": "sales", "strategy": "least_recent"}}}}}
    gateway: Gateway = make_tenant(dynamo_services, "acme", plan)
    first = Call(gateway, sid(1), From="+15550002000")
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in first.start()
    first.dial_ended("no-answer")
    first.dial_ended("completed")  # 102 answered
    again = Call(gateway, sid(2), From="+15550002000")
    assert ">102</Client>" in again.start()  # sticky: 102 first
    # and a new caller gets the least recently called member first: 101 never answered
    assert ">sip:101@demo.sip.vpbx.local</Sip>" in Call(gateway, sid(3), From="+15550007000").start()
