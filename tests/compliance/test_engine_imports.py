"""The engine modules import only what the Lambda function's package holds: the standard
library, univers (and its dependencies) and fleetctl.compliance itself (issue 11: the stack
packages exactly those files). Checked in a fresh interpreter where pulumi, pydantic, rich,
fleetctl.ops and fleetctl.cli cannot be imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = ("pulumi", "pulumi_aws", "pydantic", "rich", "fleetctl.ops", "fleetctl.cli",
               "components", "boto3", "yaml")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"{name} is not in the Lambda package")
            return None

    sys.meta_path.insert(0, Block())
    import fleetctl.compliance.evaluate, fleetctl.compliance.rules, fleetctl.compliance.versions
    from fleetctl.compliance.evaluate import evaluate
    from fleetctl.compliance.model import InstanceSoftware, Rule
    (verdict,) = evaluate([Rule("a", "required", "x", ">=1.0")],
                          [InstanceSoftware("i-1", "Linux", None, ({"Name": "x", "Version": "1.0"},))])
    print(verdict.compliant)
    """
)


def test_engine_imports_without_the_program_or_the_cli() -> None:
    done = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
