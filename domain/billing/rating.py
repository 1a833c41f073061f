"""Rating a month of CDRs under a tariff: an invoice whose every line lists the calls behind it.

Rounding rules (stated once, applied everywhere):
- an outbound call's (or paid leg's) billed seconds = max(minimum, duration rounded UP to the increment);
- a call's (or paid leg's) charge = per-minute rate x billed seconds / 60, rounded HALF-UP to 0.0001;
- a line's amount = the sum of its calls' charges, rounded HALF-UP to the cent (0.01);
- the total is the sum of the lines; nothing else is added (no hidden fees).
Internal calls (both ends are the tenant's own extensions or devices) are free and do not count
toward the plan's call volume. A call belongs to the month (tenant timezone) it started in; calls
not finished yet are listed as pending, not billed. Outbound calls to a destination no rate covers
are listed as unrated (never silently charged).

Paid legs: a dial leg answered at a phone number (a forwarding rule's number, a follow-me or device
mobile, a plan's forward) is a call the gateway places to the phone network, so it is rated like an
outbound call to that number, for its talk time, on its own lines ("Calls forwarded to ..."); it
adds no call to the plan's volume. The number is the device the answer URL reported; with no report,
the leg's only target when that is a number; a leg answered at a SIP or app device is free. A paid leg
of an internal call is still rated (it left the tenant). A call an employee's phone or app dialled out
(a device call: its CDR has ``placed_by``) is such a leg too, on the outbound lines ("Calls to ..."). So is a call-center agent's leg to an agent
whose device is a phone number ("Calls to agents' phones ..."), for the leg's duration the gateway
reported (else its time on the call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from domain.actions.call_features import E164
from domain.billing.tariff import Rate, Tariff
from domain.calls.state import TERMINAL
from domain.projections.base import JSON
from domain.projections.calls import ANSWERED
from domain.projections.stats import is_internal

CALL_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")
SIXTY = Decimal(60)


def billed_seconds(seconds: int, tariff: Tariff) -> int:
    if seconds <= 0:
        return 0
    step = tariff.increment_seconds
    return max(tariff.minimum_seconds, -(-seconds // step) * step)


def charge_for(tariff: Tariff, number: str, seconds: int) -> tuple[Rate, int, str] | None:
    """(rate, billed seconds, charge) of ``seconds`` to ``number``, or None when no rate covers it."""
    rate = tariff.rate_for(number)
    if rate is None:
        return None
    billed = billed_seconds(seconds, tariff)
    return rate, billed, str((rate.per_minute * billed / SIXTY).quantize(CALL_PLACES, ROUND_HALF_UP))


def plan_price(calls: int, tariff: Tariff) -> tuple[Decimal, str]:
    """The flat price of the smallest tier that holds the volume, plus overage past the last tier."""
    for tier in tariff.tiers:
        if calls <= tier.up_to:
            return tier.price, f"up to {tier.up_to} calls"
    last = tariff.tiers[-1]
    extra = calls - last.up_to
    return last.price + tariff.over_per_call * extra, f"{last.up_to} calls + {extra} at {tariff.over_per_call}"


def paid_legs(c: Mapping[str, Any]) -> list[tuple[int, JSON, str]]:
    """(index, leg, number) of the call's dial legs answered at a phone number (see the module notes)."""
    out = []
    for i, leg in enumerate(c.get("legs") or ()):
        if leg.get("status") not in ANSWERED or not float(leg.get("talk") or 0):
            continue
        device = str(leg.get("device") or "")
        targets = [str(t) for t in leg.get("targets") or ()]
        if device:
            number = device
        elif E164.match(str(leg.get("answered_by") or "")):
            number = str(leg["answered_by"])
        else:
            number = targets[0] if len(targets) == 1 else ""
        if E164.match(number):
            out.append((i, leg, number))
    return out


def rate_month(cdrs: Iterable[JSON], tariff: Tariff, *, tenant: str, month: str,
               devices: Mapping[str, str], agent_legs: Iterable[JSON] = ()) -> JSON:
    """The invoice for a tenant's month (CDRs already limited to calls started in that month; ``agent_legs``:
    the agents projection's on-call intervals that started in it)."""
    counted: list[str] = []
    internal: list[JSON] = []
    pending: list[str] = []
    unrated: list[JSON] = []
    by_rate: dict[str, tuple[Rate, list[JSON]]] = {}
    forwarded: dict[str, tuple[Rate, list[JSON]]] = {}
    agents: dict[str, tuple[Rate, list[JSON]]] = {}
    for leg in agent_legs:
        number = str(leg.get("to") or "")
        seconds = int(leg.get("leg_seconds") or round(float(leg.get("seconds") or 0)))
        if leg.get("presence") != "on_call" or not E164.match(number) or not seconds:
            continue
        if (rated := charge_for(tariff, number, seconds)) is None:
            unrated.append({"agent": leg["agent"], "call": leg["call"], "to": number, "seconds": seconds, "events": []})
            continue
        rate, billed, charge = rated
        agents.setdefault(rate.prefix, (rate, []))[1].append({
            "agent": leg["agent"], "call": leg["call"], "started_at": leg["start"], "to": number, "seconds": seconds,
            "billed_seconds": billed, "amount": charge})
    for c in cdrs:
        if str(c["status"]) not in TERMINAL:
            pending.append(c["sid"])
            continue
        for i, leg, number in paid_legs(c):
            seconds = int(round(float(leg["talk"])))
            if (rated := charge_for(tariff, number, seconds)) is None:
                unrated.append({"call": c["sid"], "leg": i, "to": number, "seconds": seconds, "events": c["events"]})
                continue
            rate, billed, charge = rated
            # an employee's own call out (a device dialled the number) is a call to it; else a forward
            (by_rate if c.get("placed_by") else forwarded).setdefault(rate.prefix, (rate, []))[1].append({
                "call": c["sid"], "leg": i, "started_at": leg["start"], "to": number, "seconds": seconds,
                "billed_seconds": billed, "amount": charge, "events": c["events"]})
        if tariff.internal_free and is_internal(c, devices):
            internal.append({"call": c["sid"], "events": c["events"]})
            continue
        counted.append(c["sid"])
        if not str(c["direction"]).startswith("outbound") or not c["answered_at"]:
            continue
        seconds = int(c["duration"] or round(float(c["talk"])))
        if (rated := charge_for(tariff, str(c["to"]), seconds)) is None:
            unrated.append({"call": c["sid"], "to": c["to"], "seconds": seconds, "events": c["events"]})
            continue
        rate, billed, charge = rated
        item = {"call": c["sid"], "started_at": c["t"], "to": c["to"], "seconds": seconds, "billed_seconds": billed,
                "amount": charge, "events": c["events"]}
        by_rate.setdefault(rate.prefix, (rate, []))[1].append(item)
    price, tier = plan_price(len(counted), tariff)
    lines: list[JSON] = [{"kind": "plan", "description": f"Monthly plan {tariff.tariff_id} v{tariff.version}: {tier}",
                          "quantity": len(counted), "unit": "calls", "amount": str(price.quantize(CENTS, ROUND_HALF_UP)),
                          "calls": counted}]
    for kind, groups, what in (("minutes", by_rate, "Calls to"), ("forwarded_minutes", forwarded, "Calls forwarded to"),
                               ("agent_minutes", agents, "Calls to agents' phones at")):
        for prefix in sorted(groups):
            rate, items = groups[prefix]
            total = sum((Decimal(i["amount"]) for i in items), Decimal(0))
            minutes = Decimal(sum(i["billed_seconds"] for i in items)) / SIXTY
            lines.append({"kind": kind, "description": f"{what} {rate.name} (+{prefix})", "prefix": prefix,
                          "rate_per_minute": str(rate.per_minute),
                          "quantity": str(minutes.quantize(CENTS, ROUND_HALF_UP)), "unit": "minutes",
                          "amount": str(total.quantize(CENTS, ROUND_HALF_UP)), "items": items})
    if internal:
        lines.append({"kind": "internal", "description": "Internal calls (free)", "quantity": len(internal),
                      "unit": "calls", "amount": "0.00", "items": internal})
    grand = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    return {"tenant": tenant, "month": month, "currency": tariff.currency,
            "tariff": {"id": tariff.tariff_id, "version": tariff.version, "effective_from": tariff.effective_from},
            "lines": lines, "total": str(grand.quantize(CENTS, ROUND_HALF_UP)), "pending_calls": pending,
            "unrated_calls": unrated}
