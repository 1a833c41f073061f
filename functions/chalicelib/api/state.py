"""The configuration shell: read the tenant, decide the events, append conditionally, retry.

Invariant: a change is appended at the tenant stream version it was decided on; on
ConcurrencyError it is decided again on the fresh snapshot, so concurrent writers never lose an
update. No change may leave a reference dangling (a group member, a number's plan, a plan node's
extension...): references broken by the change itself are 422 on the changed item's field,
references it breaks elsewhere (a delete) are 409 naming every user.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from chalicelib.api.http import ApiError
from chalicelib.bootstrap import Services
from domain.events import DomainEvent
from domain.ports import ConcurrencyError
from domain.routing.validate import SINGULAR, dangling
from domain.tenant import TenantSnapshot, evolve

ATTEMPTS = 40


def current(services: Services, tenant_id: str) -> TenantSnapshot:
    snapshot = services.tenants.get(tenant_id)
    if snapshot is None:
        raise ApiError(404, f"no tenant {tenant_id!r}")
    return snapshot


def apply(snapshot: TenantSnapshot, events: Sequence[DomainEvent]) -> TenantSnapshot:
    for e in events:
        snapshot = evolve(e, snapshot)
    return replace(snapshot, version=snapshot.version + len(events))


def check_references(before: TenantSnapshot, after: TenantSnapshot, owner: str) -> None:
    old = set(dangling(before))
    new = [ref for ref in dangling(after) if ref not in old]
    own = [{"pointer": ref.pointer, "message": f"no {SINGULAR.get(ref.section, ref.section)} {ref.target!r}"}
           for ref in new if ref.owner == owner]
    if own:
        raise ApiError(422, own)
    if new:
        raise ApiError(409, [{"pointer": "", "message": f"{SINGULAR.get(ref.section, ref.section)} {ref.target!r} "
                                                        f"is still used by {ref.owner} ({ref.pointer})"}
                             for ref in new])


def change(services: Services, tenant_id: str, decide: Callable[[TenantSnapshot], Sequence[DomainEvent]],
           owner: str = "") -> TenantSnapshot:
    """Decide events on the current snapshot and append them at its version; retry on a race."""
    for attempt in range(ATTEMPTS):
        before = current(services, tenant_id)
        events = decide(before)
        if not events:
            return before
        after = apply(before, events)
        check_references(before, after, owner)
        try:
            services.tenants.append(tenant_id, events, expected_version=before.version)
        except ConcurrencyError:
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            continue
        return after
    raise ApiError(409, "the configuration is being changed by others too fast; retry")
