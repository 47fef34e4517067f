"""Headless command line: ``python -m fedcore <command> ...``.

Each sub-command is a module in this package exposing ``register(subparsers)`` which adds
its parser and sets ``func=run`` where ``run(args) -> int`` is the exit status. Errors meant
for people (:class:`fedcore.errors.FedLensError`) become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import FedLensError

#: Sub-command name -> module (relative to this package) that registers it.
COMMANDS = {
    "datasets": ".datasets_cmd",
    "inspect": ".inspect_cmd",
    "run": ".run_cmd",
    "grid": ".grid_cmd",
    "report": ".report_cmd",
    "explain": ".explain_cmd",
    "import": ".import_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fedcore",
                                     description="FedLens headless runs and tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        try:
            mod = importlib.import_module(module, __name__)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(__name__):
                continue  # sub-command not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except FedLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: partial results were not written", file=sys.stderr)
        return 130
