"""Users / extensions: short internal numbers, their devices, forwarding, do not disturb, follow-me.

Stored at ``extensions.<ext>`` (what the ringing actions read). Devices: ``sip`` {uri},
``client`` {identity} (browser), ``mobile`` {number} (follow-me; not rung by ring_extension),
``number`` {number} (an external phone rung like a desk phone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Blueprint

from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import E164, EMAIL, EXTENSION_ID, LANGUAGE, NAME, REF, TIMEOUT, obj
from domain.routing.device_calls import DIAL_OUT

bp = Blueprint(__name__)

DEVICE = {
    "type": "object", "required": ["type"],
    "properties": {"type": {"enum": ["sip", "client", "mobile", "number"]},
                   "uri": {"type": "string", "pattern": r"^sips?:[^\s@]+@[^\s@]+$",
                           "description": "a SIP URI (sip:user@host)"},
                   "identity": {"type": "string", "pattern": r"^[A-Za-z0-9_.@-]{1,64}$",
                                "description": "a client identity (letters, digits, _ . @ -)"},
                   "number": E164, "label": NAME},
    "additionalProperties": False,
    "allOf": [
        {"if": {"properties": {"type": {"const": "sip"}}}, "then": {"required": ["uri"]}},
        {"if": {"properties": {"type": {"const": "client"}}}, "then": {"required": ["identity"]}},
        {"if": {"properties": {"type": {"enum": ["mobile", "number"]}}}, "then": {"required": ["number"]}},
    ],
}
FORWARD_RULE = {"oneOf": [E164, obj({"to": E164, "schedule": REF, "when": {"enum": ["open", "closed", "holiday"]}},
                                    ("to",))]}
SCHEMA = obj({
    "name": NAME, "email": EMAIL, "language": LANGUAGE,
    "devices": {"type": "array", "items": DEVICE, "maxItems": 10},
    "voicemail": {**REF, "description": "voicemail box id"},
    "dnd": {"type": "boolean", "description": "do not disturb: callers get the busy branch"},
    "forwarding": obj({k: FORWARD_RULE for k in ("unconditional", "busy", "no_answer", "unavailable")}),
    "follow_me": obj({"mobile": E164, "desk_timeout": TIMEOUT, "mobile_timeout": TIMEOUT,
                      "caller_id": {"type": "string"}}),
    "caller_id": {**E164, "description": "the direct line this extension's calls out present (one of the "
                                         "company's numbers; else the company's first number)"},
    "dial_out": {"enum": list(DIAL_OUT),
                 "description": "what this extension's phones may dial out to: none (colleagues only), national "
                                "(default: the company's country), international, all (premium-rate numbers too)"},
}, ("name",))

def check(snapshot: Any, ext: str, doc: Mapping[str, Any]) -> list[dict[str, str]]:
    """A direct line must be one of the company's numbers (vpbx never presents a number it does not own)."""
    own = doc.get("caller_id")
    if own and own not in snapshot.section("numbers"):
        return [{"pointer": "/caller_id", "message": f"{own} is not one of the company's numbers"}]
    return []


EXTENSIONS = Collection(name="extensions", section="extensions", label="extension", schema=SCHEMA,
                        id_schema=EXTENSION_ID, tag="extensions", check=check)
mount(bp, EXTENSIONS)
