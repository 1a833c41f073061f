"""Queue entries folded from ``queue-<tenant>-<queue>`` streams, and callback tasks from ``callbacks-<tenant>``.

Invariant: a queue stream's state holds only the callers waiting now (bounded by the queue's
size); each finished entry (answered, abandoned, left, refused) becomes one output row with its
wait, so any period's figures are a scan of rows. Callback tasks: one row per task.
"""

from __future__ import annotations

from domain.projections.base import JSON, Row, StoredEvent, StreamProjection, get, seconds_between, utc


def _queue(e: StoredEvent) -> str:
    # queue-<tenant>-<queue>: the tenant id may itself contain dashes, so strip the known prefix.
    prefix = f"queue-{e.tenant_id}-"
    return e.stream_id[len(prefix):] if e.stream_id.startswith(prefix) else e.stream_id.rsplit("-", 1)[-1]


def evolve_queue(state: JSON | None, e: StoredEvent) -> tuple[JSON | None, list[Row]]:
    s = state or {"tenant": e.tenant_id, "queue": _queue(e), "t": "", "waiting": {}}
    d = e.data
    at = utc(str(get(d, "at"))) or utc(e.occurred_at)
    call = str(get(d, "call_sid"))
    waiting = s["waiting"]
    if e.event_type == "CallerQueued":
        if call in waiting:
            return None, []
        entry = {"call": call, "number": get(d, "number"), "kind": get(d, "kind", "caller"), "at": at,
                 "callback": False, "v": e.version}
        return {**s, "waiting": {**waiting, call: entry}}, []
    if e.event_type == "CallerCallbackRequested":
        if call not in waiting:
            return None, []
        return {**s, "waiting": {**waiting, call: {**waiting[call], "callback": True}}}, []
    if e.event_type == "CallerRefused":
        doc = {"queue": s["queue"], "call": call, "number": "", "kind": "caller", "queued_at": at, "ended_at": at,
               "outcome": "refused", "reason": get(d, "reason"), "wait": 0.0, "agent": "", "callback": False}
        return None, [(f"{e.stream_id}:{e.version:010d}", e.tenant_id, at, doc)]
    entry = waiting.get(call)
    if entry is None:
        return None, []
    rest = {k: v for k, v in waiting.items() if k != call}
    answered = e.event_type == "CallerAssigned"
    waited = d.get("waited_seconds")
    wait = float(waited) if waited else seconds_between(entry["at"], at)
    doc = {"queue": s["queue"], "call": call, "number": entry["number"], "kind": entry["kind"],
           "queued_at": entry["at"], "ended_at": at, "outcome": "answered" if answered else str(get(d, "reason")),
           "reason": "" if answered else get(d, "reason"), "wait": wait, "agent": get(d, "agent") if answered else "",
           "callback": entry["callback"]}
    return {**s, "waiting": rest}, [(f"{e.stream_id}:{int(entry['v']):010d}", e.tenant_id, entry["at"], doc)]


def evolve_callbacks(state: JSON | None, e: StoredEvent) -> tuple[JSON | None, list[Row]]:
    s = state or {"tenant": e.tenant_id, "t": "", "open": {}}
    d = e.data
    at = utc(str(get(d, "at"))) or utc(e.occurred_at)
    task_id = str(get(d, "task_id"))
    tasks = s["open"]
    if e.event_type == "CallbackRequested":
        task = {"task": task_id, "queue": get(d, "queue"), "number": get(d, "number"), "reason": get(d, "reason"),
                "requested_at": at, "source_call": get(d, "source_call"), "attempts": 0, "failed": 0,
                "completed_at": "", "how": "", "agent": ""}
    else:
        task = tasks.get(task_id)
        if task is None:
            return None, []
        if e.event_type == "CallbackStarted":
            task = {**task, "attempts": max(int(task["attempts"]), int(get(d, "attempt", 0) or 0))}
        elif e.event_type == "CallbackAttemptFailed":
            task = {**task, "failed": int(task["failed"]) + 1}
        else:
            task = {**task, "completed_at": at, "how": get(d, "how"), "agent": get(d, "agent")}
    rest = {k: v for k, v in tasks.items() if k != task_id}
    new = {**s, "open": rest if task["how"] else {**rest, task_id: task}}
    return new, [(f"callbacks-{e.tenant_id}:{task_id}", e.tenant_id, str(task["requested_at"]), task)]


def queue_projection() -> StreamProjection:
    return StreamProjection(name="queues", prefixes=("queue-",),
                            handles=frozenset({"CallerQueued", "CallerCallbackRequested", "CallerAssigned",
                                               "CallerLeft", "CallerRefused"}),
                            evolve=evolve_queue, closed=lambda s: False)


def callbacks_projection() -> StreamProjection:
    return StreamProjection(name="callbacks", prefixes=("callbacks-",),
                            handles=frozenset({"CallbackRequested", "CallbackStarted", "CallbackAttemptFailed",
                                               "CallbackCompleted"}),
                            evolve=evolve_callbacks, closed=lambda s: False)
