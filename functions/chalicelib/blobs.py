"""Where uploaded audio (greetings, hold music) lives: a local directory or an S3 bucket.

``settings.blob_dir`` is a directory in the embedded default, or ``s3://bucket/prefix`` in AWS.
The stores themselves are media_core's (one contract for recordings, faxes and audio);
importing ``media_core.blobstore`` loads no numba.
"""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.settings import Settings
from media_core.blobstore import BlobStore, LocalBlobStore, S3BlobStore, blob_store_at

__all__ = ["BlobStore", "LocalBlobStore", "S3BlobStore", "blob_store", "make_blob_store"]


def make_blob_store(settings: Settings, client: Any = None) -> BlobStore:
    """The store ``settings.blob_dir`` names (``client``: a boto3 S3 client, e.g. for tests)."""
    return blob_store_at(settings.blob_dir, settings.aws_region, client)


_stores: dict[str, BlobStore] = {}
_lock = threading.Lock()


def blob_store(settings: Settings) -> BlobStore:
    """The process-wide store for these settings (lazy: importing the app does no I/O)."""
    with _lock:
        store = _stores.get(settings.blob_dir)
        if store is None:
            store = _stores[settings.blob_dir] = make_blob_store(settings)
        return store
