"""Over real HTTP: `vpbx serve --seed-demo` prints a demo API key, and the API answers with it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import requests

from tests.conftest import free_port


def test_serve_prints_a_demo_key_that_works_over_http(tmp_path):
    # given vpbx serve on a fresh store
    port = free_port()
    env = {**os.environ, "VPBX_SQLITE_PATH": str(tmp_path / "vpbx.sqlite"), "PORT": str(port),
           "VPBX_PUBLIC_URL": f"http://127.0.0.1:{port}", "VPBX_BLOB_DIR": str(tmp_path / "blobs"),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "chalicelib.cli", "serve", "--seed-demo", "--no-media", "--port",
                             str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        key = ""
        assert proc.stdout is not None
        for line in proc.stdout:
            if "demo API key:" in line:
                key = line.split("demo API key:")[1].split()[0]
            if line.startswith("vpbx on"):
                break
        assert key.startswith("vpbx_"), "serve printed no demo API key"
        base = f"http://127.0.0.1:{port}/api/v1/tenants/demo"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"{base}/extensions/100", headers={"Authorization": f"Bearer {key}"},
                                        timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "vpbx serve did not come up"
                time.sleep(0.2)
        # then the key reads the demo configuration and changes it with a merge-patch
        assert response.status_code == 200 and response.json()["name"] == "Olivia Operator"
        patched = requests.patch(f"{base}/extensions/100", json={"dnd": True}, timeout=5,
                                 headers={"Authorization": f"Bearer {key}",
                                          "Content-Type": "application/merge-patch+json"})
        assert patched.status_code == 200 and patched.json()["dnd"] is True
        assert requests.get(f"{base}/extensions/100", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
