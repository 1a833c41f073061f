"""Calls the tenant's own devices place: a desk phone or the app dialling a colleague or the outside world.

The gateway reports such a call like any other (a voice webhook whose ``From`` is the device and whose
``To`` is what was dialled, often as a SIP URI). It is routed by a plan made here, not published by the
tenant, kept under the plan id ``DEVICE_PLAN`` with what was dialled as the call's ``to_number``, so a
later webhook of the call rebuilds the same plan:

- an extension's short number rings that extension (do not disturb, forwarding and call waiting
  apply as for any call to it), then its voicemail box if it has one;
- a phone number (E.164, or national in the country of the tenant's first number) is dialled out,
  presenting the extension's direct line (``extensions.<ext>.caller_id``, one of the tenant's numbers)
  or else the tenant's first number (a stranger's number is never presented), if the caller's
  extension may call it (``dial_out``, below); else the caller hears the "call barred" prompt;
- an emergency number of the tenant's country (911, 112, 999...) is always dialled as dialled,
  whatever ``dial_out`` says (the gateway account must have the emergency address of the number
  presented: that is the carrier's part);
- ``*97`` opens the caller's own voicemail box (its PIN is asked if it has one), ``*98`` any box (its
  number and PIN are asked): ``actions/mailbox``;
- the tenant's ``dial_plan`` adds speed dials (a short code for a number) and an optional outside-line
  prefix (9 or 0 before a number, as on an office PBX); see ``target``;
- anything else is refused with the "not in service" prompt.

``extensions.<ext>.dial_out`` limits what a phone may dial out to (toll fraud through a stolen SIP
password is the classic PBX bill): ``none`` (colleagues only), ``national`` (the default: numbers of
the tenant's own country), ``international`` (any country), ``all`` (premium-rate numbers too, which
every other level refuses).
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from phonenumbers import shortnumberinfo

from domain.actions.dial import extension_config
from domain.actions.voicemail import box_of
from domain.routing.plan import Plan, parse_plan
from domain.tenant import TenantSnapshot

DEVICE_PLAN = "@device"
OWN_MAILBOX, ANY_MAILBOX = "*97", "*98"


def dialled(to: str) -> str:
    """What a device dialled, from the ``To`` the gateway reports (``sip:102@pbx.example;user=phone`` -> ``102``)."""
    text = to.strip()
    for scheme in ("sip:", "sips:", "tel:", "client:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
            break
    return text.split("@", 1)[0].split(";", 1)[0].strip()


def target(tenant: TenantSnapshot, to: str) -> str:
    """The extension, mailbox code, emergency number or E.164 number a device call is for, or ``""``.

    The tenant's ``dial_plan`` applies after the extensions: ``speed_dials`` (a short code -> an E.164
    number) and ``outside_prefix`` (a digit such as 9 or 0 dialled before an outside number, as on an
    office PBX; optional: a number without it is dialled too). An emergency number is dialled whether
    or not the prefix comes before it (9-911 and 911 both work, as the law asks of office phones in the US).
    """
    text = dialled(to)
    if text in tenant.section("extensions") or text in (OWN_MAILBOX, ANY_MAILBOX):
        return text
    plan = dial_plan(tenant)
    speed = plan["speed_dials"].get(text)
    if speed:
        return str(speed)
    if is_emergency(tenant, text):  # before the prefix: with 9 as the prefix, 911 is still 911
        return text
    prefix = plan["outside_prefix"]
    if prefix and text.startswith(prefix) and len(text) > len(prefix):
        text = text[len(prefix):]
        if is_emergency(tenant, text):
            return text
    if not text or not all(c.isdigit() or c in "+-() ." for c in text):
        return ""
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else _region(tenant))
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def dial_plan(tenant: TenantSnapshot) -> dict[str, Any]:
    """The tenant's ``dial_plan`` with its defaults (no outside prefix, no speed dials)."""
    found = tenant.config.get("dial_plan") or {}
    return {"outside_prefix": str(found.get("outside_prefix") or ""), "speed_dials": dict(found.get("speed_dials") or {})}


DIAL_OUT = ("none", "national", "international", "all")
PREMIUM = (phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST)


def why_barred(tenant: TenantSnapshot, caller: str, number: str) -> str:
    """Why extension ``caller`` may not dial ``number`` (an E.164 number) out, or ``""`` when it may."""
    level = str(extension_config(tenant, caller).get("dial_out") or "national")
    if level == "all":
        return ""
    if level == "none":
        return f"extension {caller} may not dial out (dial_out none)"
    parsed = phonenumbers.parse(number, None)
    if phonenumbers.number_type(parsed) in PREMIUM:
        return f"{number} is a premium-rate number (extension {caller}: dial_out {level})"
    home = _country_code(tenant)
    if level == "national" and parsed.country_code != home:
        return f"{number} is abroad (extension {caller}: dial_out national)"
    return ""


def _country_code(tenant: TenantSnapshot) -> int | None:
    for number in tenant.section("numbers"):
        try:
            return phonenumbers.parse(str(number), None).country_code
        except phonenumbers.NumberParseException:
            continue
    return None


def _region(tenant: TenantSnapshot) -> str | None:
    """The country of the tenant's first number (by its country code: a demo number may be a fictional one)."""
    region = phonenumbers.region_code_for_country_code(_country_code(tenant) or 0)
    return None if region == phonenumbers.UNKNOWN_REGION else region


def presented(tenant: TenantSnapshot, caller: str) -> str:
    """The number a call out from ``caller``'s phone presents: the extension's ``caller_id`` if it is one of
    the tenant's numbers (a direct line), else the tenant's first number."""
    numbers = list(tenant.section("numbers"))
    own = str(extension_config(tenant, caller).get("caller_id") or "")
    return own if own in numbers else (str(numbers[0]) if numbers else "")


def is_emergency(tenant: TenantSnapshot, number: str) -> bool:
    """An emergency number of the tenant's country, as dialled (``911``, ``112``)."""
    region = _region(tenant)
    return bool(region and number.isdigit() and shortnumberinfo.is_emergency_number(number, region))


def device_plan(tenant: TenantSnapshot, to: str, caller: str = "") -> Plan | None:
    """The plan of extension ``caller``'s phone calling ``to`` (an extension or an E.164 number, see ``target``)."""
    if to in tenant.section("extensions"):
        node: dict[str, Any] = {"id": "internal", "action": "ring_extension", "data": {"extension": to}}
        box = str(extension_config(tenant, to).get("voicemail") or "")
        if box and box in tenant.section("voicemail_boxes"):
            node["children"] = {"_": {"id": "internal-voicemail", "action": "voicemail", "data": {"box": box}}}
        return parse_plan(DEVICE_PLAN, 0, {"root": node})
    if to == OWN_MAILBOX:  # the caller's box (as the voicemail action finds it): without a PIN it opens to this phone
        own = box_of(tenant, caller)
        return parse_plan(DEVICE_PLAN, 0, {"root": {"id": "mailbox", "action": "voicemail_access",
                                                    "data": {"box": own, "pin": "if_set"}}})
    if to == ANY_MAILBOX:
        return parse_plan(DEVICE_PLAN, 0, {"root": {"id": "mailbox", "action": "voicemail_access", "data": {}}})
    caller_id = presented(tenant, caller)
    if caller_id and is_emergency(tenant, to):
        return parse_plan(DEVICE_PLAN, 0, {"root": {"id": "emergency", "action": "forward",
                                                    "data": {"number": to, "caller_id": caller_id}}})
    if to.startswith("+") and caller_id:
        return parse_plan(DEVICE_PLAN, 0, {"root": {"id": "outside", "action": "forward",
                                                    "data": {"number": to, "caller_id": caller_id}}})
    return None
