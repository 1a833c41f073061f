"""Schema pieces shared by the resource modules."""

from __future__ import annotations

from typing import Any

E164: dict[str, Any] = {"type": "string", "format": "e164"}
NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 100}
REF: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 40}
EMAIL: dict[str, Any] = {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "maxLength": 254,
                         "description": "an e-mail address"}
TIMEOUT: dict[str, Any] = {"type": "integer", "minimum": 5, "maximum": 600}
LANGUAGE: dict[str, Any] = {"type": "string", "pattern": r"^[a-z]{2}(-[A-Z]{2})?$",
                            "description": "a language tag such as en-US or ru-RU"}
EXTENSION_ID: dict[str, Any] = {"type": "string", "pattern": r"^[0-9]{2,6}$",
                                "description": "a short internal number of 2-6 digits"}


def obj(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    """A closed object schema (unknown fields are errors: a typo never passes silently)."""
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False,
            **extra}
