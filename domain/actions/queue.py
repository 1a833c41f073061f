"""Send the caller to a call-center queue; branch on how they left it.

The wait itself (hold music, position, exit and callback keys, offers to agents) runs at the
call-center endpoint ``/callcenter/<tenant>/queue``; when the caller leaves without an agent the
shell resumes this node with ``QueueResult`` (the TwiML ``<Enqueue action>`` contract).
Branches: ``bridged`` (else the call ends), ``timeout``, ``full``, ``empty``, ``exit``,
``callback`` (the caller asked to be called back), then ``_``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from domain.actions.base import Context, Continue, Finish, Outcome, SimpleAction, Wait, register
from domain.instructions import Hangup, Redirect
from domain.routing.plan import Node

RESULTS = ("bridged", "timeout", "full", "empty", "exit", "callback", "hangup")


def wait_url(tenant_id: str, queue: str, node: str, step: int, priority: int) -> str:
    query = sorted({"node": node, "queue": queue, "step": str(step), "priority": str(priority)}.items())
    return f"/callcenter/{tenant_id}/queue?{urlencode(query)}"


def _enter(node: Node, ctx: Context) -> Outcome:
    queue = str(node.data["queue"])
    if queue not in ctx.tenant.section("queues"):
        return Continue("unavailable", inputs={"queue": queue, "reason": "no such queue"})
    step = int(ctx.action_url.rsplit("step=", 1)[1])
    priority = int(node.data.get("priority", 0))
    url = wait_url(ctx.tenant.tenant_id, queue, node.id, step, priority)
    return Wait((Redirect(url=url),), inputs={"queue": queue, "priority": priority})


def _resume(node: Node, ctx: Context) -> Outcome:
    result = ctx.params.get("QueueResult", "hangup")
    inputs = {"queue": str(node.data["queue"]), "queue_result": result,
              "queue_time": int(ctx.params.get("QueueTime", "0") or 0)}
    if result in ("bridged", "hangup") and result not in node.children:
        return Finish((Hangup(),), inputs=inputs, branch=result)
    return Continue(result if result in RESULTS else "_", inputs=inputs)


register(SimpleAction("queue", {
    "type": "object", "required": ["queue"],
    "properties": {"queue": {"type": "string"}, "priority": {"type": "integer", "minimum": 0, "maximum": 1000}},
    "additionalProperties": False}, _enter, _resume))
