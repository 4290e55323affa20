"""Reads a Pulumi project the way the CLI does: Pulumi.yaml defaults, then Pulumi.<stack>.yaml.

``secure:`` values cannot be decrypted offline: the program gets ``[secret]`` in their
place and the plan says so (a program that needs the real value fails naming the key).

The engine hands a Python program its config as a flat map of ``namespace:key`` to string,
with structured values (lists, objects) JSON-encoded. We build exactly that map, so the
program sees under mocks what it would see under ``pulumi up``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fleetctl.config_paths import ConfigPathError, format_path, parse_config_path, set_path

# Where this package was installed from: the default of the library calls (tests, benchmarks).
# The CLI plans the project the user stands in (``find_project_dir``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# What the program gets for a ``secure:`` value: offline, nothing can decrypt it.
SECRET_PLACEHOLDER = "[secret]"


class ProjectError(Exception):
    """The project or stack file is missing or malformed."""


@dataclass(frozen=True)
class StackSettings:
    project: str
    stack: str
    config: dict[str, str]
    # Config keys (with their path) whose stack-file value is a secret the plan cannot read.
    secrets: tuple[str, ...] = ()
    # What the --config overrides did beyond setting a leaf (e.g. replacing a whole object).
    notes: tuple[str, ...] = ()

    @property
    def region(self) -> str:
        return region_of(self.config)

    @property
    def secret_keys(self) -> list[str]:
        """The config keys holding a secret (whole or in part), as the engine marks them."""
        return sorted({re.split(r"[.\[]", path, maxsplit=1)[0] for path in self.secrets})


def region_of(config: dict[str, str]) -> str:
    """The stack's ``aws:region`` (the provider's own default when unset)."""
    return config.get("aws:region", "us-east-1")


def find_project_dir(start: Path | None = None) -> Path:
    """The nearest directory holding ``Pulumi.yaml``, from ``start`` (cwd) upwards,
    as the Pulumi CLI looks for its project."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "Pulumi.yaml").is_file():
            return directory
    raise ProjectError(f"no Pulumi.yaml in {here} or any parent directory; run fleetctl "
                       "inside the project or pass --project-dir DIR")


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


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _unseal(value: Any, where: str, found: list[str]) -> Any:
    """The value with every ``secure:`` leaf (top level or nested) replaced by the placeholder."""
    if _is_secret(value):
        found.append(where)
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _unseal(v, f"{where}{format_path((str(k),))}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_unseal(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    return value


def _decode(text: str) -> Any:
    """A flat config string back to the structured value it encodes (if it is one)."""
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def load_stack_settings(
    stack: str,
    project_dir: Path = PROJECT_ROOT,
    overrides: dict[str, Any] | None = None,
) -> StackSettings:
    """Project defaults, then the stack file, then ``overrides``.

    Override keys may omit the project namespace and may be ``pulumi config set --path``
    paths (``inventory.schedule``): a path sets one leaf of the structured value and keeps
    the rest; a bare key replaces the value; a ``None`` value removes the key or leaf.
    """
    project_file = _load_yaml(project_dir / "Pulumi.yaml")
    project = project_file.get("name")
    if not isinstance(project, str):
        raise ProjectError("Pulumi.yaml has no project name")

    values: dict[str, Any] = {}
    for key, decl in (project_file.get("config") or {}).items():
        if isinstance(decl, dict):
            if "default" in decl:
                values[_qualify(project, key)] = decl["default"]
            elif "value" in decl:
                values[_qualify(project, key)] = decl["value"]
        else:
            values[_qualify(project, key)] = decl

    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        raise ProjectError(f"stack '{stack}' has no Pulumi.{stack}.yaml in {project_dir}")
    secrets: list[str] = []
    for key, value in (_load_yaml(stack_file).get("config") or {}).items():
        qualified = _qualify(project, str(key))
        values[qualified] = _unseal(value, qualified, secrets)

    notes: list[str] = []
    for key, value in (overrides or {}).items():
        try:
            target = parse_config_path(key)
            qualified = _qualify(project, target.key)
            where = target.describe(qualified)
            # An override replaces what it covers: a secret under it is no longer read.
            secrets = [s for s in secrets if s != where and not s.startswith((f"{where}.", f"{where}["))]
            if not target.path:
                current = values.get(qualified)
                if value is None:
                    values.pop(qualified, None)
                    continue
                if isinstance(current, dict | list) and current != value:
                    kind = "object" if isinstance(current, dict) else "list"
                    notes.append(f"{where}: replaced whole {kind} "
                                 f"(set one field with {target.key}.<field>=VALUE)")
                values[qualified] = value
                continue
            current = values.get(qualified)
            if isinstance(current, str):
                current = _decode(current)
            values[qualified] = set_path(current, target.path, value, qualified)
        except ConfigPathError as exc:
            raise ProjectError(f"--config {exc}") from None
    config = {key: _encode(value) for key, value in values.items()}
    return StackSettings(project=project, stack=stack, config=config,
                         secrets=tuple(secrets), notes=tuple(notes))
