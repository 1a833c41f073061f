"""Voicemail boxes: e-mail, greeting (text, uploaded audio or URL), PIN (stored hashed, never shown)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.audio import playback_url
from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import EMAIL, LANGUAGE, NAME, REF, obj
from chalicelib.auth import hash_pin
from chalicelib.bootstrap import get_services

bp = Blueprint(__name__)

SCHEMA = obj({
    "name": NAME, "email": EMAIL, "language": LANGUAGE,
    "greeting": {"type": "string", "maxLength": 1000, "description": "text spoken before the beep"},
    "greeting_audio": {**REF, "description": "id of an uploaded audio file (kind greeting)"},
    "greeting_url": {"type": "string", "pattern": r"^https?://", "description": "an http(s) URL"},
    "pin": {"type": "string", "pattern": r"^[0-9]{4,12}$", "writeOnly": True,
            "description": "4-12 digits; stored hashed, shown as pin_set"},
})


def to_stored(tenant: str, patch: dict[str, Any]) -> dict[str, Any]:
    """Hash the PIN; an uploaded greeting becomes the signed ``greeting_url`` the voicemail action plays."""
    if "pin" in patch:
        pin = patch.pop("pin")
        patch["pin_hash"] = hash_pin(pin) if pin is not None else None
    if "greeting_audio" in patch:
        audio = patch["greeting_audio"]
        patch["greeting_url"] = playback_url(get_services().settings, tenant, audio) if audio else None
    return patch


BOXES = Collection(name="voicemail-boxes", section="voicemail_boxes", label="voicemail box", schema=SCHEMA,
                   hidden=("pin_hash",), to_stored=to_stored, tag="voicemail")
mount(bp, BOXES)
