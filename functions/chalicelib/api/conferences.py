"""Conference rooms: participant PIN, moderator PIN, wait for the moderator.

PINs are kept as written (administrators hand them out, and the ``conference`` action compares
the caller's digits with them); only voicemail PINs are secret and hashed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalice import Blueprint

from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import NAME, obj

bp = Blueprint(__name__)
PIN = {"type": "string", "pattern": r"^[0-9]{3,12}$"}
SCHEMA = obj({"name": NAME, "pin": PIN, "moderator_pin": PIN, "wait_for_moderator": {"type": "boolean"},
              "max_tries": {"type": "integer", "minimum": 1, "maximum": 10},
              "wait_url": {"type": "string", "pattern": r"^https://"}})


def check(snapshot: Any, room_id: str, doc: Mapping[str, Any]) -> list[dict[str, str]]:
    if doc.get("pin") and doc.get("pin") == doc.get("moderator_pin"):
        return [{"pointer": "/moderator_pin", "message": "must differ from the participant PIN"}]
    return []


ROOMS = Collection(name="conference-rooms", section="conferences", label="conference room", schema=SCHEMA,
                   check=check, tag="conferences")
mount(bp, ROOMS)
