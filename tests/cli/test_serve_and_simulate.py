"""The newcomer's path: `vpbx serve --seed-demo`, then `vpbx simulate`, then `vpbx events`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port

VPBX = [sys.executable, "-m", "chalicelib.cli"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {**os.environ, "VPBX_SQLITE_PATH": str(tmp_path / "vpbx.sqlite"), "PORT": str(port),
           "VPBX_PUBLIC_URL": f"http://127.0.0.1:{port}", "VPBX_DEMO_AUTH_TOKEN": "cli-token",
           "VPBX_BLOB_DIR": str(tmp_path / "blobs")}
    proc = subprocess.Popen([*VPBX, "serve", "--seed-demo", "--no-media", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise AssertionError("vpbx serve did not come up: " + (proc.stdout.read() if proc.stdout else ""))
    yield env
    proc.terminate()
    proc.wait(10)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VPBX, *args], env=env, capture_output=True, text=True, timeout=60)


def test_a_newcomer_hears_the_menu_and_leaves_a_voicemail(server: dict[str, str]) -> None:
    out = run(["simulate", "--to", "+15550001000", "--from", "+15550002000", "--digits", "1", "--dial", "no-answer",
               "--url", server["VPBX_PUBLIC_URL"], "--public-url", server["VPBX_PUBLIC_URL"],
               "--auth-token", "cli-token"], server)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("caller hears: Thank you for calling Demo Company")
    assert "caller presses: 1" in lines
    assert any(line.startswith("dialling sip sip:101@demo.sip.vpbx.local, client 102") for line in lines)
    assert "recording a message (12 s)" in lines and lines[-2] == "vpbx hangs up"


def test_events_prints_the_call_one_event_per_line(server: dict[str, str]) -> None:
    sid = "CA" + "e" * 32
    from chalicelib.simulator import Gateway, Script

    Gateway(server["VPBX_PUBLIC_URL"], server["VPBX_PUBLIC_URL"], "demo", "cli-token", say=lambda _: None).call(
        "+15550001000", "+15550002000", Script(digits=["2"], dial=["completed"]), call_sid=sid)
    out = run(["events", sid], server)
    assert out.returncode == 0, out.stderr
    kinds = [re.split(r"\s+", line.strip())[2] for line in out.stdout.splitlines()]
    assert kinds[0] == "CallStarted" and "DigitsGathered" in kinds and "DialEnded" in kinds
    assert kinds[-1] == "CallStatusChanged"


def test_simulate_reports_a_wrong_token_as_a_failure(server: dict[str, str]) -> None:
    out = run(["simulate", "--to", "+15550001000", "--from", "+15550002000", "--url", server["VPBX_PUBLIC_URL"],
               "--public-url", server["VPBX_PUBLIC_URL"], "--auth-token", "wrong"], server)
    assert out.returncode == 1 and "HTTP 403" in out.stdout
