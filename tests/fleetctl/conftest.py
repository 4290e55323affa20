"""Helpers for the ``fleetctl plan`` tests: run the CLI in-process or as a real process,
and build throwaway projects (the repo's program with a stack file of the test's own)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetctl.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROD_POLICY = ROOT / "policy" / "config" / "prod.json"
DEV_POLICY = ROOT / "policy" / "config" / "dev.json"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.stdout)


def plan_in_process(*args: str) -> tuple[int, str]:
    """``fleetctl plan ARGS`` through ``fleetctl.cli.main``; returns (exit code, stdout)."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["plan", *args])
    return code, out.getvalue()


def fleetctl(*args: str, cwd: Path = ROOT) -> Result:
    """``python -m fleetctl ARGS`` as a separate process, the way CI runs it."""
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "fleetctl", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def make_project(tmp_path: Path, stack: str, config: dict[str, Any], program: str | None = None) -> Path:
    """A copy of the project (Pulumi.yaml, __main__.py, components/) with one stack file."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    if program is None:
        shutil.copy(ROOT / "__main__.py", project / "__main__.py")
        shutil.copytree(ROOT / "components", project / "components",
                        ignore=shutil.ignore_patterns("__pycache__"))
    else:
        (project / "__main__.py").write_text(program)
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    (project / "policy").symlink_to(ROOT / "policy")  # the pack default is <project>/policy
    return project


@pytest.fixture(scope="session")
def dev_plan() -> tuple[int, dict[str, Any]]:
    code, out = plan_in_process("--stack", "dev", "--json")
    return code, json.loads(out)


@pytest.fixture(scope="session")
def prod_plan() -> tuple[int, dict[str, Any]]:
    code, out = plan_in_process("--stack", "prod", "--json")
    return code, json.loads(out)
