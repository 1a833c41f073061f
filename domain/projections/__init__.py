"""Every projection the shell runs, by name. A new projection is one module and one entry here."""

from __future__ import annotations

from domain.projections.base import Projection

ALL = ("calls", "agents", "queues", "callbacks", "mailboxes", "chain")


def all_projections() -> list[Projection]:
    # Imported here: domain.audit.chain itself imports domain.projections.base.
    from domain.audit import chain
    from domain.projections import agents, calls, mailboxes, queues

    return [calls.projection(), agents.projection(), queues.queue_projection(), queues.callbacks_projection(),
            mailboxes.projection(), chain.projection()]


def by_name(name: str) -> Projection:
    for p in all_projections():
        if p.name == name:
            return p
    raise ValueError(f"unknown projection {name!r}; known: {', '.join(ALL)}")
