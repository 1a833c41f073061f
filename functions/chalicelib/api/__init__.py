"""The tenant configuration API (``/api/v1/tenants/{tenant}/...``): one blueprint per resource family."""

from __future__ import annotations

from typing import Any

from chalicelib.api import (
    audio,
    conferences,
    extensions,
    groups,
    keys,
    lists,
    numbers,
    openapi,
    plans,
    queues,
    schedules,
    settings,
    voicemail,
)

BLUEPRINTS = [m.bp for m in (settings, numbers, extensions, groups, voicemail, schedules, lists, conferences, audio,
                             plans, keys, queues, openapi)]


def register(app: Any) -> None:
    """Register every configuration API blueprint on the Chalice app."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
