"""vpbx bill --tenant T --month YYYY-MM [--tariff other.json]: a month's invoice, re-rated at will."""

from __future__ import annotations

import argparse
import json

from chalicelib.billing_api import build_invoice, summary
from chalicelib.bootstrap import get_services


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bill", help="the invoice of a tenant's month (re-rate under another tariff with --tariff)")
    p.add_argument("--tenant", required=True)
    p.add_argument("--month", required=True, help="YYYY-MM, in the tenant's timezone")
    p.add_argument("--tariff", default=None, help="tariff id or path to a tariff JSON file (default: the tenant's)")
    p.add_argument("--json", action="store_true", help="the whole invoice as JSON (with per-call items)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        invoice = build_invoice(get_services(), args.tenant, args.month, args.tariff)
    except (LookupError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    if args.json:
        print(json.dumps(invoice, indent=2, ensure_ascii=False))
        return 0
    t = invoice["tariff"]
    print(f"Invoice {invoice['tenant']} {invoice['month']}  tariff {t['id']} v{t['version']}  ({invoice['currency']})")
    for line in summary(invoice)["lines"]:
        print(f"  {line['description']:<52} {line['quantity']:>10} {line['unit']:<8} {line['amount']:>10}")
    print(f"  {'Total':<72} {invoice['total']:>10}")
    if invoice["pending_calls"]:
        print(f"  {len(invoice['pending_calls'])} call(s) still in progress, not billed yet")
    if invoice["unrated_calls"]:
        print(f"  {len(invoice['unrated_calls'])} outbound call(s) to destinations no rate covers (not charged)")
    return 0
