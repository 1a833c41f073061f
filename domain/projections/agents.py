"""Agent presence over time, folded from ``agent-<tenant>-<ext>`` streams.

Invariant: an agent's presence intervals tile time without overlap: each event that changes the
presence closes the running interval (a row) and opens the next; a wrap-up that ran out before the
next event is split into wrap_up then available at ``wrapup_until``. State is one small record per
agent; intervals are output rows, never kept in memory.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.projections.base import JSON, Row, StoredEvent, StreamProjection, get, seconds_between, utc

CONTACT = ("on_call", "wrap_up")
Handler = Callable[[JSON, StoredEvent], JSON]


def presence(s: JSON, at: str) -> str:
    """Same precedence as the call center's own fold (domain/callcenter/agents.py)."""
    if not s["logged_in"]:
        return "logged_out"
    if s["offer"]:
        return "ringing"
    if s["call_sid"]:
        return "on_call"
    if s["dnd"]:
        return "dnd"
    if s["paused"]:
        return "paused"
    if s["wrapup_until"] and s["wrapup_until"] > at:
        return "wrap_up"
    return "available"


def _agent(e: StoredEvent) -> str:
    return str(get(e.data, "agent")) or e.stream_id.rsplit("-", 1)[-1]


HANDLERS: dict[str, Handler] = {
    "AgentLoggedIn": lambda s, e: {**s, "logged_in": True},
    "AgentLoggedOut": lambda s, e: {**s, "logged_in": False, "offer": None},
    "AgentPaused": lambda s, e: {**s, "paused": True, "reason": get(e.data, "reason")},
    "AgentUnpaused": lambda s, e: {**s, "paused": False, "reason": ""},
    "AgentDndChanged": lambda s, e: {**s, "dnd": bool(e.data.get("dnd"))},
    "AgentOffered": lambda s, e: {**s, "offer": {"id": get(e.data, "offer_id"), "call": get(e.data, "call_sid"),
                                                 "queue": get(e.data, "queue")}},
    "AgentOfferMissed": lambda s, e: ({**s, "offer": None, "missed": s["missed"] + 1}
                                      if s["offer"] and s["offer"]["id"] == get(e.data, "offer_id") else s),
    # where the agent's leg rings (kept with the offer, then with the call: a phone number is a paid leg)
    "AgentLegPlaced": lambda s, e: ({**s, "offer": {**s["offer"], "to": str(get(e.data, "address"))}}
                                    if s["offer"] and s["offer"]["id"] == get(e.data, "offer_id") else s),
    "AgentConnected": lambda s, e: {**s, "offer": None, "call_sid": get(e.data, "call_sid"),
                                    "queue": get(e.data, "queue"), "call_to": (s["offer"] or {}).get("to", "")},
    "AgentCallEnded": lambda s, e: {**s, "call_sid": "", "call_to": "",
                                    "wrapup_until": utc(str(get(e.data, "wrapup_until"))),
                                    "last_queue": s["queue"] or get(e.data, "queue"), "queue": "",
                                    "handled": s["handled"] + 1},
}


def evolve(state: JSON | None, e: StoredEvent) -> tuple[JSON, list[Row]]:
    at = utc(str(get(e.data, "at"))) or utc(e.occurred_at)
    s = state or {"tenant": e.tenant_id, "agent": _agent(e), "t": "", "logged_in": False, "paused": False,
                  "reason": "", "dnd": False, "offer": None, "call_sid": "", "queue": "", "last_queue": "",
                  "wrapup_until": "", "presence": "logged_out", "since": at, "since_v": e.version, "missed": 0,
                  "handled": 0}
    before = s["presence"]
    rows: list[Row] = []
    since = s["since"]
    if before == "wrap_up" and s["wrapup_until"] and s["wrapup_until"] <= at:
        if s["wrapup_until"] > since:
            rows.append(_interval(e, s, "wrap_up", since, s["wrapup_until"]))
        before, since = "available", s["wrapup_until"]
    new = HANDLERS[e.event_type](s, e)
    after = presence(new, at)
    if after != before or after == "on_call" and new["call_sid"] != s["call_sid"]:
        rows.append(_interval(e, s, before, since, at))
        new = {**new, "since": at, "since_v": e.version}
    elif since != s["since"]:
        new = {**new, "since": since}
    return {**new, "presence": after, "t": new["since"]}, rows


def _interval(e: StoredEvent, s: JSON, state: str, start: str, end: str) -> Row:
    offer = s["offer"] or {}
    queue = {"on_call": s["queue"], "ringing": offer.get("queue", ""), "wrap_up": s["last_queue"]}.get(state, "")
    call = {"on_call": s["call_sid"], "ringing": offer.get("call", "")}.get(state, "")
    doc = {"agent": s["agent"], "presence": state, "start": start, "end": end,
           "seconds": round(seconds_between(start, end), 3), "queue": queue, "call": call}
    if state == "ringing":  # how the offer ended: the employee figures count missed offers
        doc["offer"] = {"AgentConnected": "answered", "AgentOfferMissed": "missed"}.get(e.event_type, "withdrawn")
    if state == "on_call":  # the agent's leg: where it rang, and how long the gateway says it lasted
        doc["to"] = str(s.get("call_to") or "")
        doc["leg_seconds"] = int(get(e.data, "talk_seconds", 0) or 0) if e.event_type == "AgentCallEnded" else 0
    return (f"{e.stream_id}:{start}:{int(s['since_v']):010d}", e.tenant_id, start, doc)


def projection() -> StreamProjection:
    return StreamProjection(name="agents", prefixes=("agent-",), handles=frozenset(HANDLERS), evolve=evolve,
                            closed=lambda s: False)
