"""Managers' figures computed from CDRs: per employee, and our KPIs (missed-call recovery, repeats).

Every figure comes with the call ids behind it (``calls``), so a number on a dashboard drills down
to the calls and, through their CDRs, to the events and recordings.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from domain.projections.base import JSON, seconds_between, utc
from domain.projections.calls import ANSWERED

EMPLOYEE_COUNTS = ("incoming_answered", "incoming_missed", "outgoing_attempted", "outgoing_answered", "transfers")


def day_bounds(tz: str, first: date, last_exclusive: date) -> tuple[str, str]:
    """A period of local days in the tenant's timezone as UTC ISO bounds [start, end)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last_exclusive, time(0), zone)
    return utc(start.isoformat()), utc(end.isoformat())


def device_map(config: Mapping[str, Any]) -> dict[str, str]:
    """Every address of an extension's devices (sip URI, client:identity, number; its follow-me mobile)
    -> extension: the calls they make, and the dials that reach the person there, are the extension's."""
    out: dict[str, str] = {}
    for ext, entry in (config.get("extensions") or {}).items():
        out[str(ext)] = str(ext)
        mobile = ((entry or {}).get("follow_me") or {}).get("mobile")
        if mobile:
            out[str(mobile)] = str(ext)
        for d in (entry or {}).get("devices", ()):
            if d.get("type") == "sip" and d.get("uri"):
                out[str(d["uri"])] = str(ext)
            elif d.get("type") == "client" and d.get("identity"):
                out[f"client:{d['identity']}"] = str(ext)
            elif d.get("number"):
                out[str(d["number"])] = str(ext)
    return out


def call_kind(c: JSON, devices: Mapping[str, str]) -> str:
    """What a manager calls the call: ``internal`` (between the company's own extensions and devices),
    ``outbound`` (placed by the company: from a device, by an API, a call-back), else ``inbound``. The
    gateway's ``direction`` says ``inbound`` for a call a desk phone placed: it is the phone's call to it."""
    if is_internal(c, devices):
        return "internal"
    if str(c["direction"]).startswith("outbound") or c.get("placed_by"):
        return "outbound"
    return "inbound"


def is_internal(c: Mapping[str, Any], devices: Mapping[str, str]) -> bool:
    """Both ends are the tenant's own extensions or devices."""
    return bool(extension_of(str(c["from"]), devices)) and bool(extension_of(str(c["to"]), devices))


def extension_of(address: str, devices: Mapping[str, str]) -> str:
    if address in devices:
        return devices[address]
    bare = address.split(";")[0]
    return devices.get(bare, "")


def _blank() -> JSON:
    return {**{k: 0 for k in EMPLOYEE_COUNTS}, "talk_seconds": 0.0, "talk_average": 0.0, "ring_seconds": 0.0,
            "hold_seconds": 0.0, "calls": {k: [] for k in (*EMPLOYEE_COUNTS, "hold")}}


def employee_stats(cdrs: Iterable[JSON], devices: Mapping[str, str], intervals: Iterable[JSON] = ()) -> dict[str, JSON]:
    """Per extension: incoming answered/missed, outgoing attempted/answered, talk, ring, transfers, hold.

    ``intervals`` are call-center presence intervals (agents projection) that ended in the period:
    queue calls are bridged by the call center, not by a <Dial>, so they are counted from there."""
    out: dict[str, JSON] = {}

    def person(ext: str) -> JSON:
        return out.setdefault(ext, _blank())

    for c in cdrs:
        sid = c["sid"]
        placed = str(c.get("placed_by") or "")  # a device's own call, or one vpbx placed for an extension
        if str(c["direction"]).startswith("outbound") or placed:
            ext = extension_of(str(c["from"]), devices) or placed
            if ext:
                p = person(ext)
                _count(p, "outgoing_attempted", sid)
                if c["answered_at"]:
                    _count(p, "outgoing_answered", sid)
                    p["talk_seconds"] += float(c["talk"])
        # Per extension, one outcome per call: answered if they picked up any of its legs (a follow-me's
        # mobile is the same person as the desk), else missed if a leg that rang them went unanswered
        # (a simultaneous group answered by another member, or by an unknown one, is a miss for nobody).
        # A number an extension's forwarding rule rang is that extension's, unless it is another's device.
        outcome: dict[str, str] = {}
        for leg in c["legs"]:
            by, owner = str(leg["answered_by"]), str(leg.get("forwarded_for") or "")
            who = (extension_of(by, devices) or owner or by) if by else ""
            for target in leg["targets"]:
                ext = extension_of(str(target), devices) or owner or ("" if placed else str(target))
                if not ext:  # a number an employee dialled out to is nobody's incoming call
                    continue
                p = person(ext)
                p["ring_seconds"] += float(leg["ring"])
                if who == ext:
                    outcome[ext] = "incoming_answered"
                    p["talk_seconds"] += float(leg["talk"])
                elif not who and leg["status"] not in ANSWERED:
                    outcome.setdefault(ext, "incoming_missed")
        for ext, metric in outcome.items():
            _count(person(ext), metric, sid)
        picker = extension_of(str(c.get("picked_up_by") or ""), devices) or str(c.get("picked_up_by") or "")
        if picker and not any(leg["answered_by"] for leg in c["legs"]):
            _count(person(picker), "incoming_answered", sid)
        for tr in c.get("transfers") or ():
            if tr.get("by"):
                _count(person(extension_of(str(tr["by"]), devices) or str(tr["by"])), "transfers", sid)
        for hold in c.get("holds") or ():
            if hold.get("by"):
                p = person(extension_of(str(hold["by"]), devices) or str(hold["by"]))
                p["hold_seconds"] += float(hold.get("seconds", 0))
                if sid not in p["calls"]["hold"]:
                    p["calls"]["hold"].append(sid)
    for i in intervals:  # call-center calls: offers rang the agent, bridged calls were talked
        p = person(str(i["agent"]))
        if i["presence"] == "ringing" and i.get("offer") in ("answered", "missed"):
            p["ring_seconds"] += float(i["seconds"])
            if i["offer"] == "missed":
                _count(p, "incoming_missed", str(i["call"]))
        elif i["presence"] == "on_call" and not i.get("open"):
            _count(p, "incoming_answered", str(i["call"]))
            p["talk_seconds"] += float(i["seconds"])
    for p in out.values():
        answered = p["incoming_answered"] + p["outgoing_answered"]
        p["talk_average"] = round(p["talk_seconds"] / answered, 1) if answered else 0.0
        for k in ("talk_seconds", "ring_seconds", "hold_seconds"):
            p[k] = round(p[k], 1)
    return dict(sorted(out.items()))


def _count(p: JSON, metric: str, sid: str) -> None:
    p[metric] += 1
    if sid not in p["calls"][metric]:
        p["calls"][metric].append(sid)


def with_queue_outcomes(cdrs: Iterable[JSON], entries: Iterable[JSON]) -> list[JSON]:
    """CDRs completed with what the call center knows: a caller bridged to an agent from a queue was
    answered (the bridge writes to the queue and agent streams, not to the call's own stream)."""
    answered = {str(e["call"]): e for e in entries if e["outcome"] == "answered"}
    out = []
    for c in cdrs:
        entry = answered.get(str(c["sid"]))
        if entry is not None:
            c = {**c, "queue": {"queue": entry["queue"], "agent": entry["agent"], "wait": entry["wait"]},
                 "answered_at": c["answered_at"] or entry["ended_at"], "outcome": "answered"}
        out.append(c)
    return out


def is_missed(c: JSON) -> bool:
    """An inbound call from outside that nobody answered (an employee's own unanswered call is not one)."""
    return str(c["direction"]) == "inbound" and not c.get("placed_by") and c["outcome"] in ("missed", "voicemail")


def _other_party(c: JSON) -> str:
    """Who the tenant spoke with: the number called on a call out (placed by vpbx or dialled by an
    employee's phone), else the caller."""
    return str(c["to"] if str(c["direction"]).startswith("outbound") or c.get("placed_by") else c["from"])


def recovery(cdrs: Iterable[JSON], since: str, until: str, window_seconds: int = 86400) -> JSON:
    """Share of callers missed in [since, until) who were reached (answered call either way) within the
    window after their first missed call, and the median time from that missed call's end to contact."""
    ordered = sorted(cdrs, key=lambda c: (c["t"], c["sid"]))
    first_missed: dict[str, JSON] = {}
    for c in ordered:
        if since <= c["t"] < until and is_missed(c) and c["from"] not in first_missed:
            first_missed[str(c["from"])] = c
    callers = []
    delays = []
    for number, missed in first_missed.items():
        end = missed["ended_at"] or missed["t"]
        reached = next((c for c in ordered if c["answered_at"] and _other_party(c) == number and c["t"] > missed["t"]
                        and seconds_between(end, c["t"]) <= window_seconds), None)
        entry = {"caller": number, "missed_call": missed["sid"], "reached_by": reached["sid"] if reached else "",
                 "seconds": round(seconds_between(end, reached["t"]), 1) if reached else None}
        if reached:
            delays.append(seconds_between(end, reached["t"]))
        callers.append(entry)
    n = len(callers)
    return {"missed_callers": n, "reached": len(delays), "rate": round(len(delays) / n, 4) if n else None,
            "median_seconds_to_callback": round(statistics.median(delays), 1) if delays else None,
            "window_seconds": window_seconds, "callers": callers}


def repeat_callers(cdrs: Iterable[JSON], since: str, until: str, window_seconds: int = 86400) -> JSON:
    """Inbound calls in [since, until) from a caller who had called in within the previous window."""
    inbound = sorted((c for c in cdrs if c["direction"] == "inbound" and c["from"] and not c.get("placed_by")),
                     key=lambda c: (c["t"], c["sid"]))
    last: dict[str, str] = {}
    counted = 0
    repeats: list[str] = []
    numbers: set[str] = set()
    for c in inbound:
        prev = last.get(c["from"])
        if since <= c["t"] < until:
            counted += 1
            if prev and seconds_between(prev, c["t"]) <= window_seconds:
                repeats.append(c["sid"])
                numbers.add(c["from"])
        last[c["from"]] = c["t"]
    return {"inbound_calls": counted, "repeat_calls": len(repeats), "repeat_callers": len(numbers),
            "rate": round(len(repeats) / counted, 4) if counted else None, "window_seconds": window_seconds,
            "calls": repeats}


