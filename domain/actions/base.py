"""What a routing action is: enter/resume returning an Outcome, plus the registry of names.

Invariant: actions only *return* instructions and events; they never perform effects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from domain.calls.state import CallState
from domain.events import DomainEvent
from domain.instructions import Instruction
from domain.routing.plan import Node
from domain.tenant import TenantSnapshot


@dataclass(frozen=True, slots=True)
class Context:
    """Everything an action may look at: the call, the tenant, the time, its own scratch."""

    call: CallState
    tenant: TenantSnapshot
    now: datetime
    action_url: str
    scratch: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.tenant.language


@dataclass(frozen=True, slots=True)
class Continue:
    """Go on to the child at ``branch`` now, after emitting ``instructions``."""

    branch: str
    instructions: tuple[Instruction, ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[DomainEvent, ...] = ()
    scratch: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """Emit ``instructions`` and wait: the gateway calls back to this node's action URL."""

    instructions: tuple[Instruction, ...]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[DomainEvent, ...] = ()
    scratch: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """Emit ``instructions`` and stop routing this call."""

    instructions: tuple[Instruction, ...]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[DomainEvent, ...] = ()
    branch: str = ""


Outcome = Continue | Wait | Finish


class Action(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def schema(self) -> Mapping[str, Any]: ...

    def enter(self, node: Node, ctx: Context) -> Outcome: ...

    def resume(self, node: Node, ctx: Context) -> Outcome: ...


REGISTRY: dict[str, Action] = {}


def register(action: Action) -> Action:
    if action.name in REGISTRY:
        raise ValueError(f"routing action {action.name!r} registered twice")
    REGISTRY[action.name] = action
    return action


def lookup(name: str) -> Action | None:
    return REGISTRY.get(name)


# Actions that may hand control back to the caller or the gateway (gather, dial, record, join):
# plan validation refuses a cycle of nodes none of which waits. A new waiting action adds its name.
WAITING: set[str] = {"ivr_menu", "ring_extension", "ring_group", "follow_me", "forward", "voicemail",
                     "conference", "fax_receive", "sticky", "crm_lookup", "queue", "hold", "voicemail_access"}


def waits(name: str) -> bool:
    """True if the named action may wait for the caller (so a cycle through it is not a spin)."""
    return name in WAITING


@dataclass(frozen=True, slots=True)
class SimpleAction:
    """An action from two functions; ``resume`` defaults to ending the call."""

    name: str
    schema: Mapping[str, Any]
    on_enter: Callable[[Node, Context], Outcome]
    on_resume: Callable[[Node, Context], Outcome] | None = None

    def enter(self, node: Node, ctx: Context) -> Outcome:
        return self.on_enter(node, ctx)

    def resume(self, node: Node, ctx: Context) -> Outcome:
        if self.on_resume is None:
            return Finish(())
        return self.on_resume(node, ctx)
