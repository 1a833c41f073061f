"""`vpbx fax ...` and `vpbx media ...` reach the media core's own command lines."""

from __future__ import annotations

import subprocess
import sys

VPBX = [sys.executable, "-m", "chalicelib.cli"]


def test_vpbx_fax_forwards_to_the_fax_decoder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "not-a-capture.pcap"
    bogus.write_bytes(b"this is not a packet capture")
    out = subprocess.run([*VPBX, "fax", "decode", str(bogus), "-o", str(tmp_path / "out")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "error" in (out.stdout + out.stderr).lower()


def test_vpbx_media_help_is_the_media_servers() -> None:
    out = subprocess.run([*VPBX, "media", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--port" in out.stdout
