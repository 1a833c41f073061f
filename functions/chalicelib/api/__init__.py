"""The tenant configuration API (``/api/v1/tenants/{tenant}/...``): one blueprint per resource family."""

from __future__ import annotations

from typing import Any

from chalicelib.api import (
    audio,
    conferences,
    extensions,
    faxes,
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
                             plans, keys, queues, faxes, openapi)]


def register(app: Any) -> None:
    """Register every configuration API blueprint on the Chalice app."""
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    for content_type in faxes.BINARY_TYPES:  # bytes answered as such (base64 through API Gateway)
        if content_type not in app.api.binary_types:
            app.api.binary_types.append(content_type)
