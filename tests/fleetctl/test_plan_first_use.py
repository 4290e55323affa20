"""``fleetctl plan`` as a first-time user meets it (issue 8): reaching the command, --config
paths, the project you stand in, a plan that reads as a plan, policy wording, closed pipes,
secrets and empty fleets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleetctl.config_paths import ConfigPathError, parse_config_path, set_path
from fleetctl.project import ProjectError, load_stack_settings
from tests.fleetctl.conftest import PROD_POLICY, ROOT, fleetctl, make_project, plan_in_process

TEST_STACK = {"aws:region": "us-east-1", "ssm-inventory:workload": "Test"}


# -- reaching the command ------------------------------------------------------------------

def test_python_without_the_dependencies_gets_one_line_saying_what_to_do() -> None:
    """``python -m fleetctl`` with a Python lacking the deps (``-S``: no site-packages)."""
    proc = subprocess.run(
        [sys.executable, "-S", "-m", "fleetctl", "plan", "--stack", "dev"],
        cwd=ROOT, env={"PATH": os.environ.get("PATH", "")}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "make setup" in lines[0] and ".venv/bin/fleetctl" in lines[0]
    assert "Traceback" not in proc.stderr


def test_the_console_script_is_in_the_venv() -> None:
    """Every doc command is written as .venv/bin/fleetctl: that file must exist after setup."""
    script = Path(sys.executable).parent / "fleetctl"
    assert script.is_file(), "run `make setup`: the console script comes from pyproject [project.scripts]"
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        for line in doc.read_text().splitlines():
            if line.startswith("fleetctl ") or line.startswith("python -m fleetctl"):
                pytest.fail(f"{doc.name}: a bare command a fresh clone cannot run: {line}")


# -- --config as `pulumi config set --path` ------------------------------------------------

@pytest.mark.parametrize(
    ("text", "key", "path"),
    [
        ("inventory.schedule", "inventory", ("schedule",)),
        ("fleet[0].count", "fleet", (0, "count")),
        ('tags["Patch Group"]', "tags", ("Patch Group",)),
        ('ssm-inventory:tags["a.b"].c', "ssm-inventory:tags", ("a.b", "c")),
        ("aws:region", "aws:region", ()),
    ],
)
def test_config_paths_parse_as_pulumi_does(text: str, key: str, path: tuple[object, ...]) -> None:
    """Syntax from the Pulumi CLI reference, "pulumi config set": names[0], parent.nested,
    ["parent.name"]["nested.name"]."""
    parsed = parse_config_path(text)
    assert (parsed.key, parsed.path) == (key, path)


@pytest.mark.parametrize("text", ["inventory.", "fleet[x]", 'tags["open', "a..b", ".a"])
def test_bad_config_paths_are_refused(text: str) -> None:
    with pytest.raises(ConfigPathError, match="paths look like"):
        parse_config_path(text)


def test_set_path_keeps_the_rest_and_refuses_what_does_not_fit() -> None:
    value = {"fleet": [{"role": "Web", "count": 2}]}
    assert set_path(value, ("fleet", 0, "count"), 5, "k") == {"fleet": [{"role": "Web", "count": 5}]}
    assert set_path(value, ("fleet", 1), {"role": "App"}, "k")["fleet"][1] == {"role": "App"}
    assert value == {"fleet": [{"role": "Web", "count": 2}]}  # not changed in place
    with pytest.raises(ConfigPathError, match="out of range"):
        set_path(value, ("fleet", 3), 1, "k")
    with pytest.raises(ConfigPathError, match="not an object"):
        set_path({"a": "text"}, ("a", "b"), 1, "k")


def test_a_path_sets_one_leaf_of_the_stack_value() -> None:
    settings = load_stack_settings("prod", ROOT, {"inventory.schedule": "rate(1 hour)"})
    inventory = json.loads(settings.config["ssm-inventory:inventory"])
    assert inventory["schedule"] == "rate(1 hour)"
    # The rest of prod's inventory object stays.
    assert inventory["protectLogBucket"] is True and inventory["resourceDataSync"] is True
    assert inventory["associationName"] == "InventoryAllInstances-Prod"
    assert settings.notes == ()


def test_paths_append_to_project_defaults_quote_keys_and_remove_leaves() -> None:
    settings = load_stack_settings("dev", ROOT, {
        "endpoints[4]": "kms",              # the Pulumi.yaml default list, one appended
        'tags["Cost Center"]': "lab",       # a key with a space
        "tags.Owner": None,                 # `tags.Owner=` removes the leaf
    })
    assert json.loads(settings.config["ssm-inventory:endpoints"]) == [
        "ssm", "ec2messages", "ec2", "ssmmessages", "kms"]
    assert json.loads(settings.config["ssm-inventory:tags"]) == {"CostCenter": "lab", "Cost Center": "lab"}


def test_replacing_a_whole_object_is_said_on_stderr() -> None:
    result = fleetctl("plan", "--stack", "prod", "--no-policy", "--json",
                      "--config", "inventory={schedule: rate(1 hour)}")
    assert result.code == 0
    assert "note: ssm-inventory:inventory: replaced whole object" in result.stderr
    assert result.doc["configNotes"] == [
        "ssm-inventory:inventory: replaced whole object (set one field with inventory.<field>=VALUE)"]


def test_path_override_plans_prod_with_its_buckets_and_sync() -> None:
    code, out = plan_in_process("--stack", "prod", "--no-policy", "--json",
                                "--config", "inventory.schedule=rate(1 hour)")
    doc = json.loads(out)
    assert code == 0
    association = next(r for r in doc["resources"] if r["type"] == "aws:ssm/association:Association")
    assert association["inputs"]["scheduleExpression"] == "rate(1 hour)"
    assert association["inputs"]["associationName"] == "InventoryAllInstances-Prod"
    assert [r for r in doc["resources"] if r["type"] == "aws:ssm/resourceDataSync:ResourceDataSync"]
    assert any(r["protect"] for r in doc["resources"] if r["type"] == "aws:s3/bucket:Bucket")


def test_a_path_into_a_string_key_is_an_error() -> None:
    with pytest.raises(ProjectError, match="ssm-inventory:workload: is the string 'Test', not an object"):
        load_stack_settings("dev", ROOT, {"workload.name": "x"})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("aws:regoin=us-east-1", "aws:regoin: is not a key of the aws provider; did you mean 'aws:region'?"),
        ("aws:region=us-east-9", "aws:region: unknown region 'us-east-9'; did you mean"),
        ("endpoints=ssm", "ssm-inventory:endpoints: expected a list of service names like "
                          "[ssm, ec2messages], got the string 'ssm'"),
    ],
)
def test_config_mistakes_name_the_key(override: str, message: str) -> None:
    result = fleetctl("plan", "--stack", "dev", "--no-policy", "--config", override)
    assert result.code == 2
    assert message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


# -- the project is the one you stand in ---------------------------------------------------

def test_plans_the_project_of_the_working_directory(tmp_path: Path) -> None:
    project = make_project(tmp_path, "mine", TEST_STACK)
    (project / "sub").mkdir()
    # From a subdirectory, as the Pulumi CLI finds Pulumi.yaml upwards.
    result = fleetctl("plan", "--stack", "mine", "--no-policy", "--json", cwd=project / "sub")
    assert result.code == 0, result.stderr
    assert result.doc["stack"] == "mine"


def test_outside_any_project_is_a_clear_error(tmp_path: Path) -> None:
    result = fleetctl("plan", "--stack", "dev", "--no-policy", cwd=tmp_path)
    assert result.code == 2
    assert "no Pulumi.yaml in" in result.stderr and "--project-dir" in result.stderr


def test_the_policy_pack_follows_the_project(tmp_path: Path) -> None:
    project = make_project(tmp_path, "mine", TEST_STACK)
    (project / "policy").unlink()
    result = fleetctl("plan", "--stack", "mine", "--project-dir", str(project))
    assert result.code == 2
    assert f"--policy-pack {project}/policy: no PulumiPolicy.yaml" in result.stderr


# -- a plan that reads as a plan -----------------------------------------------------------

@pytest.fixture(scope="module")
def dev_human() -> str:
    result = fleetctl("plan", "--stack", "dev")
    assert result.code == 0, result.stderr
    return result.stdout


def test_computed_values_are_placeholders_not_fake_ids(dev_human: str) -> None:
    assert "<network-vpc.id>" in dev_human
    assert "<fleet-web1.id>" in dev_human
    assert "<managed-instances-role.arn>" in dev_human
    assert "ami=<getParameter .../al2023-ami-kernel-default-x86_64>" in dev_human
    # None of the mocks' stand-ins (deterministic ids, the mock account) reach the reader.
    for fake in ("vpc-", "subnet-", "sg-", "vpce-", "=i-", "=ami-", "123456789012"):
        assert fake not in dev_human, fake


def test_one_spelling_of_types(dev_human: str) -> None:
    assert "aws:ec2/vpc:Vpc" in dev_human and "ssm-inventory:network:Network" in dev_human
    assert "aws.ec2." not in dev_human and "ssm-inventory.network" not in dev_human


def test_components_list_resources_in_dependency_order(dev_human: str) -> None:
    network = dev_human[dev_human.index("network ssm-inventory:network:Network"):]
    assert network.index("network-vpc ") < network.index("network-private-1 ") < network.index(
        "network-private-1-rta ")
    fleet = dev_human[dev_human.index("fleet ssm-inventory:fleet:WorkloadFleet"):]
    assert fleet.index("fleet-sg ") < fleet.index("fleet-app1 ")


@pytest.fixture(scope="module")
def big_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = {**TEST_STACK, "ssm-inventory:fleet": [{"role": "AppServer", "count": 12}]}
    return make_project(tmp_path_factory.mktemp("big"), "big", config)


def test_big_groups_are_summarised(big_fleet: Path) -> None:
    result = fleetctl("plan", "--stack", "big", "--project-dir", str(big_fleet), "--no-policy")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "fleet-app1 .. fleet-app12 aws:ec2/instance:Instance x12" in out
    assert "differ: Name: 12 values, Test-App1 .. Test-App12" in out
    assert "fleet-app7 " not in out
    # Outputs are cut short too; --json keeps everything.
    assert "Test-App6=<fleet-app6.id>, ... (6" in out and "more; --full or --json)" in out
    assert "Test-App7=" not in out


def test_full_lists_every_resource_in_natural_order(big_fleet: Path) -> None:
    result = fleetctl("plan", "--stack", "big", "--project-dir", str(big_fleet), "--no-policy", "--full")
    out = result.stdout
    positions = [out.index(f"fleet-app{n} ") for n in (1, 2, 9, 10, 11, 12)]
    assert positions == sorted(positions)  # app2 before app10
    assert "more; --full" not in out


def test_json_keeps_every_resource(big_fleet: Path) -> None:
    code, out = plan_in_process("--stack", "big", "--project-dir", str(big_fleet), "--no-policy", "--json")
    doc = json.loads(out)
    assert code == 0
    assert len([r for r in doc["resources"] if r["type"] == "aws:ec2/instance:Instance"]) == 12
    assert len(doc["outputs"]["instanceIds"]) == 12


# -- policy results ------------------------------------------------------------------------

def test_dev_findings_read_as_advisory(tmp_path: Path) -> None:
    project = make_project(tmp_path, "staging", {**TEST_STACK, "ssm-inventory:workload": "Staging"})
    result = fleetctl("plan", "--stack", "staging", "--project-dir", str(project),
                      "--policy-config", str(ROOT / "policy" / "config" / "dev.json"))
    assert result.code == 0
    assert "Policy: passed with 20 advisory findings" in result.stdout
    assert "violation(s)" not in result.stdout


def test_unknown_policy_name_in_a_policy_config_is_an_error(tmp_path: Path) -> None:
    config = json.loads(PROD_POLICY.read_text())
    config["alowed-tag-values"] = config.pop("allowed-tag-values")
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(config))
    result = fleetctl("plan", "--stack", "dev", "--policy-config", str(path))
    assert result.code == 2
    assert result.stderr.startswith(
        f"error: {path}: unknown policy 'alowed-tag-values' (did you mean 'allowed-tag-values'?); "
        "the pack ssm-fleet-guard has: ")
    assert "Traceback" not in result.stderr


# -- exit codes through a closed pipe ------------------------------------------------------

@pytest.mark.parametrize(("args", "verdict"), [
    (["--stack", "dev"], 0),
    (["--stack", "dev", "--json"], 0),
])
def test_a_closed_pipe_is_not_a_policy_failure(args: list[str], verdict: int) -> None:
    """``fleetctl plan ... | head -1``: the reader is gone before the plan is written."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "fleetctl", "plan", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `head` exits
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == verdict
    assert stderr == ""


def test_a_closed_pipe_keeps_the_real_verdict(tmp_path: Path) -> None:
    project = make_project(tmp_path, "staging", {**TEST_STACK, "ssm-inventory:workload": "Staging"})
    shell = (f"{sys.executable} -m fleetctl plan --stack staging --project-dir {project} "
             f"--policy-config {PROD_POLICY} | head -1; exit ${{PIPESTATUS[0]}}")
    proc = subprocess.run(["bash", "-c", shell], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1  # the mandatory violation, not the pipe
    assert proc.stdout.startswith("Plan ssm-inventory/staging")
    assert proc.stderr == ""


# -- secrets and empty fleets --------------------------------------------------------------

def test_secret_values_are_shown_as_secret_and_do_not_stop_the_plan(tmp_path: Path) -> None:
    config = {**TEST_STACK, "aws:accessKey": {"secure": "v1:abc=="}}
    project = make_project(tmp_path, "s", config)
    result = fleetctl("plan", "--stack", "s", "--project-dir", str(project), "--no-policy")
    assert result.code == 0, result.stderr
    assert "aws:accessKey = [secret]" in result.stdout
    assert "v1:abc" not in result.stdout


def test_a_secret_whose_value_matters_fails_naming_the_key(tmp_path: Path) -> None:
    config = {**TEST_STACK, "ssm-inventory:tags": {"Owner": {"secure": "v1:abc=="}}}
    project = make_project(tmp_path, "s", config)
    result = fleetctl("plan", "--stack", "s", "--project-dir", str(project), "--no-policy")
    assert result.code == 2
    assert "ssm-inventory:tags.Owner" in result.stderr
    assert "is a secret in Pulumi.s.yaml" in result.stderr and "--config" in result.stderr


def test_an_empty_fleet_plans_with_a_warning_and_its_cost() -> None:
    result = fleetctl("plan", "--stack", "dev", "--no-policy",
                      "--config", "fleet=[{role: WebServer, count: 0}]")
    assert result.code == 0, result.stderr
    assert "warning: the fleet has no instances, but its 4 interface endpoint(s) in 2 AZ(s) " \
           "still cost about USD 58 a month" in result.stdout
