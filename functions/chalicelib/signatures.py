"""Gateway webhook signatures: Twilio (X-Twilio-Signature), SignalWire, JSON bodies (bodySHA256).

Invariant: the URL checked is the configured public URL of the request, never the Host it
arrived on; the comparison is constant-time; both the with-port and without-port forms of the
URL are tried, as gateways differ in which one they sign.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


def twilio_signature(token: str, url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """base64(HMAC-SHA1(token, url + name1 + value1 + ...)) with names (and values) sorted."""
    message = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(token.encode(), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given, plus the same URL with its default port added or removed."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is None and default:
        other = parts._replace(netloc=f"{_userinfo(parts)}{host}:{default}")
    elif parts.port == default:
        other = parts._replace(netloc=f"{_userinfo(parts)}{host}")
    else:
        return [url]
    return [url, urlunsplit(other)]


def _userinfo(parts: object) -> str:
    netloc: str = getattr(parts, "netloc", "")
    return netloc.rsplit("@", 1)[0] + "@" if "@" in netloc else ""


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def verify_form(token: str, url: str, params: list[tuple[str, str]], signature: str) -> bool:
    """Twilio / SignalWire cXML scheme for form-encoded (or GET) requests."""
    if not signature or not token:
        return False
    return any(_equal(twilio_signature(token, u, params), signature) for u in url_variants(url))


def verify_json(token: str, url: str, body: bytes, signature: str) -> bool:
    """JSON bodies: the URL carries bodySHA256=<hex sha256(body)> and only the URL is signed."""
    if not signature or not token:
        return False
    query = dict(parse_qsl(urlsplit(url).query))
    claimed = query.get("bodySHA256", "")
    if not claimed or not _equal(hashlib.sha256(body).hexdigest(), claimed):
        return False
    return any(_equal(twilio_signature(token, u), signature) for u in url_variants(url))


def verify_signalwire_raw(key: str, url: str, body: bytes, signature: str) -> bool:
    """SignalWire RELAY/JSON scheme: lower-hex HMAC-SHA1(key, url + raw body)."""
    if not signature or not key:
        return False
    return any(
        _equal(hmac.new(key.encode(), u.encode() + body, hashlib.sha1).hexdigest(), signature)
        for u in url_variants(url)
    )


def public_url(base: str, path: str, query: Mapping[str, str] | None) -> str:
    """The URL the gateway requested: configured public base + path + query (keys sorted)."""
    url = base.rstrip("/") + path
    if query:
        url += "?" + urlencode(sorted(query.items()))
    return url


def verify_request(*, token: str, url: str, headers: Mapping[str, str], body: bytes,
                   params: list[tuple[str, str]], is_json: bool) -> bool:
    """Check whichever signature header the gateway sent."""
    lower = {k.lower(): v for k, v in headers.items()}
    sig = lower.get("x-twilio-signature") or lower.get("x-signalwire-signature") or ""
    if is_json:
        return verify_json(token, url, body, sig) or verify_signalwire_raw(token, url, body, sig)
    return verify_form(token, url, params, sig)
