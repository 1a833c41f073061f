"""One sign-in account per role for the demo tenant, so a newcomer can sign in after `make run`."""

from __future__ import annotations

import os
from typing import Any

from chalicelib.demo import DEMO_TENANT
from chalicelib.users import UserError, users_of

DEFAULT_PASSWORD = "demo-password"
DEMO_USERS = (
    {"id": "u-owner", "email": "owner@demo.test", "name": "Olga Owner", "role": "owner"},
    {"id": "u-admin", "email": "admin@demo.test", "name": "Adam Admin", "role": "admin"},
    {"id": "u-supervisor", "email": "supervisor@demo.test", "name": "Sue Supervisor", "role": "supervisor",
     "team": "sales"},
    {"id": "u-agent", "email": "agent@demo.test", "name": "Sam Sales", "role": "agent", "extension": "101",
     "team": "sales"},
    {"id": "u-analyst", "email": "analyst@demo.test", "name": "Ana Analyst", "role": "analyst"},
)


def demo_password() -> str:
    return os.environ.get("VPBX_DEMO_PASSWORD") or DEFAULT_PASSWORD


def seed_demo_users(services: Any, password: str | None = None, tenant_id: str = DEMO_TENANT) -> list[str]:
    """Add the demo accounts that are missing; returns the e-mails added now (idempotent)."""
    repo = users_of(services)
    added = []
    for spec in DEMO_USERS:
        if repo.by_email(spec["email"]) is not None:
            continue
        try:
            repo.add(tenant_id, {**spec, "password": password or demo_password()}, actor="seed")
        except UserError as exc:
            if exc.status != 409:  # 409: another process seeded it first
                raise
            continue
        added.append(spec["email"])
    return added
