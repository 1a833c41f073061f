"""Audio files (greetings, hold music): the bytes go to the blob store, the metadata to the tenant.

Upload with ``POST /tenants/{tenant}/audio?name=..&kind=greeting|hold_music`` and the raw file as
the body (``audio/wav``, ``audio/mpeg`` or ``audio/ogg``, at most 5 MB); the blob is written
first and removed again if the configuration change is refused.

The gateway fetches a file to ``<Play>`` it from ``/media/audio/{tenant}/{id}?sig=...``: no API
key, but an HMAC of the tenant and id under ``settings.media_token``, so only URLs this PBX
handed out (in a mailbox's ``greeting_url``, the tenant's ``hold_music_url``) play anything.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.collections import Collection, mount
from chalicelib.api.common import NAME, obj
from chalicelib.api.http import TENANT, ApiError, endpoint
from chalicelib.api.state import change, current
from chalicelib.api.validation import validate
from chalicelib.auth import Principal
from chalicelib.blobs import blob_store
from chalicelib.bootstrap import get_services
from chalicelib.settings import Settings
from domain.tenant import TenantConfigPatched, TenantSnapshot

bp = Blueprint(__name__)
MAX_BYTES = 5 * 1024 * 1024
MAGIC = {"audio/wav": (b"RIFF",), "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
         "audio/ogg": (b"OggS",)}
KINDS = ["greeting", "hold_music", "prompt"]
SCHEMA = obj({"name": NAME, "kind": {"enum": KINDS}, "content_type": {"enum": list(MAGIC), "readOnly": True},
              "size": {"type": "integer", "readOnly": True}, "sha256": {"type": "string", "readOnly": True},
              "blob_key": {"type": "string", "readOnly": True},
              "url": {"type": "string", "readOnly": True, "description": "signed playback URL for the gateway"}},
             ("name", "kind"))
QUERY = obj({"name": NAME, "kind": {"enum": KINDS}}, ("name", "kind"))


def _signature(settings: Settings, tenant: str, audio_id: str) -> str:
    return hmac.new(settings.media_token.encode(), f"audio|{tenant}|{audio_id}".encode(), hashlib.sha256).hexdigest()


def playback_url(settings: Settings, tenant: str, audio_id: str) -> str:
    """The URL the gateway fetches to play an uploaded file (signed; no API key needed)."""
    return f"{settings.public_url}/media/audio/{tenant}/{audio_id}?sig={_signature(settings, tenant, audio_id)}"


def _remove_blob(tenant: str, audio_id: str, stored: Any) -> None:
    blob_store(get_services().settings).delete(str(stored.get("blob_key") or f"{tenant}/audio/{audio_id}"))


def _read_only(snapshot: TenantSnapshot, audio_id: str, doc: Any) -> list[dict[str, str]]:
    stored = snapshot.section("audio").get(audio_id) or {}
    return [{"pointer": f"/{k}", "message": "is read-only"}
            for k in ("content_type", "size", "sha256", "blob_key", "url") if doc.get(k) != stored.get(k)]


AUDIO = Collection(name="audio", section="audio", label="audio file", schema=SCHEMA, check=_read_only,
                   creatable=False, on_deleted=_remove_blob)
mount(bp, AUDIO)


@endpoint(bp, "POST", TENANT + "/audio", summary="Upload an audio file (raw body)", permission="config.write",
          tag="audio", response=AUDIO.item_schema(), status=201, content_types=tuple(MAGIC),
          query={"name": "display name", "kind": " | ".join(KINDS)})
def upload_audio(tenant: str, principal: Principal) -> dict[str, Any]:
    request = bp.current_request
    query = dict(request.query_params or {})
    validate(QUERY, query, "/query")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body: bytes = request.raw_body or b""
    if not body:
        raise ApiError(422, "the audio file is empty", "/body")
    if len(body) > MAX_BYTES:
        raise ApiError(413, f"the audio file is {len(body)} bytes; the limit is {MAX_BYTES}", "/body")
    if not body.startswith(MAGIC.get(content_type, ())):
        raise ApiError(422, f"the body is not {content_type} audio", "/body")
    services = get_services()
    current(services, tenant)
    audio_id = services.new_id()
    key = f"{tenant}/audio/{audio_id}"
    meta = {"name": query["name"], "kind": query["kind"], "content_type": content_type, "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(), "blob_key": key,
            "url": playback_url(services.settings, tenant, audio_id)}
    store = blob_store(services.settings)
    store.put(key, body, content_type)
    try:
        after = change(services, tenant, lambda s: [TenantConfigPatched(path=["audio", audio_id], patch=meta,
                                                                        actor=principal.actor)],
                       AUDIO.owner(audio_id))
    except Exception:
        store.delete(key)
        raise
    return AUDIO.public(audio_id, after.section("audio")[audio_id])


@endpoint(bp, "GET", TENANT + "/audio/{item_id}/content", summary="Download an audio file",
          permission="config.read", tag="audio", response={"type": "string", "format": "binary"})
def download_audio(tenant: str, item_id: str, principal: Principal) -> Response:
    services = get_services()
    audio_id, stored = AUDIO.find(current(services, tenant), item_id)
    data = blob_store(services.settings).get(str(stored["blob_key"]))
    return Response(body=data, status_code=200, headers={"Content-Type": str(stored["content_type"])})


@bp.route("/media/audio/{tenant}/{audio_id}", methods=["GET"])
def play_audio(tenant: str, audio_id: str) -> Response:
    """For the gateway's <Play>: the file, if the signature in the URL is this PBX's."""
    services = get_services()
    sig = (bp.current_request.query_params or {}).get("sig", "")
    stored = (services.tenants.get(tenant) or None)
    item = stored.section("audio").get(audio_id) if stored is not None else None
    if not hmac.compare_digest(sig, _signature(services.settings, tenant, audio_id)) or not item:
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    data = blob_store(services.settings).get(str(item["blob_key"]))
    return Response(body=data, status_code=200, headers={"Content-Type": str(item["content_type"])})
