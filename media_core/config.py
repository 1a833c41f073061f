"""Configuration handed to the media server and to route plug-ins (fax) at start-up.

Invariant: frozen; built once by the composition root (``server.main`` or a test fixture).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from media_core.blobstore import BlobStore, blob_store_at


@dataclass(frozen=True)
class MediaConfig:
    """Settings and adapters for one media server process."""

    host: str = "127.0.0.1"
    port: int = 8100
    blob_store: BlobStore | None = None
    backend_url: str | None = None
    media_token: str | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "fax@vpbx.local"
    ses_region: str | None = None
    tenant_keys_dir: Path = Path("var/tenant_keys")
    spool_dir: Path = Path("var/spool/media")  # recordings in progress (encrypted), uploaded on stop
    public_ws_base: str | None = None  # e.g. wss://media.example.com; default ws://host:port
    backend_client: Any = None  # media_core.backend_client.BackendClient once the server has built it

    @classmethod
    def from_env(
        cls, host: str = "127.0.0.1", port: int = 8100, environ: dict[str, str] | None = None
    ) -> MediaConfig:
        """Read ``VPBX_*`` variables; blobs go to ``VPBX_BLOB_DIR``: a local directory or s3://bucket/prefix."""
        env = dict(os.environ if environ is None else environ)
        blob_root = env.get("VPBX_BLOB_DIR", "var/blobs")
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        return cls(
            host=host,
            port=port,
            blob_store=blob_store_at(blob_root, region),
            backend_url=env.get("VPBX_BACKEND_URL") or None,
            media_token=env.get("VPBX_MEDIA_TOKEN") or None,
            smtp_host=env.get("VPBX_SMTP_HOST", "localhost"),
            smtp_port=int(env.get("VPBX_SMTP_PORT", "25")),
            smtp_from=env.get("VPBX_SMTP_FROM", "fax@vpbx.local"),
            ses_region=env.get("VPBX_SES_REGION") or None,
            tenant_keys_dir=Path(env.get("VPBX_TENANT_KEYS_DIR", "var/tenant_keys")),
            spool_dir=Path(env.get("VPBX_MEDIA_SPOOL_DIR", "var/spool/media")),
            public_ws_base=env.get("VPBX_MEDIA_PUBLIC_WS") or None,
        )
