"""What voicemail boxes' owners did with their messages: heard, deleted. Folded from the call streams.

Invariant: one output row per mark (``heard:<message>``, ``deleted:<message>``, at the time of the mark,
never before the message, which is never before its call began), so the marks of the messages of
calls that began in a period are the rows from the period's start on. The messages themselves are the
call records' ``voicemail`` (its ``event`` is the message id). A mark is an event of whichever call
made it (the phone's mailbox, *97) or of the message's own call (the web app); the fold keeps no state
(``stateless``): each row is rebuilt from its own event, so a redelivery rewrites the same row.
"""

from __future__ import annotations

from typing import Any

from domain.projections.base import JSON, Row, StoredEvent, StreamProjection, get, utc

MARKS = {"VoicemailHeard": "heard", "VoicemailDeleted": "deleted"}


def evolve(state: JSON | None, e: StoredEvent) -> tuple[JSON | None, list[Row]]:
    kind = MARKS[e.event_type]
    message = str(get(e.data, "message"))
    at = utc(e.occurred_at)
    doc = {"message": message, "box": str(get(e.data, "box")), "mark": kind, "at": at, "by_call": e.stream_id[5:]}
    return None, [(f"{kind}:{message}", e.tenant_id, at, doc)]


def marks_of(rows: list[Any]) -> dict[str, set[str]]:
    """What was done to each message among the projection's rows: message id -> {"heard", "deleted"}."""
    marks: dict[str, set[str]] = {}
    for row in rows:
        marks.setdefault(str(row["message"]), set()).add(str(row["mark"]))
    return marks


def projection() -> StreamProjection:
    return StreamProjection(name="mailboxes", prefixes=("call-",), handles=frozenset(MARKS), evolve=evolve,
                            closed=lambda s: True, stateless=True)
