"""A key of tenant A can neither read nor change anything of tenant B, on every /api/v1 route of the app.

The routes come from ``app.routes``, so a route added later is walked too; path parameters are
filled with ids that exist in tenant B.
"""

from __future__ import annotations

import json
import re

from chalicelib.auth import KEYRING
from tests.api.conftest import OTHER, Api
from tests.conftest import Gateway, call_params

PARAM = re.compile(r"\{([^}]+)\}")
B_CALL = "CA" + "b" * 32
SECRETS_OF_B = ("Acme", "sales@acme.test", "Office hours B")  # B's data no URL of the walk names


def test_a_key_of_one_tenant_gets_nothing_of_another_on_every_route(app, api: Api, other_api: Api, services):
    # given tenant B with a call, a schedule, a room, an audio file and an API key of its own
    Gateway(services, tenant=OTHER, token="other-token").post("voice", call_params(B_CALL))
    assert other_api.post("/schedules", {"id": "office", "name": "Office hours B"}).status_code == 201
    assert other_api.post("/conference-rooms", {"id": "board", "name": "Acme board"}).status_code == 201
    audio = other_api.call("POST", "/audio?name=Acme+hold&kind=hold_music", raw=b"RIFF....WAVEfmt ",
                           headers={"Content-Type": "audio/wav"})
    assert audio.status_code == 201, audio.body
    b_key_id = next(iter(KEYRING.keys(services, OTHER)))
    ids = {"extensions": "101", "groups": "sales", "voicemail-boxes": "sales", "numbers": "+15550001000",
           "schedules": "office", "conference-rooms": "board", "audio": json.loads(audio.body)["id"]}
    values = {"tenant": OTHER, "tenant_id": OTHER, "key_id": b_key_id, "plan_id": "main", "version": "1",
              "list_name": "blacklist", "number": "+15550009999", "sid": B_CALL, "call_sid": B_CALL}
    version_before = services.store.stream_version(f"tenant-{OTHER}")
    routes = sorted((m, p) for p, entries in app.routes.items() if p.startswith("/api/v1") for m in entries)
    leaks, allowed = [], []
    for method, path in routes:
        collection = path.split("/")[5] if path.startswith("/api/v1/tenants/") and path.count("/") > 4 else ""
        url = PARAM.sub(lambda m, c=collection: ids.get(c, "x") if m.group(1) == "item_id"
                        else values.get(m.group(1), "x"), path)
        # when tenant A's key calls it with a body that would be a valid change
        if method == "POST" and path.endswith("/audio"):
            response = api.call(method, url + "?name=x&kind=greeting", raw=b"RIFF....WAVEfmt ",
                                headers={"Content-Type": "audio/wav"})
        else:
            response = api.call(method, url, {"name": "Hacked", "entries": [], "number": "+15550004444"}
                                if method in ("POST", "PUT", "PATCH") else None)
        text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
        # then a route of tenant B is refused, and no route shows B's data
        if "{tenant" in path and response.status_code != 403:
            allowed.append(f"{method} {path} -> {response.status_code}")
        # (a route without {tenant} acts for the key's own tenant: B's id must not even appear there)
        if any(secret in text for secret in SECRETS_OF_B) or "{tenant" not in path and f'"{OTHER}"' in text \
                or "{sid}" in path and response.status_code == 200:
            leaks.append(f"{method} {path}")
    assert allowed == [] and leaks == []
    # and nothing of B changed
    assert services.store.stream_version(f"tenant-{OTHER}") == version_before
    assert len(routes) > 30
