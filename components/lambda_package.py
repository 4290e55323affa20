"""What the software policy's Lambda function is made of: the engine's files from this repo,
the policy as JSON, and the installed files of the version-ordering library.

One code path for the CLI and the function: the function runs ``fleetctl/compliance`` as it
is in this repository, not a copy. Only the engine goes in: ``fleetctl/__init__.py`` and the
modules of ``fleetctl/compliance/`` except the CLI (which needs rich and ``fleetctl.ops``).
The engine imports the standard library, boto3/botocore (in every Lambda Python runtime),
and ``univers`` with its own dependencies, whose files are taken from the environment the
program runs in (``importlib.metadata``: whatever is installed, at whatever path).
``tests/test_lambda_package.py`` imports the packaged engine in a subprocess that can reach
nothing else.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pulumi
from packaging.requirements import Requirement

REPO_ROOT = Path(__file__).resolve().parent.parent
ENGINE_PACKAGE = "fleetctl/compliance"
# Modules of the package that stay out: the CLI imports rich and fleetctl.ops.
NOT_PACKAGED = frozenset({"cli.py"})
# Distributions the engine imports beyond the standard library and the runtime's boto3.
RUNTIME_DISTRIBUTIONS = ("univers",)
# Where the handler reads the policy (fleetctl/compliance/handler.py): the package's root.
POLICY_FILE = "software_policy.json"
# Installed files the function never reads: byte code (compiled for this machine's Python,
# not the runtime's) and console scripts outside site-packages.
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# Metadata files that record how this machine installed a distribution (the installer, the
# request, pip's file list with its byte code): left out, so the zip, and with it the
# function's code hash, is the same on every machine with the same pinned versions. METADATA
# stays: semantic_version reads its own version from it at import.
_INSTALL_RECORDS = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


def engine_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Archive path -> local file of the engine: ``fleetctl/__init__.py`` and every module
    of ``fleetctl/compliance/`` but the CLI, whatever modules the package has today."""
    files = {"fleetctl/__init__.py": root / "fleetctl" / "__init__.py"}
    for module in sorted((root / ENGINE_PACKAGE).glob("*.py")):
        if module.name not in NOT_PACKAGED:
            files[f"{ENGINE_PACKAGE}/{module.name}"] = module
    return files


def _runtime_requirements(distribution: importlib.metadata.Distribution) -> list[str]:
    """Names of what ``distribution`` needs at run time (its extras' requirements left out;
    environment markers judged here, for the interpreter running the program)."""
    names = []
    for line in distribution.requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(requirement.name)
    return names


class PackagingError(pulumi.RunError):
    """A dependency of the function is not installed where the program runs (a RunError:
    ``pulumi up`` prints the message alone)."""


def distribution_closure(names: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``names`` need, their dependencies included, each once,
    in the order first reached. PackagingError names one that is not installed."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    pending = list(names)
    while pending:
        name = pending.pop(0)
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise PackagingError(
                f"the software policy's Lambda function (ssm-inventory:softwarePolicy.schedule) "
                f"packages {name}, which is not installed in this Python environment "
                f"({sys.prefix}); install the pinned requirements (make setup)"
            ) from None
        seen[key] = distribution
        pending.extend(_runtime_requirements(distribution))
    return list(seen.values())


def dependency_files(names: Iterable[str] | None = None) -> dict[str, Path]:
    """Archive path -> local file of every installed file of ``names`` (default:
    ``RUNTIME_DISTRIBUTIONS``) and their dependencies, as each distribution's RECORD lists
    them (relative to site-packages)."""
    files: dict[str, Path] = {}
    for distribution in distribution_closure(RUNTIME_DISTRIBUTIONS if names is None else names):
        for entry in distribution.files or []:
            parts = entry.parts
            if parts[0] == ".." or "__pycache__" in parts or entry.suffix in _SKIPPED_SUFFIXES:
                continue
            if parts[0].endswith(".dist-info") and entry.name in _INSTALL_RECORDS:
                continue
            files[entry.as_posix()] = Path(str(distribution.locate_file(entry)))
    return files


def package_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Everything the function's zip holds besides the policy: the engine and its
    dependencies (the one list to adjust when the engine gains a module or a dependency)."""
    return {**dependency_files(), **engine_files(root)}


def lambda_archive(policy_json: str, files: Mapping[str, Path] | None = None) -> pulumi.AssetArchive:
    """The function's code: ``files`` (default: :func:`package_files`) and the policy as
    ``software_policy.json`` at the root."""
    chosen = package_files() if files is None else files
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        path: pulumi.FileAsset(str(local)) for path, local in sorted(chosen.items())
    }
    assets[POLICY_FILE] = pulumi.StringAsset(policy_json)
    return pulumi.AssetArchive(assets)
