"""Envelope encryption for recordings: a per-recording AES-256-GCM data key wrapped by the tenant key.

Invariant: the stream is a header then chunks; chunk k is sealed with nonce (k, last-flag) in the
STREAM construction and the header as associated data, so chunks cannot be reordered, dropped in
the middle or moved between recordings, and a cut-off stream is detected (``complete`` is False)
while every chunk written before the cut still decrypts. Without the tenant key nothing decrypts.
"""

from __future__ import annotations

import json
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VPBXREC1"
_TENANT_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class TenantKeyMissing(KeyError):
    """The tenant's key was deleted (crypto-shredding) or never existed."""


class TenantKeyring:
    """Per-tenant 256-bit key-encryption keys, one file each under ``root`` (mode 0600)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, tenant_id: str) -> Path:
        if not _TENANT_RE.match(tenant_id):
            raise ValueError(f"invalid tenant id {tenant_id!r}")
        return self.root / f"{tenant_id}.key"

    def key_for(self, tenant_id: str, create: bool = False) -> bytes:
        path = self._path(tenant_id)
        if not path.exists():
            if not create:
                raise TenantKeyMissing(f"no key for tenant {tenant_id!r} (deleted or never created)")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(AESGCM.generate_key(bit_length=256))
        key = path.read_bytes()
        if len(key) != 32:
            raise ValueError(f"tenant key file {path} holds {len(key)} bytes, expected 32")
        return key

    def delete(self, tenant_id: str) -> None:
        """Crypto-shred: every recording of this tenant becomes unreadable."""
        self._path(tenant_id).unlink(missing_ok=True)


def _nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class EnvelopeHeader:
    tenant_id: str
    meta: dict[str, Any]
    wrapped_key: bytes  # 12-byte nonce + AES-GCM(tenant key, data key) with tag
    raw: bytes  # the serialised header, bound into every chunk as associated data


def _encode_header(tenant_id: str, meta: dict[str, Any], wrapped_key: bytes) -> bytes:
    body = json.dumps({"tenant_id": tenant_id, "meta": meta}, sort_keys=True).encode()
    return MAGIC + struct.pack(">HI", len(wrapped_key), len(body)) + wrapped_key + body


class EnvelopeWriter:
    """Seal chunks to a binary stream as they arrive; ``close`` seals the final (flagged) chunk."""

    def __init__(self, out: BinaryIO, key: bytes, tenant_id: str, meta: dict[str, Any]) -> None:
        data_key = AESGCM.generate_key(bit_length=256)
        wrap_nonce = os.urandom(12)
        wrapped = wrap_nonce + AESGCM(key).encrypt(wrap_nonce, data_key, tenant_id.encode())
        self._aead = AESGCM(data_key)
        self._out = out
        self._index = 0
        self.header = _encode_header(tenant_id, meta, wrapped)
        out.write(self.header)
        self.bytes_written = len(self.header)

    def write_chunk(self, plain: bytes, last: bool = False) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, last), plain, self.header)
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self.bytes_written += 4 + len(sealed)
        self._index += 1


def read_header(stream: BinaryIO) -> EnvelopeHeader:
    fixed = stream.read(len(MAGIC) + 6)
    if fixed[: len(MAGIC)] != MAGIC:
        raise ValueError(f"not a vpbx encrypted recording (magic {fixed[:8]!r})")
    key_len, body_len = struct.unpack_from(">HI", fixed, len(MAGIC))
    wrapped = stream.read(key_len)
    body = stream.read(body_len)
    doc = json.loads(body)
    return EnvelopeHeader(doc["tenant_id"], doc["meta"], wrapped, fixed + wrapped + body)


def iter_chunks(stream: BinaryIO, keyring: TenantKeyring) -> Iterator[tuple[bytes, bool]]:
    """Yield (plain chunk, is_last). Stops quietly at a torn tail; raises on tampering or a missing key."""
    header = read_header(stream)
    kek = keyring.key_for(header.tenant_id)
    wrap_nonce, wrapped = header.wrapped_key[:12], header.wrapped_key[12:]
    aead = AESGCM(AESGCM(kek).decrypt(wrap_nonce, wrapped, header.tenant_id.encode()))
    index = 0
    while True:
        size_bytes = stream.read(4)
        if len(size_bytes) < 4:
            return
        (size,) = struct.unpack(">I", size_bytes)
        sealed = stream.read(size)
        if len(sealed) < size:
            return  # torn write at crash time: everything before it is intact
        try:
            plain, last = aead.decrypt(_nonce(index, False), sealed, header.raw), False
        except Exception:
            plain, last = aead.decrypt(_nonce(index, True), sealed, header.raw), True
        yield plain, last
        if last:
            return
        index += 1
