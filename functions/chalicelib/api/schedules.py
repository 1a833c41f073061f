"""Schedules: weekly opening hours and holidays, in the tenant's (or the schedule's own) time zone.

Stored at ``schedules.<id>: {name, timezone, weekly: {mon: [["09:00", "18:00"], ...]}, holidays}``,
the shape the ``schedule`` action reads; an interval is [start, end) with ``24:00`` for midnight.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Blueprint

from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import NAME, obj

bp = Blueprint(__name__)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = {"type": "string", "pattern": r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
INTERVAL = {"type": "array", "items": HHMM, "minItems": 2, "maxItems": 2}
SCHEMA = obj({
    "name": NAME,
    "timezone": {"type": "string", "format": "timezone"},
    "weekly": obj({day: {"type": "array", "items": INTERVAL, "maxItems": 24} for day in DAYS}),
    "holidays": {"type": "array", "items": {"type": "string", "format": "holiday"}, "uniqueItems": True,
                 "description": "YYYY-MM-DD (that day) or MM-DD (every year)"},
})


def check(snapshot: Any, schedule_id: str, doc: Mapping[str, Any]) -> list[dict[str, str]]:
    errors = []
    for day, intervals in (doc.get("weekly") or {}).items():
        for i, (start, end) in enumerate(intervals):
            if start >= end:
                errors.append({"pointer": f"/weekly/{day}/{i}", "message": f"{start} is not before {end}"})
    return errors


SCHEDULES = Collection(name="schedules", section="schedules", label="schedule", schema=SCHEMA, check=check)
mount(bp, SCHEDULES)
