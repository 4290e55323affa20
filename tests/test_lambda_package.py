"""The Lambda function's code: exactly the engine's files, the policy, and the installed files
of univers and its dependencies; and the packaged engine imports with nothing else around.

The isolation test unpacks the archive into a directory and imports every packaged module
in a fresh interpreter started with ``-I -S``: no site-packages, no PYTHONPATH, no working
directory on ``sys.path``. Its path holds only the unpacked package and the AWS SDK that every
Lambda Python runtime includes (Lambda developer guide, "Building Lambda functions with
Python": "an environment that includes the SDK for Python (Boto3)"). So pulumi, pydantic,
rich, fleetctl.ops, fleetctl.plan or anything else the program has installed cannot be imported by
accident: a module that needs them fails here as it would in Lambda.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from components.lambda_package import (
    NOT_PACKAGED,
    POLICY_FILE,
    REPO_ROOT,
    distribution_closure,
    engine_files,
    lambda_archive,
    package_files,
)
from components.software_compliance import HANDLER
from fleetctl.compliance.model import Rule
from fleetctl.compliance.rules import rules_to_json

# The SDK a Lambda Python runtime provides (boto3 and what it imports).
LAMBDA_RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


def test_engine_is_the_package_init_and_every_compliance_module_but_the_cli(tmp_path: Path) -> None:
    package = tmp_path / "fleetctl" / "compliance"
    package.mkdir(parents=True)
    for name in ("__init__.py", "model.py", "evaluate.py", "cli.py"):
        (package / name).write_text("")
    (tmp_path / "fleetctl" / "__init__.py").write_text("")
    (tmp_path / "fleetctl" / "cli.py").write_text("")
    (tmp_path / "fleetctl" / "ops").mkdir()
    (tmp_path / "fleetctl" / "ops" / "aws.py").write_text("")
    (tmp_path / "fleetctl" / "plan").mkdir()
    (tmp_path / "fleetctl" / "plan" / "mockrun.py").write_text("")
    (package / "notes.txt").write_text("")
    files = engine_files(tmp_path)
    assert sorted(files) == ["fleetctl/__init__.py", "fleetctl/compliance/__init__.py",
                             "fleetctl/compliance/evaluate.py", "fleetctl/compliance/model.py"]
    assert files["fleetctl/compliance/model.py"] == package / "model.py"
    assert {"cli.py"} == NOT_PACKAGED


def test_dependencies_come_from_the_installed_distributions() -> None:
    names = {d.metadata["Name"].lower().replace("_", "-") for d in distribution_closure(["univers"])}
    # univers 32's requirements without extras (its METADATA), found from what is installed.
    assert {"univers", "attrs", "packaging", "semantic-version", "semver"} <= names
    assert not names & {"pytest", "sphinx", "black"}  # extras ("testing", "docs") stay out
    files = package_files()
    assert "univers/version_range.py" in files and "univers/debian.py" in files
    assert all(local.is_file() for local in files.values())
    assert not [p for p in files if p.endswith((".pyc", ".so", ".pyd")) or "__pycache__" in p]
    # Metadata as the wheel ships it; nothing that records this machine's install.
    assert [p for p in files if p.startswith("semantic_version-") and p.endswith(".dist-info/METADATA")]
    assert not [p for p in files if p.rsplit("/", 1)[-1] in {"RECORD", "INSTALLER", "REQUESTED",
                                                               "direct_url.json"}]
    # Nothing of the program's own stack: no pulumi, pydantic, rich, fleetctl.ops, plan or CLI.
    tops = {path.split("/")[0] for path in files}
    assert not tops & {"pulumi", "pulumi_aws", "pydantic", "pydantic_core", "rich", "yaml",
                       "components", "boto3", "botocore"}
    assert not [p for p in files if p.startswith(("fleetctl/ops/", "fleetctl/plan/", "fleetctl/cli"))]
    assert "fleetctl/compliance/cli.py" not in files


def test_a_missing_dependency_stops_the_run_before_anything_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from components import lambda_package
    from fleetctl.plan.mockrun import partial_recording, run_program

    monkeypatch.setattr(lambda_package, "RUNTIME_DISTRIBUTIONS", ("univers-not-installed",))
    with pytest.raises(lambda_package.PackagingError) as caught:
        run_program("prod")  # softwarePolicy.schedule is set
    message = str(caught.value)
    assert "univers-not-installed" in message and "ssm-inventory:softwarePolicy.schedule" in message
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def test_archive_is_the_package_plus_the_policy() -> None:
    archive = lambda_archive('{"rules": []}')
    assert set(archive.assets) == set(package_files()) | {POLICY_FILE}
    engine = archive.assets["fleetctl/compliance/model.py"]
    assert isinstance(engine, pulumi.FileAsset)
    assert Path(engine.path) == REPO_ROOT / "fleetctl" / "compliance" / "model.py"


def _unpack(target: Path, policy: str) -> list[str]:
    """Writes the archive's files under ``target``; returns the packaged engine's modules."""
    for path, local in package_files().items():
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target / path)
    (target / POLICY_FILE).write_text(policy)
    modules = []
    for path in engine_files():
        module = path.removesuffix(".py").replace("/", ".")
        modules.append(module.removesuffix(".__init__"))
    return modules


def _runtime_sdk(target: Path) -> None:
    """Links the SDK packages into ``target`` (what the Lambda runtime has besides the zip)."""
    target.mkdir()
    for name in LAMBDA_RUNTIME_SDK:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin, name
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (target / source.name).symlink_to(source)


ISOLATED_IMPORT = r"""
import importlib, json, sys, sysconfig
package, sdk, handler, *modules = sys.argv[1:]
stdlib = tuple({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
sys.path[:0] = [package, sdk]
for blocked in ("pulumi", "pydantic", "rich", "yaml", "components", "fleetctl.ops", "fleetctl.plan"):
    try:
        importlib.import_module(blocked)
    except ImportError:
        continue
    raise SystemExit(f"{blocked} is importable: the test is not isolated")
loaded = {name: importlib.import_module(name) for name in modules}
outside = sorted(
    name for name, module in sys.modules.items()
    if getattr(module, "__file__", None)
    and not module.__file__.startswith((package, sdk, *stdlib))
)
# The packaged engine judges the packaged policy: an agent too old on one node, not on another.
from fleetctl.compliance.evaluate import evaluate
from fleetctl.compliance.model import InstanceSoftware
from fleetctl.compliance.rules import rules_from_json
with open(f"{package}/software_policy.json") as policy:
    rules = rules_from_json(json.load(policy))
nodes = [InstanceSoftware(node, "Linux", "Amazon Linux", ({"Name": "amazon-ssm-agent", "Version": v},))
         for node, v in (("i-old", "3.2.582.0"), ("i-new", "3.3.987.0"))]
verdicts = {v.instance_id: [item.status for item in v.items] for v in evaluate(rules, nodes)}
print(json.dumps({
    "verdicts": verdicts,
    "modules": sorted(loaded),
    "outside": outside,
    "univers": sys.modules["univers"].__file__ if "univers" in sys.modules else None,
    "fleetctl": sys.modules["fleetctl"].__file__,
    "handler": callable(getattr(loaded.get(handler.rpartition(".")[0]), handler.rpartition(".")[2], None)),
}))
"""


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("lambda")
    package, sdk = root / "package", root / "sdk"
    package.mkdir()
    policy = [Rule("ssm-agent-minimum", "required", "amazon-ssm-agent", ">=3.3.40.0", ("Linux",), "HIGH")]
    modules = _unpack(package, json.dumps(rules_to_json(policy)))
    _runtime_sdk(sdk)
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", ISOLATED_IMPORT, str(package), str(sdk), HANDLER,
         *modules],
        capture_output=True, text=True, timeout=120, cwd=root,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    report["package"] = str(package)
    return report


def test_packaged_engine_imports_without_the_program_around(isolated: dict[str, object]) -> None:
    assert "fleetctl.compliance.model" in isolated["modules"]  # type: ignore[operator]
    assert str(isolated["fleetctl"]).startswith(str(isolated["package"]))
    assert isolated["outside"] == []  # only the package, the SDK and the standard library


def test_packaged_engine_brings_its_own_univers(isolated: dict[str, object]) -> None:
    assert str(isolated["univers"]).startswith(str(isolated["package"]))


def test_packaged_engine_judges_the_packaged_policy(isolated: dict[str, object]) -> None:
    assert isolated["verdicts"] == {"i-old": ["NON_COMPLIANT"], "i-new": ["COMPLIANT"]}


def test_packaged_handler_is_the_one_the_function_names(isolated: dict[str, object]) -> None:
    if not (REPO_ROOT / "fleetctl" / "compliance" / "handler.py").exists():
        pytest.skip("the Lambda handler (fleetctl/compliance/handler.py) is not merged yet")
    assert isolated["handler"] is True
