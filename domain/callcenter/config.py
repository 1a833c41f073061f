"""Queue configuration read from the tenant config (``queues: {id: {...}}``), validated with field names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.tenant import TenantSnapshot

STRATEGIES = ("ring_all", "longest_idle", "fewest_calls", "least_talk_time", "round_robin", "linear", "random",
              "sticky")
DEFAULT_MUSIC = "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"


class QueueConfigError(ValueError):
    """A queue setting is wrong; the message names the field (``queues.<id>.<field>``)."""


@dataclass(frozen=True, slots=True)
class Member:
    agent: str
    penalty: int = 0  # lower rings first; higher penalties only when nobody lower is free


@dataclass(frozen=True, slots=True)
class QueueConfig:
    queue_id: str
    name: str = ""
    strategy: str = "longest_idle"
    members: tuple[Member, ...] = ()
    ring_seconds: int = 15
    max_misses: int = 3
    wrapup_seconds: int = 10
    max_wait: int = 0
    max_size: int = 0
    exit_key: str = ""
    callback_key: str = ""
    join_empty: bool = True
    leave_empty: bool = False
    announce_position: bool = True
    loop_seconds: int = 20
    music: str = DEFAULT_MUSIC
    vip_priority: int = 10
    priorities: Mapping[str, int] = field(default_factory=dict)
    overflow: str = ""  # "callback": timeout/full/exit turn into a callback task instead of a plan branch
    avg_handle_seconds: int = 180

    def member(self, agent: str) -> Member | None:
        return next((m for m in self.members if m.agent == agent), None)


def _int(raw: Mapping[str, Any], name: str, where: str, default: int, lo: int, hi: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise QueueConfigError(f"{where}.{name}: must be an integer {lo}..{hi}, got {value!r}")
    return value


def _key(raw: Mapping[str, Any], name: str, where: str) -> str:
    value = str(raw.get(name, "") or "")
    if value and (len(value) != 1 or value not in "0123456789*#"):
        raise QueueConfigError(f"{where}.{name}: must be one key 0-9, * or #, got {value!r}")
    return value


def parse_queue(queue_id: str, raw: Mapping[str, Any]) -> QueueConfig:
    where = f"queues.{queue_id}"
    if not isinstance(raw, Mapping):
        raise QueueConfigError(f"{where}: must be an object")
    strategy = str(raw.get("strategy", "longest_idle"))
    if strategy not in STRATEGIES:
        raise QueueConfigError(f"{where}.strategy: unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    members = []
    for i, m in enumerate(raw.get("members", ())):
        if isinstance(m, str):
            members.append(Member(m))
        elif isinstance(m, Mapping) and m.get("agent"):
            members.append(Member(str(m["agent"]), _int(m, "penalty", f"{where}.members[{i}]", 0, 0, 100)))
        else:
            raise QueueConfigError(f"{where}.members[{i}]: an extension or {{agent, penalty}}, got {m!r}")
    exit_key, callback_key = _key(raw, "exit_key", where), _key(raw, "callback_key", where)
    if exit_key and exit_key == callback_key:
        raise QueueConfigError(f"{where}.callback_key: must differ from exit_key")
    overflow = str(raw.get("overflow", "") or "")
    if overflow not in ("", "callback"):
        raise QueueConfigError(f"{where}.overflow: '' or 'callback', got {overflow!r}")
    priorities = raw.get("priorities") or {}
    if not isinstance(priorities, Mapping) or not all(isinstance(v, int) for v in priorities.values()):
        raise QueueConfigError(f"{where}.priorities: must map numbers to integers")
    return QueueConfig(
        queue_id=queue_id, name=str(raw.get("name", queue_id)), strategy=strategy, members=tuple(members),
        ring_seconds=_int(raw, "ring_seconds", where, 15, 5, 120),
        max_misses=_int(raw, "max_misses", where, 3, 0, 100),
        wrapup_seconds=_int(raw, "wrapup_seconds", where, 10, 0, 3600),
        max_wait=_int(raw, "max_wait", where, 0, 0, 86400), max_size=_int(raw, "max_size", where, 0, 0, 100000),
        exit_key=exit_key, callback_key=callback_key, join_empty=bool(raw.get("join_empty", True)),
        leave_empty=bool(raw.get("leave_empty", False)),
        announce_position=bool(raw.get("announce_position", True)),
        loop_seconds=_int(raw, "loop_seconds", where, 20, 1, 600), music=str(raw.get("music") or DEFAULT_MUSIC),
        vip_priority=_int(raw, "vip_priority", where, 10, 0, 1000),
        priorities={str(k): int(v) for k, v in priorities.items()}, overflow=overflow,
        avg_handle_seconds=_int(raw, "avg_handle_seconds", where, 180, 1, 86400))


def queue_config(tenant: TenantSnapshot, queue_id: str) -> QueueConfig | None:
    raw = tenant.section("queues").get(queue_id)
    return None if raw is None else parse_queue(queue_id, raw)


def queues_of(tenant: TenantSnapshot, agent: str) -> list[QueueConfig]:
    out = [parse_queue(q, raw) for q, raw in tenant.section("queues").items()]
    return [q for q in out if q.member(agent)]


def caller_priority(cfg: QueueConfig, tenant: TenantSnapshot, number: str, base: int = 0) -> int:
    """Numeric priority (higher is served first): explicit per number, else VIP/white list, else base."""
    if number in cfg.priorities:
        return cfg.priorities[number]
    if tenant.in_list("vip", number) or tenant.in_list("whitelist", number):
        return max(base, cfg.vip_priority)
    return base
