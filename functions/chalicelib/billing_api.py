"""Invoices from the calls projection: ``build_invoice`` (shell) and ``GET .../bills/{month}``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from chalice import Blueprint

from chalicelib.api.http import TENANT, ApiError, endpoint
from chalicelib.bootstrap import Services, get_services
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import projection_store
from domain.billing.rating import rate_month
from domain.billing.tariff import Tariff, parse_versions, version_for
from domain.projections.stats import day_bounds, device_map

TARIFFS = Path(__file__).resolve().parents[2] / "domain" / "billing" / "tariffs"
bp = Blueprint(__name__)


def month_bounds(month: str) -> tuple[date, date]:
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError as exc:
        raise ValueError(f"month: expected YYYY-MM, got {month!r}") from exc
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def load_tariff(ref: str, month: str) -> Tariff:
    """A tariff by id (a file in domain/billing/tariffs) or by path to a JSON file."""
    path = Path(ref) if ref.endswith(".json") else TARIFFS / f"{ref}.json"
    if not path.is_file():
        raise ValueError(f"tariff: no tariff file {str(path)!r}")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"tariff: {path} is not valid JSON: {exc}") from exc
    return version_for(parse_versions(doc), month)


def build_invoice(services: Services, tenant_id: str, month: str, tariff: str | None = None) -> dict[str, Any]:
    snapshot = services.tenants.get(tenant_id)
    if snapshot is None:
        raise LookupError(f"unknown tenant {tenant_id!r}")
    first, nxt = month_bounds(month)
    chosen = tariff or str(snapshot.section("billing").get("tariff") or "standard")
    rated_under = load_tariff(chosen, month)
    catch_up(services)
    since, until = day_bounds(snapshot.timezone, first, nxt)
    out = projection_store(services)
    cdrs = out.states("calls", tenant_id, since, until)
    return rate_month(cdrs, rated_under, tenant=tenant_id, month=month, devices=device_map(snapshot.config),
                      agent_legs=out.rows("agents", tenant_id, since, until))


@endpoint(bp, "GET", TENANT + "/bills/{month}", summary="A month's invoice (re-rate with ?tariff=ID)", tag="billing",
          permission="billing.read", query={"tariff": "another tariff id", "details": "1: per-call items"})
def get_bill(tenant: str, month: str, principal: Any) -> dict[str, Any]:
    params = dict(bp.current_request.query_params or {})
    tariff = params.get("tariff")
    if tariff is not None and (not tariff.replace("-", "").replace("_", "").isalnum()):
        raise ApiError(400, "tariff: a tariff id (letters, digits, - and _)", "/query/tariff")
    try:
        invoice = build_invoice(get_services(), tenant, month, tariff)
    except LookupError as exc:
        raise ApiError(404, str(exc)) from None
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return invoice if params.get("details") in ("1", "true") else summary(invoice)


def summary(invoice: dict[str, Any]) -> dict[str, Any]:
    """The invoice without per-call items (call ids stay on each line for drill-down)."""
    lines = []
    for line in invoice["lines"]:
        slim = {k: v for k, v in line.items() if k != "items"}
        if "items" in line:
            slim["calls"] = [i["call"] for i in line["items"]]
        lines.append(slim)
    return {**invoice, "lines": lines}
