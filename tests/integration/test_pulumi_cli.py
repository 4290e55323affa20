"""`pulumi preview` of the dev stack with the policy pack, for machines that have the Pulumi
CLI and AWS credentials (read-only calls: the preview creates nothing).

Skipped, with the reason, where either is missing (as on the CI machines, which have
neither); everything it checks is also covered offline by the mocked and protocol tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
PULUMI = shutil.which("pulumi")



def _missing() -> str | None:
    """Why this machine cannot run a real preview (None when it can)."""
    if PULUMI is None:
        return "the Pulumi CLI is not installed on this machine"
    if boto3.Session().get_credentials() is None:  # asked only when the CLI is there
        return "no AWS credentials: `pulumi preview` calls AWS for AZs and AMI ids"
    return None


MISSING = _missing()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def _project_copy(tmp_path: Path) -> Path:
    """A copy of the project, so stack init never rewrites the repo's stack files."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    for folder in ("components", "policy"):
        shutil.copytree(ROOT / folder, project / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "venv"))
    (project / ".venv").symlink_to(ROOT / ".venv")
    return project


def test_preview_dev_with_policy_pack(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "integration-test",
    }
    (tmp_path / "state").mkdir()

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        assert PULUMI is not None
        return subprocess.run([PULUMI, *args, "--cwd", str(project), "--non-interactive"],
                              env=env, capture_output=True, text=True, timeout=900, check=False)

    init = pulumi("stack", "select", "--create", "dev")
    assert init.returncode == 0, init.stderr
    preview = pulumi("preview", "--stack", "dev", "--json",
                     "--policy-pack", str(project / "policy"),
                     "--policy-pack-config", str(project / "policy" / "config" / "dev.json"))
    assert preview.returncode == 0, preview.stderr + preview.stdout
    steps = json.loads(preview.stdout)["steps"]
    types = [s["newState"]["type"] for s in steps if s.get("op") == "create"]
    assert types.count("aws:ec2/instance:Instance") == 4
    assert "aws:ssm/association:Association" in types
