"""A hash chain over each tenant's log: h_n = sha256(h_(n-1) || canonical(event_n)).

Invariant: the canonical form covers every envelope field and the data as sorted, compact JSON,
so changing any stored byte that matters changes every later link. Anchors (n, h_n) are kept
every ANCHOR_EVERY events and at the head, so a verifier can say where the log was altered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.projections.base import JSON, LogEnvelope, LogProjection, Row

GENESIS = "0" * 64
ANCHOR_EVERY = 1024
SEP = "\x1f"


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def canonical(e: LogEnvelope, data_json: str | None = None) -> bytes:
    """The bytes hashed for an event: envelope fields and canonical data, unit-separated.

    ``data_json`` is the stored data text when the caller has it (the stores write canonical JSON,
    so it equals ``canonical_json(e.data)``; replay skips decoding and re-encoding it).
    """
    body = canonical_json(e.data) if data_json is None else data_json
    return payload(e.tenant_id, e.stream_id, e.version, e.event_id, e.event_type, e.schema_version, e.occurred_at,
                   e.recorded_at, e.correlation_id, e.causation_id, body)


def payload(tenant: str, stream: str, version: int, event_id: str, event_type: str, schema_version: int,
            occurred_at: str, recorded_at: str, correlation_id: str, causation_id: str, data_json: str) -> bytes:
    return (f"{tenant}\x1f{stream}\x1f{version}\x1f{event_id}\x1f{event_type}\x1f{schema_version}\x1f{occurred_at}"
            f"\x1f{recorded_at}\x1f{correlation_id}\x1f{causation_id}\x1f{data_json}").encode()


def link(previous: str, payload: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + payload).hexdigest()


def evolve(state: JSON | None, e: LogEnvelope) -> tuple[JSON | None, list[Row]]:
    n = int(state["n"]) + 1 if state else 1
    h = link(str(state["h"]) if state else GENESIS, canonical(e))
    new = head(e.tenant_id, n, h, e.event_id)
    return new, ([anchor(e.tenant_id, n, h, e.event_id, e.recorded_at)] if n % ANCHOR_EVERY == 0 else [])


def head(tenant: str, n: int, h: str, event_id: str) -> JSON:
    return {"tenant": tenant, "n": n, "h": h, "event_id": event_id, "t": ""}


def anchor(tenant: str, n: int, h: str, event_id: str, recorded_at: str) -> Row:
    return (anchor_key(tenant, n), tenant, recorded_at, {"n": n, "h": h, "event_id": event_id})


def anchor_key(tenant: str, n: int) -> str:
    return f"{tenant}:{n:012d}"


def projection() -> LogProjection:
    return LogProjection(name="chain", evolve=evolve)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checked: int
    message: str
    first_bad_event: int = 0


def verify(payloads: Iterable[bytes], anchors: Mapping[int, str], head: tuple[int, str] | None) -> Verdict:
    """Recompute the chain over a tenant's log (each event's canonical bytes, in log order) and compare
    it with the recorded anchors and head."""
    h, n, last_good = GENESIS, 0, 0
    at_head = ""
    for p in payloads:
        n += 1
        h = link(h, p)
        if head is not None and n == head[0]:
            at_head = h
        expected = anchors.get(n)
        if expected is not None:
            if expected != h:
                return Verdict(False, n, f"chain breaks between event {last_good + 1} and event {n}: "
                               f"recorded h_{n}={expected[:16]}..., recomputed {h[:16]}...", last_good + 1)
            last_good = n
    if head is not None:
        head_n, head_h = head
        if n < head_n:
            return Verdict(False, n, f"log has {n} events but the chain recorded {head_n}: events were removed",
                           n + 1)
        if at_head != head_h:
            return Verdict(False, n, f"chain breaks between event {last_good + 1} and event {n} (the head differs)",
                           last_good + 1)
    return Verdict(True, n, f"{n} events, chain intact" + (f", head {h[:16]}..." if n else ""))
