"""Time of day: branch on a tenant schedule (weekly hours + holidays) in the tenant's time zone.

Holidays are ``YYYY-MM-DD`` (that day) or ``MM-DD`` (that day every year).
Branches: ``open``, ``closed``, ``holiday`` (falls back to ``closed`` when the plan has no
``holiday`` child). The local time the decision used is recorded in the step inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.actions.base import Context, Continue, Outcome, SimpleAction, register
from domain.routing.plan import Node

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def schedule_state(schedule: Mapping[str, Any], local_now: datetime) -> str:
    """``open``, ``closed`` or ``holiday`` for a schedule at a local (tenant) time."""
    if schedule.get("timezone"):
        local_now = local_now.astimezone(ZoneInfo(str(schedule["timezone"])))
    today = local_now.date().isoformat()
    holidays = {str(d) for d in schedule.get("holidays", ())}
    if today in holidays or today[5:] in holidays:  # "2026-12-31" once, "12-31" every year
        return "holiday"
    now = local_now.hour * 60 + local_now.minute
    for start, end in (schedule.get("weekly") or {}).get(DAYS[local_now.weekday()], ()):
        if _minutes(str(start)) <= now < _minutes(str(end)):
            return "open"
    return "closed"


def _enter(node: Node, ctx: Context) -> Outcome:
    sid = str(node.data["schedule"])
    schedule = ctx.tenant.section("schedules").get(sid)
    inputs: dict[str, Any] = {"schedule": sid, "local_time": ctx.now.isoformat(),
                              "weekday": DAYS[ctx.now.weekday()]}
    if not isinstance(schedule, Mapping):
        return Continue("closed", inputs={**inputs, "error": f"no schedule {sid!r}"})
    state = schedule_state(schedule, ctx.now)
    branch = "closed" if state == "holiday" and "holiday" not in node.children else state
    return Continue(branch, inputs={**inputs, "state": state})


HHMM = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$"}
SCHEDULE_CONFIG_SCHEMA = {
    "type": "object",
    "properties": {
        "timezone": {"type": "string"},
        "weekly": {"type": "object", "propertyNames": {"enum": list(DAYS)},
                   "additionalProperties": {"type": "array", "items": {
                       "type": "array", "items": HHMM, "minItems": 2, "maxItems": 2}}},
        "holidays": {"type": "array", "items": {"type": "string",
                                                "pattern": r"^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"}},
    },
    "additionalProperties": False,
}

register(SimpleAction("schedule", {
    "type": "object", "required": ["schedule"],
    "properties": {"schedule": {"type": "string", "minLength": 1}},
    "additionalProperties": False}, _enter))
