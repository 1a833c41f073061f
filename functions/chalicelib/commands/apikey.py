"""vpbx apikey create|list|revoke: bootstrap access to the configuration API."""

from __future__ import annotations

import argparse

from chalicelib.auth import FULL_ACCESS, KEYRING, create_api_key, revoke_api_key
from chalicelib.bootstrap import get_services


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("apikey", help="create, list or revoke a tenant's API keys")
    actions = p.add_subparsers(dest="apikey_action", required=True)
    create = actions.add_parser("create", help="issue a key (printed once; only its hash is stored)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--scope", action="append", dest="scopes",
                        help=f"permission to grant (repeatable); default {FULL_ACCESS!r} = full admin of the tenant")
    create.set_defaults(func=run_create)
    listing = actions.add_parser("list", help="list a tenant's keys (ids, labels, scopes; never secrets)")
    listing.add_argument("--tenant", required=True)
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("--tenant", required=True)
    revoke.add_argument("key_id")
    revoke.set_defaults(func=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    try:
        key, record = create_api_key(get_services(), args.tenant, scopes=args.scopes or (FULL_ACCESS,),
                                     label=args.label, actor="cli")
    except (LookupError, ValueError) as e:
        print(f"error: {e}")
        return 1
    print(key)
    print(f"# key id {record.key_id}, scopes {','.join(sorted(record.scopes))}; store it now, it is not shown again")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for record in KEYRING.keys(get_services(), args.tenant).values():
        state = f"revoked {record.revoked_at}" if record.revoked_at else "active"
        print(f"{record.key_id}  {','.join(sorted(record.scopes)):<20} {state:<40} {record.label}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    if not revoke_api_key(get_services(), args.tenant, args.key_id, actor="cli"):
        print(f"no active key {args.key_id!r} for tenant {args.tenant!r}")
        return 1
    print(f"revoked {args.key_id}")
    return 0
