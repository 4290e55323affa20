"""fleetctl command line: ``plan`` (offline preview + policy gate) and the fleet checks.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that contribute subcommands, in help order. A module missing here is simply
# not offered (the offline plan does not need boto3, the fleet checks do not need pulumi).
SUBCOMMAND_MODULES = ("fleetctl.plan", "fleetctl.ops")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleetctl",
        description="Offline plans, policy gates and fleet checks for ssm-inventory.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
