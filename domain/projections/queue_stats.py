"""Contact-center figures per queue and per agent, from the queue, agent and callback projections.

Definitions (docs/statistics.md has them with sources):
- offered: callers (not scheduled callback tasks) who joined the queue in the period, including those
  still waiting; refused = blocked (never joined);
- answered / abandoned: entries that ended assigned to an agent / with reason ``abandoned``; a caller
  who asked for a callback while waiting is never counted as abandoned;
- short abandoned: abandoned after waiting at most ``short_abandon_seconds``;
- service level: the tenant's formula (SL_FORMULAS) with its threshold T in seconds;
- ASA: total wait of answered callers / answered; longest wait now: the oldest caller still waiting;
- AHT: (talk + wrap-up) seconds of the queue's calls / calls handled; occupancy: (on call + wrap-up) /
  (on call + wrap-up + available + ringing) of the queue's member agents, intervals clipped to the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.projections.base import JSON, seconds_between

SL_FORMULAS = {
    "offered": "answered within T / (offered - short abandoned)",
    "answered": "answered within T / answered",
    "answered_and_abandoned": "(answered within T + abandoned within T) / (answered + abandoned)",
}
CONTACT = ("on_call", "wrap_up")
STAFFED = ("on_call", "wrap_up", "available", "ringing")


def queue_settings(config: Mapping[str, Any], queue: str) -> JSON:
    """The tenant's statistics settings (``statistics`` section), with per-queue overrides."""
    stats = config.get("statistics") or {}
    own = (stats.get("queues") or {}).get(queue) or {}
    sl = {**(stats.get("service_level") or {}), **(own.get("service_level") or {})}
    formula = str(sl.get("formula", "offered"))
    if formula not in SL_FORMULAS:
        raise ValueError(f"statistics.service_level.formula: one of {', '.join(SL_FORMULAS)}, got {formula!r}")
    threshold = sl.get("threshold_seconds", 20)
    short = own.get("short_abandon_seconds", stats.get("short_abandon_seconds", 5))
    for name, value in (("statistics.service_level.threshold_seconds", threshold),
                        ("statistics.short_abandon_seconds", short)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name}: a whole number of seconds >= 0, got {value!r}")
    return {"formula": formula, "threshold_seconds": threshold, "short_abandon_seconds": short}


def clip(interval: Mapping[str, Any], since: str, until: str) -> float:
    start = max(str(interval["start"]), since)
    end = min(str(interval["end"]), until)
    return seconds_between(start, end) if end > start else 0.0


def service_level(formula: str, t: int, answered: list[JSON], abandoned: list[JSON], offered: int,
                  short: int) -> float | None:
    within = sum(1 for a in answered if a["wait"] <= t)
    if formula == "answered":
        num, den = within, len(answered)
    elif formula == "answered_and_abandoned":
        num, den = within + sum(1 for a in abandoned if a["wait"] <= t), len(answered) + len(abandoned)
    else:
        num, den = within, offered - short
    return round(num / den, 4) if den > 0 else None


def queue_stats(queue: str, entries: Iterable[JSON], waiting: Iterable[JSON], intervals: Iterable[JSON],
                callbacks: Iterable[JSON], members: Iterable[str], settings: Mapping[str, Any], *, since: str,
                until: str, now: str) -> JSON:
    rows = [e for e in entries if e["queue"] == queue and since <= e["queued_at"] < until]
    waiting = list(waiting)
    still = [{"call": w["call"], "queued_at": w["at"], "outcome": "waiting", "callback": w["callback"]}
             for w in waiting if w["kind"] == "caller" and since <= w["at"] < until]
    callers = [e for e in rows if e["kind"] == "caller" and e["outcome"] != "refused"] + still
    answered = [e for e in callers if e["outcome"] == "answered"]
    abandoned = [e for e in callers if e["outcome"] == "abandoned" and not e["callback"]]
    short = [e for e in abandoned if e["wait"] <= settings["short_abandon_seconds"]]
    refused = [e for e in rows if e["outcome"] == "refused"]
    on_line = [w for w in waiting if w["kind"] == "caller" and not w["callback"]]
    longest = max((seconds_between(str(w["at"]), now) for w in on_line), default=0.0)
    own = [i for i in intervals if i["queue"] == queue]
    talk = sum(clip(i, since, until) for i in own if i["presence"] == "on_call")
    acw = sum(clip(i, since, until) for i in own if i["presence"] == "wrap_up")
    handled = len({i["call"] for i in own if i["presence"] == "on_call" and not i.get("open")
                   and since <= i["end"] < until})
    staff = set(members)
    mine = [i for i in intervals if i["agent"] in staff]
    contact = sum(clip(i, since, until) for i in mine if i["presence"] in CONTACT)
    staffed = sum(clip(i, since, until) for i in mine if i["presence"] in STAFFED)
    cbs = [c for c in callbacks if c["queue"] == queue and since <= c["requested_at"] < until]
    connected = [c for c in cbs if c["how"] == "reached"]
    t = int(settings["threshold_seconds"])
    return {
        "queue": queue, "offered": len(callers), "answered": len(answered), "abandoned": len(abandoned),
        "short_abandoned": len(short), "refused": len(refused),
        "service_level": service_level(settings["formula"], t, answered, abandoned, len(callers), len(short)),
        "service_level_formula": SL_FORMULAS[settings["formula"]], "service_level_threshold_seconds": t,
        "asa_seconds": round(sum(a["wait"] for a in answered) / len(answered), 1) if answered else None,
        "waiting_now": len(on_line), "longest_wait_now_seconds": round(longest, 1),
        "aht_seconds": round((talk + acw) / handled, 1) if handled else None, "handled": handled,
        "occupancy": round(contact / staffed, 4) if staffed else None,
        "callbacks_requested": len(cbs), "callbacks_connected": len(connected),
        "calls": {"offered": [e["call"] for e in callers], "answered": [e["call"] for e in answered],
                  "abandoned": [e["call"] for e in abandoned], "short_abandoned": [e["call"] for e in short],
                  "refused": [e["call"] for e in refused],
                  "callbacks_requested": [c["source_call"] or c["task"] for c in cbs]},
    }


def agent_stats(intervals: Iterable[JSON], *, since: str, until: str) -> dict[str, JSON]:
    """Seconds per presence, calls handled and occupancy per agent, intervals clipped to the period."""
    out: dict[str, JSON] = {}
    for i in intervals:
        a = out.setdefault(str(i["agent"]), {"seconds": {}, "handled": 0, "calls": []})
        secs = clip(i, since, until)
        a["seconds"][i["presence"]] = round(a["seconds"].get(i["presence"], 0.0) + secs, 3)
        ended = not i.get("open") and since <= i["end"] < until
        if i["presence"] == "on_call" and ended and i["call"] not in a["calls"]:
            a["handled"] += 1
            a["calls"].append(i["call"])
    for a in out.values():
        s = a["seconds"]
        contact = sum(s.get(k, 0.0) for k in CONTACT)
        staffed = sum(s.get(k, 0.0) for k in STAFFED)
        a["occupancy"] = round(contact / staffed, 4) if staffed else None
    return dict(sorted(out.items()))


def open_intervals(state: Mapping[str, Any], now: str) -> list[JSON]:
    """The agent's running presence as intervals ending now (a wrap-up that ran out, then available)."""
    presence, start = str(state["presence"]), str(state["since"])
    out: list[JSON] = []
    if presence == "wrap_up" and state["wrapup_until"] and state["wrapup_until"] <= now:
        out.append(_interval(state, "wrap_up", start, str(state["wrapup_until"]), str(state["last_queue"])))
        presence, start = "available", str(state["wrapup_until"])
    queue = state["queue"] if presence in ("on_call", "ringing") else (state["last_queue"] if presence == "wrap_up"
                                                                       else "")
    out.append(_interval(state, presence, start, now, str(queue)))
    return out


def _interval(state: Mapping[str, Any], presence: str, start: str, end: str, queue: str) -> JSON:
    return {"agent": state["agent"], "presence": presence, "start": start, "end": end,
            "seconds": round(seconds_between(start, end), 3), "queue": queue,
            "call": state["call_sid"] if presence == "on_call" else "", "open": True}
