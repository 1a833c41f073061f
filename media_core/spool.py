"""Recover recordings left in the spool by a crash: upload what was flushed and report it.

Invariant: a spool file is deleted only after its blob is stored; files that are not ours or
whose tenant key is gone are moved aside (``.bad``), never silently dropped.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from media_core.blobstore import BlobStore
from media_core.envelope import TenantKeyring, iter_chunks, read_header

log = logging.getLogger("media_core.spool")


@dataclass(frozen=True)
class RecoveredRecording:
    tenant_id: str
    room: str | None
    data: dict[str, Any]  # the RecordingCompleted event data


def recover_spool(spool_dir: Path, keyring: TenantKeyring, blob_store: BlobStore) -> list[RecoveredRecording]:
    """Upload every ``*.vrec`` left in ``spool_dir``; returns what was recovered."""
    recovered: list[RecoveredRecording] = []
    if not spool_dir.is_dir():
        return recovered
    for path in sorted(spool_dir.glob("*.vrec")):
        raw = path.read_bytes()
        try:
            header = read_header(io.BytesIO(raw))
            pcm_bytes, complete = 0, False
            for plain, last in iter_chunks(io.BytesIO(raw), keyring):
                pcm_bytes += len(plain)
                complete = last
        except Exception as exc:  # not a recording, tampered, or the tenant key was deleted
            log.error("cannot recover spooled recording %s: %r; moved aside", path, exc)
            path.rename(path.with_suffix(".bad"))
            continue
        channels, rate = int(header.meta["channels"]), int(header.meta["rate"])
        blob_key = f"{header.tenant_id}/recordings/{path.stem}.vrec"
        blob_store.put(blob_key, path)
        path.unlink()
        data = {
            "recording_id": path.stem,
            "duration_s": round(pcm_bytes / (2 * channels * rate), 3),
            "channels": channels,
            "blob_key": blob_key,
            "bytes": len(raw),
            "encrypted": True,
            "source": "Conference",
            "complete": complete,
            "recovered": True,
        }
        recovered.append(RecoveredRecording(header.tenant_id, header.meta.get("room"), data))
    return recovered
