"""Tariffs as versioned data: a monthly plan priced by call volume, per-minute rates by prefix.

Invariant: every amount is a Decimal parsed from a string (never a float); a tariff that fails
validation raises ValueError naming the field, so a bad file never rates a single call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True, slots=True)
class Tier:
    up_to: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class Rate:
    prefix: str
    per_minute: Decimal
    name: str


@dataclass(frozen=True, slots=True)
class Tariff:
    tariff_id: str
    version: int
    effective_from: str  # first month (YYYY-MM) this version applies to
    currency: str
    tiers: tuple[Tier, ...]
    over_per_call: Decimal
    rates: Mapping[str, Rate]
    increment_seconds: int
    minimum_seconds: int
    internal_free: bool

    def rate_for(self, number: str) -> Rate | None:
        """Longest matching prefix of the destination's digits."""
        digits = number.lstrip("+")
        for n in range(min(len(digits), self.longest_prefix), 0, -1):
            rate = self.rates.get(digits[:n])
            if rate is not None:
                return rate
        return None

    @property
    def longest_prefix(self) -> int:
        return max((len(p) for p in self.rates), default=0)


def _money(value: Any, field: str) -> Decimal:
    if isinstance(value, float) or isinstance(value, bool):
        raise ValueError(f"{field}: write money as a string (e.g. \"0.010\"), not {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{field}: not a decimal amount: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{field}: must be a finite amount >= 0, got {value!r}")
    return amount


def _int(doc: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    value = doc.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: must be an integer >= {minimum}, got {value!r}")
    return value


def parse_tariff(doc: Mapping[str, Any]) -> Tariff:
    """One tariff version from its JSON document."""
    if not isinstance(doc, Mapping):
        raise ValueError("tariff: expected a JSON object")
    tariff_id = doc.get("id")
    if not isinstance(tariff_id, str) or not tariff_id:
        raise ValueError("id: a tariff needs a non-empty string id")
    month = str(doc.get("effective_from", "0000-01"))
    if len(month) != 7 or month[4] != "-":
        raise ValueError(f"effective_from: expected YYYY-MM, got {month!r}")
    plan = doc.get("plan") or {}
    tiers: list[Tier] = []
    for i, t in enumerate(plan.get("tiers") or ()):
        up_to = t.get("up_to")
        if not isinstance(up_to, int) or up_to < 1 or (tiers and up_to <= tiers[-1].up_to):
            raise ValueError(f"plan.tiers[{i}].up_to: must be an integer above the previous tier, got {up_to!r}")
        tiers.append(Tier(up_to, _money(t.get("price"), f"plan.tiers[{i}].price")))
    if not tiers:
        raise ValueError("plan.tiers: at least one volume tier is needed")
    rates: dict[str, Rate] = {}
    for i, r in enumerate(doc.get("rates") or ()):
        prefix = str(r.get("prefix", ""))
        if not prefix.isdigit():
            raise ValueError(f"rates[{i}].prefix: digits only (country code first), got {prefix!r}")
        if prefix in rates:
            raise ValueError(f"rates[{i}].prefix: {prefix} listed twice")
        rates[prefix] = Rate(prefix, _money(r.get("per_minute"), f"rates[{i}].per_minute"), str(r.get("name", prefix)))
    return Tariff(tariff_id=tariff_id, version=_int(doc, "version", 1, 1), effective_from=month,
                  currency=str(doc.get("currency", "USD")), tiers=tuple(tiers),
                  over_per_call=_money(plan.get("over_last_tier_per_call", "0"), "plan.over_last_tier_per_call"),
                  rates=rates, increment_seconds=_int(doc, "billing_increment_seconds", 60, 1),
                  minimum_seconds=_int(doc, "minimum_seconds", 0, 0),
                  internal_free=bool(doc.get("internal_free", True)))


def parse_versions(doc: Any) -> list[Tariff]:
    """A tariff file: one version object, or ``{"versions": [...]}`` in any order."""
    docs = doc.get("versions") if isinstance(doc, Mapping) and "versions" in doc else [doc]
    if not isinstance(docs, list) or not docs:
        raise ValueError("versions: expected a non-empty list of tariff versions")
    versions = sorted((parse_tariff(d) for d in docs), key=lambda t: (t.effective_from, t.version))
    return versions


def version_for(versions: list[Tariff], month: str) -> Tariff:
    """The latest version in effect for a month (YYYY-MM)."""
    usable = [t for t in versions if t.effective_from <= month]
    if not usable:
        raise ValueError(f"no version of tariff {versions[0].tariff_id!r} is in effect in {month}")
    return usable[-1]
