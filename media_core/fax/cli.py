"""``vpbx fax decode CAPTURE -o DIR``: decode a T.38 fax from a pcap/pcapng into TIFF, PDF and PNGs.

Exit codes: 0 pages written, 1 no page could be decoded, 2 unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from media_core.fax.capture import decode_capture
from media_core.fax.render import render, write_files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpbx fax", description="T.38 fax tools")
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="decode a fax from a pcap/pcapng capture")
    dec.add_argument("capture", type=Path)
    dec.add_argument(
        "-o", "--output", type=Path, required=True, help="directory for fax.tiff, fax.pdf, page-N.png"
    )
    dec.add_argument(
        "--t38-version",
        type=int,
        choices=(0, 1, 2, 3),
        default=None,
        help="IFP encoding (T38FaxVersion); default: try both encodings",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        data = args.capture.read_bytes()
        doc = decode_capture(data, None if args.t38_version is None else min(args.t38_version, 1))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not doc.pages:
        print(f"error: no page decoded ({doc.summary()})", file=sys.stderr)
        for w in doc.warnings[:5]:
            print(f"  {w}", file=sys.stderr)
        return 1
    write_files(render(doc), args.output)
    print(doc.summary())
    return 0
