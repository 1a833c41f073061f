"""vpbx agents: show call-center agents' presence, or change it (login, logout, pause, unpause, dnd)."""

from __future__ import annotations

import argparse

from chalicelib.bootstrap import get_services
from chalicelib.callcenter.operations import PRESENCE_ACTIONS, Refused, agent_view, set_presence
from chalicelib.callcenter.streams import load_agent


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("agents", help="call-center agents: show presence, or change it")
    p.add_argument("action", choices=["show", *PRESENCE_ACTIONS])
    p.add_argument("agents", nargs="*", help="extensions (show: default every extension)")
    p.add_argument("--tenant", default="demo")
    p.add_argument("--reason", default="", help="pause reason")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    services = get_services()
    tenant = services.tenants.get(args.tenant)
    if tenant is None:
        print(f"no tenant {args.tenant!r}")
        return 1
    agents = args.agents or sorted(tenant.section("extensions"))
    for agent in agents:
        try:
            state = (load_agent(services, args.tenant, agent)[0] if args.action == "show" else
                     set_presence(services, tenant, agent, args.action, args.reason, actor="cli"))
        except Refused as exc:
            print(f"!! {exc}")
            return 1
        view = agent_view(state, services)
        print(f"{agent:>6}  {view['presence']:<10} {view['pause_reason'] or ''}")
    return 0
