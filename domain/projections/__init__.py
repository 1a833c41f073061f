"""Every projection the shell runs, by name. A new projection is one module and one line here."""

from __future__ import annotations

from domain.audit import chain
from domain.projections import agents, calls, queues
from domain.projections.base import Projection


def all_projections() -> list[Projection]:
    return [calls.projection(), agents.projection(), queues.queue_projection(), queues.callbacks_projection(),
            chain.projection()]


ALL = tuple(p.name for p in all_projections())


def by_name(name: str) -> Projection:
    for p in all_projections():
        if p.name == name:
            return p
    raise ValueError(f"unknown projection {name!r}; known: {', '.join(ALL)}")
