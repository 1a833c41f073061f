"""Who changed what and when: the configuration audit trail, and account invariants under concurrency."""

from __future__ import annotations

import threading

from chalicelib.demo.users import DEMO_USERS, seed_demo_users
from chalicelib.users import UserError, users_of
from domain.tenant import TenantConfigPatched
from tests.access.conftest import PASSWORD


def test_config_changes_show_who_when_and_the_diff(as_role, accounts, clock):
    # given an admin changed the blacklist (an event carrying the actor)
    clock.advance(60)
    version = accounts.tenants.get("demo").version
    accounts.tenants.append("demo", [TenantConfigPatched(path=["lists"], patch={"blacklist": ["+15550007777"]},
                                                         actor="user:u-admin")], version)
    # when the owner reads the trail
    status, body = as_role("owner").json("GET", "/api/v1/audit/config")
    # then the newest entry names the actor, the time and the before/after of the changed leaf
    assert status == 200
    entry = next(e for e in body["entries"] if e["event"] == "TenantConfigPatched")
    assert entry["actor"] == "user:u-admin" and entry["at"].startswith("2026-11-24T15:01")
    assert {"path": "/lists/blacklist", "before": ["+15550009999"], "after": ["+15550007777"]} in entry["changes"]


def test_account_changes_are_in_the_trail_without_secrets(as_role):
    owner = as_role("owner")
    assert owner.json("PATCH", "/api/v1/users/u-analyst", {"role": "supervisor", "password": "new password 1"})[0] \
        == 200
    entries = owner.json("GET", "/api/v1/audit/config")[1]["entries"]
    role_change = next(e for e in entries if e["event"] == "UserChanged")
    assert role_change["actor"] == "user:u-owner"
    assert {"path": "/users/u-analyst/role", "before": "analyst", "after": "supervisor"} in role_change["changes"]
    assert "argon2" not in str(entries)


def test_the_demo_seed_adds_one_account_per_role_once(services):
    assert sorted(seed_demo_users(services, PASSWORD)) == sorted(u["email"] for u in DEMO_USERS)
    assert seed_demo_users(services, PASSWORD) == []
    roles = {u.role for u in users_of(services).all("demo")[0].values()}
    assert roles == {"owner", "admin", "supervisor", "agent", "analyst"}


def test_two_tenants_racing_for_one_email_leave_exactly_one_account(services):
    # given two writers adding the same e-mail address at the same moment
    repo = users_of(services)
    results: list[str] = []

    def add(tenant: str) -> None:
        try:
            repo.add(tenant, {"email": "race@demo.test", "name": "R", "role": "agent", "password": PASSWORD}, "t")
            results.append("ok")
        except UserError as exc:
            results.append(str(exc.status))

    threads = [threading.Thread(target=add, args=(t,)) for t in ("demo", "demo2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then one wins and the other is told the address is taken
    assert sorted(results) == ["409", "ok"]
    assert repo.by_email("race@demo.test") is not None
