"""`vpbx serve` starts the media core beside the backend, and what the media core does lands on
the call as events (the composition `make run` gives a newcomer)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests

from tests.conftest import free_port

VPBX = [sys.executable, "-m", "chalicelib.cli"]
SID = "CA" + "7" * 32


def wait_for(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


def test_a_conference_join_on_the_media_core_becomes_an_event_of_the_call(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port, media_port = free_port(), free_port()
    env = {**os.environ, "VPBX_SQLITE_PATH": str(tmp_path / "vpbx.sqlite"), "VPBX_MEDIA_PORT": str(media_port),
           "VPBX_MEDIA_TOKEN": "e2e-token", "VPBX_BLOB_DIR": str(tmp_path / "blobs"),
           "VPBX_CALLCENTER_TICK": "60"}
    env.pop("VPBX_PUBLIC_URL", None)
    env.pop("VPBX_BACKEND_URL", None)
    proc = subprocess.Popen([*VPBX, "serve", "--seed-demo", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        wait_for(f"http://127.0.0.1:{port}/health", deadline)
        wait_for(f"http://127.0.0.1:{media_port}/health", deadline)
        auth = {"Authorization": "Bearer e2e-token"}
        media = f"http://127.0.0.1:{media_port}"
        assert requests.post(f"{media}/rooms", json={"name": "r1", "tenant_id": "demo"}, headers=auth,
                             timeout=5).status_code == 201
        joined = requests.post(f"{media}/rooms/r1/participants", json={"transport": "rtp", "call_sid": SID},
                               headers=auth, timeout=5)
        assert joined.status_code == 201 and joined.json()["rtp_port"] > 0
        lines = ""
        while time.monotonic() < deadline:
            out = subprocess.run([*VPBX, "events", SID], env=env, capture_output=True, text=True, timeout=60)
            lines = out.stdout
            if "ConferenceParticipantJoined" in lines:
                break
            time.sleep(0.5)
        assert "MediaEventRecorded" in lines and 'kind="ConferenceParticipantJoined"' in lines, lines
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(15)
