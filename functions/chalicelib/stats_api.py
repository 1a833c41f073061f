"""Statistics, CDRs and the live view: ``/api/v1/tenants/{tenant}/stats/...``, ``/cdrs``, ``/live``.

Every view first folds whatever the log holds past the projections' checkpoints (``catch_up``),
then reads the projections database; nothing here scans the event log itself. Periods are local
days in the tenant's timezone: ``from`` and ``to`` (inclusive), YYYY-MM-DD.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import TENANT, ApiError, endpoint, json_response
from chalicelib.bootstrap import Services, get_services
from chalicelib.projections.follower import catch_up
from chalicelib.projections.log import projection_store
from chalicelib.projections.store import SQLiteProjectionStore
from domain.projections import queue_stats as qs
from domain.projections.base import shift, utc
from domain.projections.stats import (
    call_kind,
    day_bounds,
    device_map,
    employee_stats,
    extension_of,
    recovery,
    repeat_callers,
    with_queue_outcomes,
)
from domain.tenant import TenantSnapshot

bp = Blueprint(__name__)
JSONish = dict[str, Any]
PERIOD = {"from": "first local day, YYYY-MM-DD (default today)", "to": "last local day, inclusive (default from)"}
LIVE_HOURS = 12
CSV_COLUMNS = ("sid", "t", "direction", "from", "to", "outcome", "status", "answered_at", "ended_at", "duration",
               "ring", "talk", "hold", "extensions", "answered_by", "voicemail", "recordings", "events", "kind")


def _context(tenant: str) -> tuple[Services, TenantSnapshot, SQLiteProjectionStore]:
    services = get_services()
    snapshot = services.tenants.get(tenant)
    if snapshot is None:
        raise ApiError(404, f"unknown tenant {tenant!r}")
    catch_up(services)
    return services, snapshot, projection_store(services)


def _day(params: dict[str, str], name: str, default: date) -> date:
    raw = params.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name}: expected a date YYYY-MM-DD, got {raw!r}", f"/query/{name}") from None


def period(services: Services, snapshot: TenantSnapshot, params: dict[str, str]) -> tuple[str, str, JSONish]:
    from zoneinfo import ZoneInfo

    today = services.clock().astimezone(ZoneInfo(snapshot.timezone)).date()
    first = _day(params, "from", today)
    last = _day(params, "to", first)
    if last < first:
        raise ApiError(400, "to: must not be before from", "/query/to")
    since, until = day_bounds(snapshot.timezone, first, last + timedelta(days=1))
    return since, until, {"from": first.isoformat(), "to": last.isoformat(), "timezone": snapshot.timezone,
                          "utc_from": since, "utc_until": until}



def _query(request: Any) -> dict[str, str]:
    return dict(request.query_params or {})


@endpoint(bp, "GET", TENANT + "/stats/employees", summary="Per-extension figures for a period", tag="statistics",
          permission="stats.read", query=PERIOD)
def employees(tenant: str, principal: Any) -> JSONish:
    services, snapshot, out = _context(tenant)
    since, until, p = period(services, snapshot, _query(bp.current_request))
    cdrs = out.states("calls", tenant, since, until)
    intervals = [i for i in out.rows("agents", tenant) if since <= i["end"] < until]
    return {"period": p, "employees": employee_stats(cdrs, device_map(snapshot.config), intervals)}


@endpoint(bp, "GET", TENANT + "/stats/kpis", summary="Missed-call recovery and repeat callers", tag="statistics",
          permission="stats.read", query={**PERIOD, "window": "seconds (default 86400)"})
def kpis(tenant: str, principal: Any) -> JSONish:
    services, snapshot, out = _context(tenant)
    params = _query(bp.current_request)
    since, until, p = period(services, snapshot, params)
    try:
        window = int(params.get("window", "86400"))
    except ValueError:
        raise ApiError(400, "window: a whole number of seconds", "/query/window") from None
    # callbacks can happen after the period, repeats look back before it
    cdrs = with_queue_outcomes(out.states("calls", tenant, shift(since, -window), shift(until, window)),
                               out.rows("queues", tenant))
    return {"period": p, "missed_call_recovery": recovery(cdrs, since, until, window),
            "repeat_callers": repeat_callers(cdrs, since, until, window)}


def _intervals(out: SQLiteProjectionStore, tenant: str, now: str) -> list[JSONish]:
    closed = out.rows("agents", tenant)
    running = [i for s in out.states("agents", tenant) for i in qs.open_intervals(s, now)]
    return closed + running


@endpoint(bp, "GET", TENANT + "/stats/queues", summary="Per-queue contact-center figures", tag="statistics",
          permission="stats.read", query=PERIOD)
def queues(tenant: str, principal: Any) -> JSONish:
    services, snapshot, out = _context(tenant)
    since, until, p = period(services, snapshot, _query(bp.current_request))
    now = services.clock().isoformat(timespec="microseconds")
    entries = out.rows("queues", tenant)
    states = {s["queue"]: s for s in out.states("queues", tenant)}
    intervals = _intervals(out, tenant, now)
    callbacks = out.rows("callbacks", tenant)
    config = snapshot.section("queues")
    names = sorted(set(config) | set(states) | {e["queue"] for e in entries})
    result = {}
    for q in names:
        try:
            settings = qs.queue_settings(snapshot.config, q)
        except ValueError as exc:
            raise ApiError(422, str(exc)) from None
        members = [m if isinstance(m, str) else str(m.get("agent")) for m in (config.get(q) or {}).get("members", ())]
        waiting = list((states.get(q) or {}).get("waiting", {}).values())
        result[q] = qs.queue_stats(q, entries, waiting, intervals, callbacks, members, settings, since=since,
                                   until=until, now=now)
    return {"period": p, "queues": result}


@endpoint(bp, "GET", TENANT + "/stats/agents", summary="Per-agent presence time, calls handled, occupancy",
          tag="statistics", permission="stats.read", query=PERIOD)
def agents(tenant: str, principal: Any) -> JSONish:
    services, snapshot, out = _context(tenant)
    since, until, p = period(services, snapshot, _query(bp.current_request))
    now = services.clock().isoformat(timespec="microseconds")
    return {"period": p, "agents": qs.agent_stats(_intervals(out, tenant, now), since=since, until=until)}


def filter_cdrs(cdrs: list[JSONish], params: dict[str, str], devices: dict[str, str]) -> list[JSONish]:
    wanted = {s for s in params.get("calls", "").split(",") if s}
    out = []
    for c in cdrs:
        if wanted and c["sid"] not in wanted:
            continue
        if params.get("direction") and call_kind(c, devices) != params["direction"]:
            continue
        if params.get("outcome") and c["outcome"] != params["outcome"]:
            continue
        if params.get("number") and params["number"] not in (c["from"], c["to"]):
            continue
        if params.get("extension") and params["extension"] not in extensions(c, devices):
            continue
        out.append(c)
    return out


def extensions(c: JSONish, devices: dict[str, str]) -> list[str]:
    found = [str(t) for leg in c["legs"] for t in leg["targets"]]
    found += [str(leg["forwarded_for"]) for leg in c["legs"] if leg.get("forwarded_for")]
    if c.get("queue") and c["queue"].get("agent"):
        found.append(str(c["queue"]["agent"]))
    own = extension_of(str(c["from"]), devices) or str(c.get("placed_by") or "")
    return sorted(set(found + ([own] if own else [])))


def answerers(c: JSONish, devices: dict[str, str]) -> list[str]:
    """Who picked up the call: each answered dial's member (its answer URL said), a queue call's agent."""
    found = [extension_of(str(leg["answered_by"]), devices) or str(leg.get("forwarded_for") or "")
             or str(leg["answered_by"]) for leg in c["legs"] if leg["answered_by"]]
    if c.get("queue") and c["queue"].get("agent"):
        found.append(str(c["queue"]["agent"]))
    return list(dict.fromkeys(found))


def to_csv(cdrs: list[JSONish], devices: dict[str, str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for c in cdrs:
        w.writerow([c["sid"], c["t"], c["direction"], c["from"], c["to"], c["outcome"], c["status"], c["answered_at"],
                    c["ended_at"], c["duration"], c["ring"], c["talk"], c["hold"], " ".join(extensions(c, devices)),
                    " ".join(answerers(c, devices)), (c["voicemail"] or {}).get("url", ""), " ".join(c["recordings"]),
                    len(c["events"]), call_kind(c, devices)])
    return buf.getvalue()


@endpoint(bp, "GET", TENANT + "/cdrs", summary="Call detail records (filters; CSV with format=csv)", tag="statistics",
          permission="cdrs.read", query={**PERIOD, "direction": "inbound|outbound|internal (what the call is to the company)",
                                         "outcome": "answered|missed|...",
                                         "extension": "extension id", "number": "caller or callee",
                                         "calls": "comma-separated call ids (drill-down)", "format": "json|csv"})
def cdrs(tenant: str, principal: Any) -> Any:
    services, snapshot, out = _context(tenant)
    params = _query(bp.current_request)
    since, until, p = period(services, snapshot, params) if (params.get("from") or not params.get("calls")) \
        else ("", "", {})
    devices = device_map(snapshot.config)
    rows = filter_cdrs(with_queue_outcomes(out.states("calls", tenant, since, until), out.rows("queues", tenant)),
                       params, devices)
    if params.get("format") == "csv":
        return Response(body=to_csv(rows, devices), status_code=200,
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": f'attachment; filename="cdrs-{tenant}.csv"'})
    return {"period": p, "count": len(rows),
            "cdrs": [{**c, "answered_by": answerers(c, devices), "kind": call_kind(c, devices)} for c in rows]}


@endpoint(bp, "GET", TENANT + "/live", summary="Live calls, who talks to whom, agents by state, queue sizes",
          tag="statistics", permission="live.read", query={"since": "cursor from the previous answer"})
def live(tenant: str, principal: Any) -> Any:
    services, snapshot, out = _context(tenant)
    request = bp.current_request
    cursor = ".".join(out.max_pos(name, tenant) or "0" for name in ("calls", "agents", "queues"))
    etag = f'"{cursor}"'
    if (request.headers or {}).get("if-none-match") == etag:
        return Response(body="", status_code=304, headers={"ETag": etag})
    since = (_query(request).get("since") or "").split(".")
    after = [since[i] if len(since) == 3 and since[i] != "0" else "" for i in range(3)]
    incremental = any(after)
    now = services.clock().isoformat(timespec="microseconds")
    # a call whose final status callback never came stays "open" in its CDR: show it for LIVE_HOURS only;
    # changes since a cursor are looked for in the same window (read by time on both stores, not all CDRs)
    recent = shift(utc(now), -LIVE_HOURS * 3600)
    calls = list(out.states("calls", tenant, since_t=recent, after_pos=after[0], open_only=not incremental))
    agent_states = list(out.states("agents", tenant, after_pos=after[1]))
    queue_states = list(out.states("queues", tenant, after_pos=after[2]))
    by_sid = {c["sid"]: c for c in calls}
    # an agent on a call vpbx placed for them (click-to-call, a callback) talks with whom it called
    placed = {c["placed_by"]: c["to"] for c in calls if c.get("placed_by") and not c["ended_at"]}
    talks = [{"agent": a["agent"], "call": a["call_sid"],
              "with": by_sid[a["call_sid"]]["from"] if a["call_sid"] in by_sid else placed.get(a["agent"], ""),
              "queue": a["queue"]} for a in agent_states if a["call_sid"]]
    # a dialled extension (or number) that picked up, while the dial lasts (its answer URL said who)
    talks += [{"agent": d["answered_by"], "call": c["sid"], "with": c.get("placed_by") or c["from"], "queue": ""}
              for c in calls if not c["ended_at"] and (d := c["dialing"] or {}).get("answered_by")]
    body = {
        "cursor": cursor, "incremental": incremental, "now": now,
        "calls": [{"sid": c["sid"], "from": c["from"], "to": c["to"], "direction": c["direction"],
                   "status": c["status"], "outcome": c["outcome"], "started_at": c["t"], "ended": bool(c["ended_at"]),
                   "ringing": [] if (c["dialing"] or {}).get("answered_by") else (c["dialing"] or {}).get("targets", [])}
                  for c in calls],
        "talking": talks,
        "agents": {a["agent"]: qs.open_intervals(a, now)[-1]["presence"] for a in agent_states},
        "queues": {q["queue"]: {"waiting": sum(1 for w in q["waiting"].values()
                                               if w["kind"] == "caller" and not w["callback"]),
                                "callbacks_waiting": sum(1 for w in q["waiting"].values()
                                                         if w["kind"] == "callback" or w["callback"])}
                   for q in queue_states},
    }
    return json_response(body, 200, {"ETag": etag, "Cache-Control": "no-cache"})


SETTINGS_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "service_level": {"type": "object", "additionalProperties": False, "properties": {
            "formula": {"enum": sorted(qs.SL_FORMULAS)}, "threshold_seconds": {"type": "integer", "minimum": 0}}},
        "short_abandon_seconds": {"type": "integer", "minimum": 0},
        "queues": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": False, "properties": {
                "service_level": {"type": "object", "additionalProperties": False, "properties": {
                    "formula": {"enum": sorted(qs.SL_FORMULAS)},
                    "threshold_seconds": {"type": "integer", "minimum": 0}}},
                "short_abandon_seconds": {"type": "integer", "minimum": 0}}}},
        "billing_tariff": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
    },
}


def _settings_view(snapshot: TenantSnapshot) -> JSONish:
    view = dict(snapshot.section("statistics"))
    tariff = snapshot.section("billing").get("tariff")
    if tariff:
        view["billing_tariff"] = tariff
    return view


@endpoint(bp, "GET", TENANT + "/stats/settings", summary="Service-level formula and thresholds, billing tariff",
          tag="statistics", permission="config.read", response=SETTINGS_SCHEMA)
def get_stats_settings(tenant: str, principal: Any) -> JSONish:
    from chalicelib.api.state import current

    return _settings_view(current(get_services(), tenant))


@endpoint(bp, "PATCH", TENANT + "/stats/settings", summary="Choose the service-level formula, thresholds, tariff "
          "(JSON merge-patch)", tag="statistics", permission="config.write", request=SETTINGS_SCHEMA,
          response=SETTINGS_SCHEMA)
def patch_stats_settings(tenant: str, principal: Any) -> JSONish:
    from chalicelib.api.http import json_body
    from chalicelib.api.state import change
    from chalicelib.api.validation import validate
    from domain.tenant import TenantConfigPatched, merge_patch

    body = json_body(bp.current_request)
    if not isinstance(body, dict):
        raise ApiError(422, "a merge-patch must be a JSON object")

    def decide(snapshot: TenantSnapshot) -> list[TenantConfigPatched]:
        validate(SETTINGS_SCHEMA, merge_patch(_settings_view(snapshot), body))
        patch = {k: v for k, v in body.items() if k != "billing_tariff"}
        events = [TenantConfigPatched(path=["statistics"], patch=patch, actor=principal.actor)] if patch else []
        if "billing_tariff" in body:
            from chalicelib.billing_api import TARIFFS

            if not (TARIFFS / f"{body['billing_tariff']}.json").is_file():
                raise ApiError(422, f"no tariff {body['billing_tariff']!r}", "/json/billing_tariff")
            events.append(TenantConfigPatched(path=["billing"], patch={"tariff": body["billing_tariff"]},
                                              actor=principal.actor))
        return events

    return _settings_view(change(get_services(), tenant, decide, "statistics settings"))
