"""The ``vpbx`` console command. Each subcommand lives in a module of ``chalicelib.commands``
that exposes ``register(subparsers)``; adding a command is adding a module name below."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "chalicelib.commands.serve",
    "chalicelib.commands.simulate",
    "chalicelib.commands.events",
    "chalicelib.commands.media",
    "chalicelib.commands.explain",
    "chalicelib.commands.whatif",
    "chalicelib.commands.apikey",
    "chalicelib.commands.replay",
    "chalicelib.commands.bill",
    "chalicelib.commands.audit",
    "chalicelib.commands.verify",
    "chalicelib.commands.callbacks",
    "chalicelib.commands.effects",
    "chalicelib.commands.agents",
    "chalicelib.commands.simulate_queue",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpbx", description="vpbx, a cloud PBX backend")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["fax"], ["media"]):  # the media core parses its own arguments (and --help)
        from chalicelib.commands import media

        return media.forward(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    result = args.func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
