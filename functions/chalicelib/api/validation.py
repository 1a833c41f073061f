"""JSON Schema validation with errors as JSON pointers, plus the formats the PBX needs.

Formats: ``e164`` (a dialable number of any country, checked with ``phonenumbers``),
``timezone`` (an IANA zone ``zoneinfo`` knows), ``date`` (YYYY-MM-DD).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from jsonschema import Draft202012Validator, FormatChecker

from chalicelib.api.http import ApiError

FORMATS = FormatChecker()


@FORMATS.checks("e164", raises=ValueError)
def is_e164(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return normalize_e164(value) == value


def normalize_e164(value: str) -> str | None:
    """The E.164 form of a valid number written with its country code (``+...``), else None."""
    if not value.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return None
    # Possible (right length for the country), not "valid": fictional ranges such as +1 555 are
    # real test numbers, and numbering plans change faster than the metadata.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@FORMATS.checks("timezone", raises=ValueError)
def is_timezone(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@FORMATS.checks("date", raises=ValueError)
def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    date.fromisoformat(value)
    return len(value) == 10


@FORMATS.checks("holiday", raises=ValueError)
def is_holiday(value: object) -> bool:
    """``YYYY-MM-DD`` (that day) or ``MM-DD`` (that day every year)."""
    if not isinstance(value, str):
        return True
    if len(value) == 5:
        date.fromisoformat(f"2000-{value}")  # a leap year, so 02-29 is a day
        return True
    return is_date(value)


MESSAGES = {"holiday": "is not a date (YYYY-MM-DD, or MM-DD for every year)","e164": "is not a valid E.164 number (+ country code and number)",
            "timezone": "is not a known IANA time zone", "date": "is not a date (YYYY-MM-DD)"}


def pointer(path: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def schema_errors(schema: Mapping[str, Any], document: Any, prefix: str = "") -> list[dict[str, str]]:
    """Every way ``document`` breaks ``schema``, each with a JSON pointer to the bad field."""
    errors = []
    for e in sorted(Draft202012Validator(schema, format_checker=FORMATS).iter_errors(document),
                    key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        message = e.message
        if e.validator == "pattern" and e.schema.get("description"):
            message = f"{e.instance!r} is not {e.schema['description']}"
        elif e.validator == "format" and e.validator_value in MESSAGES:
            message = f"{e.instance!r} {MESSAGES[str(e.validator_value)]}"
        elif e.validator == "additionalProperties" and e.schema.get("additionalProperties") is False:
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            for name in extra:
                errors.append({"pointer": prefix + pointer([*e.absolute_path, name]), "message": "unknown field"})
            continue
        errors.append({"pointer": prefix + pointer(e.absolute_path), "message": message})
    return errors


def validate(schema: Mapping[str, Any], document: Any, prefix: str = "") -> None:
    """Raise 422 with every schema error."""
    errors = schema_errors(schema, document, prefix)
    if errors:
        raise ApiError(422, errors)
