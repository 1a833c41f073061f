"""Routing actions: one module per action, registered by name in ``base.REGISTRY``.

Importing this package registers every built-in action.
"""

from domain.actions import basic, dial, ivr, voicemail  # noqa: F401
from domain.actions.base import REGISTRY, lookup

__all__ = ["REGISTRY", "lookup"]
