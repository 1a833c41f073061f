"""Routing actions: one module per action, registered by name in ``base.REGISTRY``.

Importing this package registers every built-in action.
"""

from domain.actions import (  # noqa: F401
    answer_message,
    basic,
    call_features,
    conference,
    dial,
    fax,
    follow_me,
    forward,
    ivr,
    mailbox,
    offer,
    queue,
    ring_group,
    schedule,
    voicemail,
)
from domain.actions.base import REGISTRY, lookup

__all__ = ["REGISTRY", "lookup"]
