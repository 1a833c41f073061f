"""The demo tenant that ``make run`` seeds and the tests use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from domain.ports import ConcurrencyError
from domain.tenant import PlanPublished, TenantConfigured

HERE = Path(__file__).parent
DEMO_TENANT = "demo"
DEMO_NUMBER = "+15550001000"


def demo_config(auth_token: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((HERE / "tenant.json").read_text())
    config["gateway"]["auth_token"] = auth_token
    return config


def demo_plan() -> dict[str, Any]:
    plan: dict[str, Any] = json.loads((HERE / "plan.json").read_text())
    return plan


def seed_demo(tenants: Any, auth_token: str) -> bool:
    """Create the demo tenant if it does not exist yet; True if it was created now."""
    if tenants.store.stream_version(f"tenant-{DEMO_TENANT}") > 0:
        return False
    try:
        tenants.append(DEMO_TENANT, [TenantConfigured(config=demo_config(auth_token), actor="seed"),
                                     PlanPublished(plan_id="main", version=1, document=demo_plan(), actor="seed")],
                       expected_version=0, correlation_id="seed-demo")
    except ConcurrencyError:
        return False  # another process seeded it first
    return True
