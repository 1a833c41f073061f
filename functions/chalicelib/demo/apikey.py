"""An API key for the demo tenant, made when ``vpbx serve --seed-demo`` first seeds it."""

from __future__ import annotations

from chalicelib.auth import KEYRING, create_api_key
from chalicelib.bootstrap import Services
from chalicelib.demo import DEMO_TENANT

LABEL = "demo (vpbx serve --seed-demo)"


def seed_demo_api_key(services: Services) -> str | None:
    """A new full-access key for the demo tenant, unless one made here is still active (its secret is
    shown only once, so a later run tells how to mint another instead)."""
    if any(k.label == LABEL and not k.revoked_at for k in KEYRING.keys(services, DEMO_TENANT).values()):
        return None
    key, _ = create_api_key(services, DEMO_TENANT, label=LABEL, actor="seed")
    return key
