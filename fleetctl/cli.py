"""fleetctl command line: ``plan`` (offline preview + policy gate) and the fleet checks.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, which returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that contribute subcommands, in help order. A module missing here (or its whole
# package) is simply not offered (the offline plan does not need boto3, the fleet checks do
# not need pulumi).
SUBCOMMAND_MODULES = (
    "fleetctl.plan.command",
    "fleetctl.ops",
    "fleetctl.compliance.cli",
    "fleetctl.report",
)


def _is_module_or_its_package(missing: str | None, module_name: str) -> bool:
    """Whether the module not found is ``module_name`` itself or a package holding it
    (``fleetctl.plan`` for ``fleetctl.plan.command``)."""
    return missing is not None and (missing == module_name or module_name.startswith(f"{missing}."))


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
            if not _is_module_or_its_package(exc.name, module_name):
                raise  # a dependency is missing, not the subcommand
            continue
        module.register(subparsers)
    return parser


# Exit code for a usage or environment problem (as `fleetctl plan` uses it for config errors).
EXIT_ERROR = 2

MISSING_DEPENDENCY_HINT = (
    "fleetctl: this Python lacks the project's dependencies (no module named {name!r}); "
    "run `make setup` in the project, then `.venv/bin/fleetctl ...` "
    "(or `source .venv/bin/activate` first)"
)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ModuleNotFoundError as exc:
        # `python -m fleetctl` with a Python outside the venv: say what to do, in one line.
        print(MISSING_DEPENDENCY_HINT.format(name=(exc.name or "?").split(".")[0]), file=sys.stderr)
        return EXIT_ERROR
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
