"""Decrypt a stored recording to a WAV file: ``python -m media_core.recording_cli REC.vrec --keys DIR -o OUT.wav``.

Invariant: refuses to write anything if the tenant key is gone or a byte was altered; warns (exit
code 3) when the recording was cut short by a crash but writes the audio that was flushed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag

from media_core.envelope import TenantKeyMissing, TenantKeyring
from media_core.recording import decrypt_recording


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m media_core.recording_cli", description=__doc__)
    parser.add_argument("recording", type=Path)
    parser.add_argument(
        "--keys", type=Path, required=True, help="tenant keys directory (VPBX_TENANT_KEYS_DIR)"
    )
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        result = decrypt_recording(args.recording.read_bytes(), TenantKeyring(args.keys))
    except TenantKeyMissing as exc:
        print(f"cannot decrypt {args.recording}: {exc.args[0]}", file=sys.stderr)
        return 2
    except InvalidTag:
        print(
            f"cannot decrypt {args.recording}: authentication failed (altered, or the wrong key)",
            file=sys.stderr,
        )
        return 2
    args.output.write_bytes(result.wav)
    if not result.complete:
        print(
            f"warning: {args.recording} was not finalised (crash?); wrote the audio flushed before it",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
