"""vpbx media ... and vpbx fax ...: the media core's own commands, forwarded as they are."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    media = sub.add_parser("media", help="the media core: `vpbx media serve [--host H --port P]`",
                           add_help=False)
    media.add_argument("rest", nargs=argparse.REMAINDER)
    media.set_defaults(func=run_media)
    fax = sub.add_parser("fax", help="faxes: `vpbx fax decode CAPTURE.pcap -o DIR`", add_help=False)
    fax.add_argument("rest", nargs=argparse.REMAINDER)
    fax.set_defaults(func=run_fax)


def forward(command: str, rest: list[str]) -> int:
    if command == "fax":
        from media_core.fax.cli import main as fax_main

        return fax_main(rest)
    from media_core.server import main as media_main

    return media_main(rest[1:] if rest[:1] == ["serve"] else rest)


def run_media(args: argparse.Namespace) -> int:
    return forward("media", list(args.rest))


def run_fax(args: argparse.Namespace) -> int:
    return forward("fax", list(args.rest))
