"""Per-call recordings: PCM16 WAV (mono mix or caller/agent stereo), encrypted at rest as it is written.

Invariant: at most ``flush_s`` (<= 1 s) of audio lives only in memory; everything older is sealed
in the spool file and survives a crash. The WAV header is never stored encrypted: the reader
rebuilds it from the metadata and the decrypted length, so it is always valid.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from media_core.envelope import EnvelopeWriter, TenantKeyring, iter_chunks, read_header
from media_core.wav import wav_header

_INT16 = np.dtype(np.int16)
_LITTLE_ENDIAN = sys.byteorder == "little"


@dataclass(frozen=True)
class RecordingInfo:
    path: Path
    duration_s: float
    channels: int
    bytes: int


class RecordingWriter:
    """Stream PCM16 frames of one call into an encrypted spool file.

    Parameters
    ----------
    path : path-like
        Spool file to create (``.vrec``).
    keyring : TenantKeyring
        Holds the tenant key that wraps this recording's data key (created if missing).
    tenant_id : str
        Owner of the recording.
    channels : int
        1 for a mono mix, 2 for caller (left) / agent (right).
    rate : int
        Sample rate in Hz (8000 for G.711).
    flush_s : float
        Audio seconds buffered before a chunk is sealed and written; must be in (0, 1].
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        keyring: TenantKeyring,
        tenant_id: str,
        channels: int = 1,
        rate: int = 8000,
        flush_s: float = 1.0,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 (mono mix) or 2 (caller/agent), got {channels}")
        if not 0 < flush_s <= 1.0:
            raise ValueError(f"flush_s must be in (0, 1] so a crash loses at most a second, got {flush_s}")
        self.path = Path(path)
        self.channels, self.rate = channels, rate
        self._chunk_bytes = max(2 * channels, int(rate * flush_s) * 2 * channels)
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self.pcm_bytes = 0
        self._fh = self.path.open("wb")
        full_meta = {"rate": rate, "channels": channels, "format": "pcm_s16le", **(meta or {})}
        self._env = EnvelopeWriter(self._fh, keyring.key_for(tenant_id, create=True), tenant_id, full_meta)
        self._fh.flush()
        self.closed = False

    def write(self, pcm: npt.NDArray[np.int16]) -> None:
        """Append samples: shape (N,) for mono, (N, 2) for stereo (column 0 caller, 1 agent)."""
        shape = pcm.shape
        if pcm.dtype != _INT16:
            raise TypeError(f"recording needs int16 samples, got {pcm.dtype}")
        if not (len(shape) == 1 and self.channels == 1) and not (len(shape) == 2 and shape[1] == self.channels):
            raise ValueError(f"recording has {self.channels} channel(s), got samples of shape {shape}")
        data = pcm.tobytes() if _LITTLE_ENDIAN else pcm.astype("<i2").tobytes()  # WAV is little-endian
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes >= self._chunk_bytes:
            self.flush()

    def write_stereo(self, caller: npt.NDArray[np.int16], agent: npt.NDArray[np.int16]) -> None:
        """Interleave two equal-length mono frames into the two channels."""
        self.write(np.column_stack((caller, agent)))

    def flush(self, last: bool = False) -> None:
        blob = b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        if blob or last:
            self._env.write_chunk(blob, last=last)
            self.pcm_bytes += len(blob)
            self._fh.flush()

    def close(self) -> RecordingInfo:
        if not self.closed:
            self.flush(last=True)
            os.fsync(self._fh.fileno())
            self._fh.close()
            self.closed = True
        return RecordingInfo(self.path, self.duration_s, self.channels, self._env.bytes_written)

    @property
    def duration_s(self) -> float:
        return (self.pcm_bytes + self._pending_bytes) / (2 * self.channels * self.rate)


@dataclass(frozen=True)
class DecryptedRecording:
    wav: bytes
    complete: bool  # False if the writer never closed (crash): the audio is everything flushed before
    meta: dict[str, Any]


def decrypt_recording(data: bytes, keyring: TenantKeyring) -> DecryptedRecording:
    """Decrypt an encrypted recording back to a WAV file.

    Parameters
    ----------
    data : bytes
        The ``.vrec`` bytes (from the spool file or the blob store).
    keyring : TenantKeyring
        Must still hold the owning tenant's key.

    Returns
    -------
    DecryptedRecording
        WAV bytes with a valid header, whether the stream was finalised, and its metadata.

    Raises
    ------
    TenantKeyMissing
        If the tenant key was deleted.
    cryptography.exceptions.InvalidTag
        If any byte was altered.
    """
    header = read_header(io.BytesIO(data))
    parts: list[bytes] = []
    complete = False
    for plain, last in iter_chunks(io.BytesIO(data), keyring):
        parts.append(plain)
        complete = last
    pcm = b"".join(parts)
    channels, rate = int(header.meta["channels"]), int(header.meta["rate"])
    return DecryptedRecording(wav_header(channels, rate, len(pcm)) + pcm, complete, header.meta)
