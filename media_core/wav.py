"""RIFF/WAVE (PCM 16-bit) headers, a streaming writer whose header is valid after every flush, and repair.

Invariant: after ``WavWriter.flush`` returns, the file on disk is a complete, playable WAV of
everything written so far; a file cut anywhere can be fixed by :func:`repair_wav`.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

HEADER_BYTES = 44


def wav_header(channels: int, rate: int, data_bytes: int) -> bytes:
    """The 44-byte canonical header for 16-bit PCM."""
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, got {channels}")
    block = 2 * channels
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def read_wav(data: bytes) -> tuple[int, int, npt.NDArray[np.int16]]:
    """Parse a PCM16 WAV: (rate, channels, samples shaped (frames, channels))."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"not a RIFF/WAVE file (starts {data[:12]!r})")
    pos, fmt, pcm = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", body)
        elif cid == b"data":
            pcm = body
        pos += 8 + size + (size & 1)
    if fmt is None or pcm is None:
        raise ValueError("WAV has no fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if tag != 1 or bits != 16:
        raise ValueError(f"only PCM16 is supported, got format tag {tag} with {bits} bits")
    samples = np.frombuffer(pcm[: len(pcm) // (2 * channels) * 2 * channels], "<i2").astype(np.int16)
    return rate, channels, samples.reshape(-1, channels)


def repair_wav(path: str | os.PathLike[str]) -> int:
    """Rewrite the RIFF and data sizes from the file length (after a crash); returns the data bytes."""
    p = Path(path)
    size = p.stat().st_size
    with p.open("r+b") as fh:
        head = fh.read(HEADER_BYTES)
        if len(head) < HEADER_BYTES or head[:4] != b"RIFF" or head[36:40] != b"data":
            raise ValueError(f"{p} does not start with a canonical 44-byte WAV header")
        channels: int = struct.unpack_from("<H", head, 22)[0]
        data_bytes = (size - HEADER_BYTES) // (2 * channels) * (2 * channels)
        fh.truncate(HEADER_BYTES + data_bytes)
        fh.seek(4)
        fh.write(struct.pack("<I", 36 + data_bytes))
        fh.seek(40)
        fh.write(struct.pack("<I", data_bytes))
    return data_bytes


class WavWriter:
    """Appends PCM16 to a WAV file; ``flush`` writes the audio then patches both sizes in place."""

    def __init__(self, path: str | os.PathLike[str], channels: int, rate: int = 8000) -> None:
        self.path = Path(path)
        self.channels, self.rate = channels, rate
        self.data_bytes = 0
        self._pending: list[bytes] = []
        self._fh = self.path.open("wb")
        self._fh.write(wav_header(channels, rate, 0))
        self._fh.flush()

    def write(self, pcm: bytes) -> None:
        self._pending.append(pcm)

    def flush(self) -> None:
        if self._pending:
            blob = b"".join(self._pending)
            self._pending.clear()
            self._fh.seek(0, os.SEEK_END)
            self._fh.write(blob)
            self.data_bytes += len(blob)
        self._fh.seek(4)
        self._fh.write(struct.pack("<I", 36 + self.data_bytes))
        self._fh.seek(40)
        self._fh.write(struct.pack("<I", self.data_bytes))
        self._fh.flush()

    def close(self) -> None:
        self.flush()
        self._fh.close()
