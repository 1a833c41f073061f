"""The composition root: builds the services once; tests call ``bootstrap`` with their own parts."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.gateway_api import GatewayApi, gateway_from_env
from chalicelib.mailer import Mailer, mailer_from_settings
from chalicelib.media_client import MediaClient, media_client_from_settings
from chalicelib.settings import Settings
from chalicelib.tenants import TenantRepository
from domain.ports import EventStore


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Services:
    settings: Settings
    store: EventStore
    tenants: TenantRepository
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], str] = new_id
    gateway: GatewayApi = field(default_factory=lambda: gateway_from_env(os.environ))
    media: MediaClient | None = None  # None: no media core, the gateway receives faxes itself
    mailer: Mailer | None = None  # None: no e-mail is sent (voicemail mail is skipped)


def make_store(settings: Settings) -> EventStore:
    if settings.store == "dynamodb":
        from chalicelib.stores.dynamodb import DynamoDBEventStore

        return DynamoDBEventStore(settings.dynamodb_table, host=settings.dynamodb_url, region=settings.aws_region,
                                  create=bool(settings.dynamodb_url))
    if settings.store == "memory":
        from chalicelib.stores.memory import InMemoryEventStore

        return InMemoryEventStore()
    from chalicelib.stores.sqlite import SQLiteEventStore

    return SQLiteEventStore(settings.sqlite_path)


def bootstrap(settings: Settings | None = None, store: EventStore | None = None,
              clock: Callable[[], datetime] = utc_now, ids: Callable[[], str] = new_id) -> Services:
    settings = settings or Settings.from_env()
    store = store or make_store(settings)
    return Services(settings=settings, store=store, tenants=TenantRepository(store, clock, ids), clock=clock,
                    new_id=ids, media=media_client_from_settings(settings), mailer=mailer_from_settings(settings))


_services: Services | None = None


def get_services() -> Services:
    """The process-wide services (lazy, so importing the app does no I/O)."""
    global _services
    if _services is None:
        _services = bootstrap()
    return _services


def set_services(services: Services | None) -> None:
    global _services
    _services = services
