"""Phone numbers (E.164, any country): which published plan answers each; many per tenant."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import E164, NAME, REF, obj
from chalicelib.api.validation import normalize_e164

bp = Blueprint(__name__)
SCHEMA = obj({"plan": {**REF, "description": "id of a published plan"}, "label": NAME}, ("plan",))

NUMBERS = Collection(name="numbers", section="numbers", label="number", schema=SCHEMA, id_schema=E164,
                     normalize_id=lambda raw: normalize_e164(raw.replace(" ", "+", 1) if raw.startswith(" ") else raw)
                     or raw)
mount(bp, NUMBERS)
