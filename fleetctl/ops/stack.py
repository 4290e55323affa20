"""``--stack NAME``: which fleet a Pulumi stack deployed, so ``fleetctl check --stack prod``
needs nothing else.

Sources, first that answers wins:

1. ``--outputs FILE``: the JSON ``pulumi stack output --json`` prints (saved by CI, say);
2. ``pulumi stack output --json --stack NAME`` when the Pulumi CLI is on ``PATH``;
3. ``Pulumi.<stack>.yaml`` with the project defaults (:mod:`fleetctl.project`), validated
   by the program's own config model, so the values are the ones ``pulumi up`` used.

Outputs read (docs/outputs.md): ``workload``, ``environmentTag``, ``associationName`` and
``region`` (stacks deployed before ``region`` was exported lack it: then the stack file's
``aws:region``, then the usual region chain). Explicit flags always win.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PULUMI_TIMEOUT_SECONDS = 120


class StackError(Exception):
    """The stack's outputs or file could not be read: one line for the operator."""


@dataclass(frozen=True)
class StackFleet:
    """What a stack says about its fleet; None where the source does not say."""

    source: str  # where it came from, for messages
    workload: str | None = None
    environment: str | None = None
    association_name: str | None = None
    region: str | None = None


def _text(outputs: dict[str, Any], key: str) -> str | None:
    value = outputs.get(key)
    return value if isinstance(value, str) and value else None


def from_outputs(outputs: dict[str, Any], source: str) -> StackFleet:
    if not isinstance(outputs, dict):
        raise StackError(f"{source}: stack outputs must be a JSON object")
    fleet = StackFleet(
        source=source,
        workload=_text(outputs, "workload"),
        environment=_text(outputs, "environmentTag"),
        association_name=_text(outputs, "associationName"),
        region=_text(outputs, "region"),
    )
    if fleet.workload is None:
        raise StackError(f"{source}: no 'workload' output (is this an ssm-inventory stack?)")
    return fleet


def read_outputs_file(path: Path) -> StackFleet:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StackError(f"--outputs {path}: no such file") from exc
    except json.JSONDecodeError as exc:
        raise StackError(f"--outputs {path}: not JSON ({exc})") from exc
    return from_outputs(data, f"--outputs {path}")


def read_pulumi_cli(stack: str, pulumi: str) -> StackFleet:
    command = [pulumi, "stack", "output", "--json", "--stack", stack]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PULUMI_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StackError(f"`{' '.join(command)}` failed: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise StackError(
            f"`{' '.join(command)}` exited {done.returncode}: {detail[-1] if detail else 'no message'}"
        )
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise StackError(f"`{' '.join(command)}` printed no JSON ({exc})") from exc
    return from_outputs(data, f"pulumi stack output --stack {stack}")


def read_stack_file(stack: str) -> StackFleet:
    """Project defaults + ``Pulumi.<stack>.yaml``, through the program's config model."""
    from components.config import ConfigError, parse_stack_config
    from fleetctl.project import ProjectError, find_project_dir, load_stack_settings

    try:
        # The project you stand in, as `pulumi` and `fleetctl plan` find it.
        settings = load_stack_settings(stack, find_project_dir())
        config = parse_stack_config(settings.config)
    except ProjectError as exc:
        raise StackError(f"stack {stack!r}: {exc}") from exc
    except ConfigError as exc:
        raise StackError(f"stack {stack!r}: {exc}") from exc
    return StackFleet(
        source=f"Pulumi.{stack}.yaml",
        workload=config.workload,
        environment=config.environment_tag,
        association_name=config.inventory.association_name,
        region=settings.config.get("aws:region"),
    )


def resolve_stack(stack: str | None, outputs_file: Path | None) -> StackFleet | None:
    """The stack's fleet from the first source that applies (see the module docstring)."""
    if outputs_file is not None:
        return read_outputs_file(outputs_file)
    if stack is None:
        return None
    pulumi = shutil.which("pulumi")
    fleet = read_pulumi_cli(stack, pulumi) if pulumi else read_stack_file(stack)
    if fleet.region is None and pulumi:
        # outputs of a stack deployed before `region` was exported: the stack file knows it
        with contextlib.suppress(StackError):
            fleet = replace(fleet, region=read_stack_file(stack).region)
    return fleet
