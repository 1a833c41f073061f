"""Where uploaded audio (greetings, hold music) lives: a local directory or an S3 bucket.

``settings.blob_dir`` is a directory in the embedded default, or ``s3://bucket/prefix`` in AWS.
Same contract as media_core.blobstore (which the media server uses), kept separate so the API
Lambda does not import media_core (numba) on a cold start.

Invariant: a key never escapes the store (no absolute paths, no ``..``); a local put is atomic
(temporary file, then rename), so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

from chalicelib.settings import Settings


class BlobStore(Protocol):
    """Opaque bytes under a slash-separated key."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def checked_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class LocalBlobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3BlobStore:
    def __init__(self, bucket: str, client: Any, prefix: str = "") -> None:
        if not bucket:
            raise ValueError("S3BlobStore needs a bucket name")
        self.bucket = bucket
        self.client = client
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None
        body: bytes = response["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError:
            return False
        return True


def make_blob_store(settings: Settings, client: Any = None) -> BlobStore:
    """The store ``settings.blob_dir`` names (``client``: a boto3 S3 client, e.g. for tests)."""
    location = settings.blob_dir
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        if client is None:
            import boto3

            client = boto3.client("s3", region_name=settings.aws_region)
        return S3BlobStore(bucket, client, prefix=prefix)
    return LocalBlobStore(location)


_stores: dict[str, BlobStore] = {}
_lock = threading.Lock()


def blob_store(settings: Settings) -> BlobStore:
    """The process-wide store for these settings (lazy: importing the app does no I/O)."""
    with _lock:
        store = _stores.get(settings.blob_dir)
        if store is None:
            store = _stores[settings.blob_dir] = make_blob_store(settings)
        return store
