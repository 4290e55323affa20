"""Reads a Pulumi project the way the CLI does: Pulumi.yaml defaults, then Pulumi.<stack>.yaml.

The engine hands a Python program its config as a flat map of ``namespace:key`` to string,
with structured values (lists, objects) JSON-encoded. We build exactly that map, so the
program sees under mocks what it would see under ``pulumi up``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ProjectError(Exception):
    """The project or stack file is missing or malformed."""


@dataclass(frozen=True)
class StackSettings:
    project: str
    stack: str
    config: dict[str, str]

    @property
    def region(self) -> str:
        return region_of(self.config)


def region_of(config: dict[str, str]) -> str:
    """The stack's ``aws:region`` (the provider's own default when unset)."""
    return config.get("aws:region", "us-east-1")


def _encode(value: Any) -> str:
    """Encodes a YAML config value the way the Pulumi CLI passes it to a program."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as exc:
        raise ProjectError(f"{path.name} not found in {path.parent}") from exc
    except yaml.YAMLError as exc:
        raise ProjectError(f"{path.name} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProjectError(f"{path.name} must be a YAML mapping")
    return data


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def load_stack_settings(
    stack: str,
    project_dir: Path = PROJECT_ROOT,
    overrides: dict[str, Any] | None = None,
) -> StackSettings:
    """Project defaults, then the stack file, then ``overrides`` (keys may omit the project)."""
    project_file = _load_yaml(project_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str):
        raise ProjectError("Pulumi.yaml has no project name")

    config: dict[str, str] = {}
    for key, decl in (project_file.get("config") or {}).items():
        if isinstance(decl, dict):
            if "default" in decl:
                config[_qualify(project, key)] = _encode(decl["default"])
            elif "value" in decl:
                config[_qualify(project, key)] = _encode(decl["value"])
        else:
            config[_qualify(project, key)] = _encode(decl)

    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise ProjectError(f"stack '{stack}' has no Pulumi.{stack}.yaml in {project_dir}")
    for key, value in (_load_yaml(stack_file).get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            raise ProjectError(f"{key}: secret values cannot be read offline")
        config[_qualify(project, key)] = _encode(value)

    for key, value in (overrides or {}).items():
        qualified = _qualify(project, key)
        if value is None:
            config.pop(qualified, None)
        else:
            config[qualified] = _encode(value)
    return StackSettings(project=project, stack=stack, config=config)
