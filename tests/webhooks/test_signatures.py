"""Our signature checks agree with the twilio package's RequestValidator, an independent oracle."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from twilio.request_validator import RequestValidator

from chalicelib.signatures import twilio_signature, url_variants, verify_form, verify_json, verify_request

TOKEN = "12345"
PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310", "Digits": "1234", "From": "+14158675310",
          "To": "+18005551212"}


@pytest.mark.parametrize("url", [
    "https://mycompany.com/myapp.php?foo=1&bar=2",
    "https://pbx.example.com/webhooks/demo/voice",
    "https://pbx.example.com:8443/webhooks/demo/voice?node=menu&step=2",
    "http://127.0.0.1:8000/webhooks/demo/status",
])
def test_our_signature_is_the_one_twilio_computes(url: str) -> None:
    oracle = RequestValidator(TOKEN)
    assert twilio_signature(TOKEN, url, PARAMS.items()) == oracle.compute_signature(url, PARAMS)
    assert verify_form(TOKEN, url, list(PARAMS.items()), oracle.compute_signature(url, PARAMS))


def test_a_signature_made_with_or_without_the_default_port_verifies() -> None:
    oracle = RequestValidator(TOKEN)
    with_port = oracle.compute_signature("https://pbx.example.com:443/webhooks/demo/voice", PARAMS)
    without = oracle.compute_signature("https://pbx.example.com/webhooks/demo/voice", PARAMS)
    for sig in (with_port, without):
        assert verify_form(TOKEN, "https://pbx.example.com/webhooks/demo/voice", list(PARAMS.items()), sig)
        assert verify_form(TOKEN, "https://pbx.example.com:443/webhooks/demo/voice", list(PARAMS.items()), sig)
    assert url_variants("https://h:8443/x") == ["https://h:8443/x"]  # non-default ports are kept


def test_wrong_token_tampered_params_or_missing_signature_fail() -> None:
    url = "https://pbx.example.com/webhooks/demo/voice"
    good = RequestValidator(TOKEN).compute_signature(url, PARAMS)
    assert not verify_form("other", url, list(PARAMS.items()), good)
    assert not verify_form(TOKEN, url, list({**PARAMS, "Digits": "9"}.items()), good)
    assert not verify_form(TOKEN, url, list(PARAMS.items()), "")
    assert not verify_form(TOKEN, "https://evil.example.com/webhooks/demo/voice", list(PARAMS.items()), good)


def test_json_bodies_are_checked_by_their_sha256_in_the_signed_url() -> None:
    body = json.dumps({"CallSid": "CA" + "a" * 32, "CallStatus": "ringing"}).encode()
    digest = hashlib.sha256(body).hexdigest()
    url = f"https://pbx.example.com/webhooks/demo/status?bodySHA256={digest}"
    oracle = RequestValidator(TOKEN)
    sig = oracle.compute_signature(url, {})
    assert oracle.validate(url, body.decode(), sig)  # the oracle agrees the request is genuine
    assert verify_json(TOKEN, url, body, sig)
    assert not verify_json(TOKEN, url, body + b" ", sig)


def test_signalwire_header_is_accepted_like_twilio_and_raw_scheme_works() -> None:
    url = "https://pbx.example.com/webhooks/demo/voice"
    sig = twilio_signature(TOKEN, url, PARAMS.items())
    assert verify_request(token=TOKEN, url=url, headers={"X-SignalWire-Signature": sig}, body=b"",
                          params=list(PARAMS.items()), is_json=False)
    body = b'{"call_id":"a"}'
    raw = hmac.new(TOKEN.encode(), url.encode() + body, hashlib.sha1).hexdigest()
    assert verify_request(token=TOKEN, url=url, headers={"x-signalwire-signature": raw}, body=body, params=[],
                          is_json=True)
