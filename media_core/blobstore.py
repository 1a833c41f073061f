"""Blob store port: opaque bytes under a slash-separated key.

Invariant: a key never escapes the store (no absolute paths, no ``..``), and a ``put`` is
atomic for readers (write to a temporary name, then rename), so a reader never sees half a blob.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class BlobStore(Protocol):
    """Where recordings, faxes and other media blobs live."""

    def put(self, key: str, data: bytes | os.PathLike[str] | str, content_type: str = ...) -> None: ...

    def get(self, key: str) -> bytes: ...

    def url(self, key: str) -> str: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def _checked_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ValueError(
            f"invalid blob key {key!r}: need non-empty relative segments without '.', '..' or '\\'"
        )
    return key


def _read_source(data: bytes | os.PathLike[str] | str) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    return Path(data).read_bytes()


class LocalBlobStore:
    """Blobs as files under ``root_dir`` (development, tests, single-host deployments)."""

    def __init__(self, root_dir: str | os.PathLike[str]) -> None:
        self.root = Path(root_dir).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _checked_key(key)

    def put(
        self, key: str, data: bytes | os.PathLike[str] | str, content_type: str = "application/octet-stream"
    ) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = _read_source(data)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def url(self, key: str) -> str:
        return self._path(key).as_uri()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3BlobStore:
    """Blobs as objects in an S3 bucket, through a boto3 S3 client passed in by the caller."""

    def __init__(self, bucket: str, client: Any, prefix: str = "", url_expires_s: int = 3600) -> None:
        if not bucket:
            raise ValueError("S3BlobStore needs a bucket name, got an empty string")
        self.bucket = bucket
        self.client = client
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url_expires_s = url_expires_s

    def _key(self, key: str) -> str:
        return self.prefix + _checked_key(key)

    def put(
        self, key: str, data: bytes | os.PathLike[str] | str, content_type: str = "application/octet-stream"
    ) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=_read_source(data), ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            raise KeyError(key) from None
        except Exception as exc:  # S3 answers 403, not 404, for a missing key to a role that may not list the bucket
            if _code(exc) in ("AccessDenied", "403") and not self.exists(key):
                raise KeyError(key) from None
            raise
        body: bytes = response["Body"].read()
        return body

    def url(self, key: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=self.url_expires_s
        )
        return url

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        """Listed under its own name. Not HeadObject: for a missing key S3 answers 404 only to a role that may
        list the whole bucket, and 403 to one whose s3:ListBucket is limited to the blob prefix (ours)."""
        name = self._key(key)  # listed first among the keys it begins, if it is there
        found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=name, MaxKeys=1)
        return any(o.get("Key") == name for o in found.get("Contents", ()))


def _code(exc: BaseException) -> str:
    """A botocore ClientError's error code ("" for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code") or "")


def blob_store_at(location: str, region: str | None = None, client: Any = None) -> BlobStore:
    """The store a location names: ``s3://bucket/prefix`` (S3) or a local directory.

    ``client`` is a boto3 S3 client (made for ``region`` when None).
    """
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        if client is None:
            import boto3

            client = boto3.client("s3", region_name=region)
        return S3BlobStore(bucket, client, prefix=prefix)
    return LocalBlobStore(location)
