"""Settings read from the environment, once, at the edge."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Settings:
    public_url: str = "http://127.0.0.1:8000"
    store: str = "sqlite"
    sqlite_path: str = str(ROOT / "var" / "vpbx.sqlite")
    dynamodb_table: str = "vpbx-events"
    dynamodb_url: str | None = None
    aws_region: str = "us-east-1"
    demo_auth_token: str = "demo-auth-token"
    media_token: str = "media-dev-token"
    blob_dir: str = str(ROOT / "var" / "blobs")
    media_url: str | None = None  # the media core's control API; unset: the gateway receives faxes itself
    media_timeout_s: float = 3.0
    smtp_host: str = ""  # mail is off unless VPBX_SMTP_HOST or VPBX_SES_REGION is set
    smtp_port: int = 25
    smtp_from: str = "vpbx@localhost"
    ses_region: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        d = cls()
        return cls(
            public_url=env.get("VPBX_PUBLIC_URL", d.public_url).rstrip("/"),
            store=env.get("VPBX_STORE", d.store),
            sqlite_path=env.get("VPBX_SQLITE_PATH", d.sqlite_path),
            dynamodb_table=env.get("VPBX_DYNAMODB_TABLE", d.dynamodb_table),
            dynamodb_url=env.get("VPBX_DYNAMODB_URL") or None,
            aws_region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", d.aws_region)),
            demo_auth_token=env.get("VPBX_DEMO_AUTH_TOKEN", d.demo_auth_token),
            media_token=env.get("VPBX_MEDIA_TOKEN", d.media_token),
            blob_dir=env.get("VPBX_BLOB_DIR", d.blob_dir),
            media_url=(env.get("VPBX_MEDIA_URL") or "").rstrip("/") or None,
            media_timeout_s=float(env.get("VPBX_MEDIA_TIMEOUT", d.media_timeout_s)),
            smtp_host=env.get("VPBX_SMTP_HOST", d.smtp_host),
            smtp_port=int(env.get("VPBX_SMTP_PORT", d.smtp_port)),
            smtp_from=env.get("VPBX_SMTP_FROM", d.smtp_from),
            ses_region=env.get("VPBX_SES_REGION") or None,
        )
