"""``--stack`` / ``--outputs``: the fleet a stack deployed, from ``pulumi stack output --json``
(a fake ``pulumi`` executable on PATH), from a saved outputs file, or from
``Pulumi.<stack>.yaml`` when there is no Pulumi CLI; explicit flags win."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from ops_fakes import stub_fleet
from ops_fleet import Fleet

from fleetctl.cli import main
from fleetctl.ops.stack import StackError, resolve_stack

OUTPUTS = {
    "workload": "Test",
    "environmentTag": "OELabIPM",
    "associationName": "InventoryAllInstances-Test",
    "region": "eu-west-1",
    "vpcId": "vpc-0123456789abcdef0",
}


def fake_pulumi(bin_dir: Path, outputs: dict[str, object], exit_code: int = 0) -> Path:
    """A `pulumi` that records its arguments and prints the outputs as JSON (shell builtins
    only: some tests leave nothing else on PATH)."""
    bin_dir.mkdir(exist_ok=True)
    log = bin_dir / "pulumi-args"
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {log}\n'
        f"printf '%s\\n' '{json.dumps(outputs)}'\n"
        + (f"echo 'error: no stack named prod' >&2\nexit {exit_code}\n" if exit_code else "")
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def test_check_with_stack_asks_the_pulumi_cli(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = fake_pulumi(tmp_path / "bin", OUTPUTS)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    ids = fleet.launch(2)
    stub_fleet(fleet.stub, ids)

    rc = main(["check", "--stack", "prod", "--json"])

    report = json.loads(capsys.readouterr().out)
    fleet.stub.assert_no_pending_responses()
    assert rc == 0
    assert log.read_text().split() == ["stack", "output", "--json", "--stack", "prod"]
    assert fleet.calls == [("eu-west-1", None)]  # the region output
    assert report["selector"] == {"Environment": "OELabIPM", "Workload": "Test"}
    assert report["association_name"] == "InventoryAllInstances-Test"  # only that name tried


def test_outputs_file_and_explicit_flags_win(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({**OUTPUTS, "workload": "Prod", "region": "ap-southeast-2"}))
    ids = fleet.launch(1)
    stub_fleet(fleet.stub, ids)

    rc = main(["check", "--outputs", str(outputs), "--workload", "Test", "--region", "eu-west-1", "--json"])

    report = json.loads(capsys.readouterr().out)
    fleet.stub.assert_no_pending_responses()
    assert rc == 0
    assert fleet.calls == [("eu-west-1", None)]
    assert report["selector"]["Workload"] == "Test"


def test_stack_file_fallback_without_pulumi_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pulumi.prod.yaml and the project defaults, through the program's config model."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi here
    fleet = resolve_stack("prod", None)
    assert fleet is not None
    assert (fleet.workload, fleet.environment, fleet.association_name, fleet.region) == (
        "Prod", "OELabIPM", "InventoryAllInstances-Prod", "us-east-1",
    )
    assert fleet.source == "Pulumi.prod.yaml"


def test_stack_file_fallback_drives_the_check(
    fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    ids = fleet.launch(1)
    stub_fleet(fleet.stub, ids)

    rc = main(["check", "--stack", "dev", "--json"])  # dev: Workload=Test, us-east-1

    report = json.loads(capsys.readouterr().out)
    fleet.stub.assert_no_pending_responses()
    assert rc == 0
    assert fleet.calls == [("us-east-1", None)]
    assert report["association_name"] == "InventoryAllInstances-Test"


def test_outputs_without_region_take_the_stack_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stacks deployed before the `region` output existed."""
    fake_pulumi(tmp_path / "bin", {k: v for k, v in OUTPUTS.items() if k != "region"})
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    fleet = resolve_stack("prod", None)
    assert fleet is not None and fleet.region == "us-east-1" and fleet.workload == "Test"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-stack", "stack 'nosuch': "),
        ("cli-fails", "exited 255: error: no stack named prod"),
        ("not-ssm-inventory", "no 'workload' output"),
        ("bad-file", "--outputs"),
    ],
)
def test_stack_errors_are_one_line_exit_2(
    setup: str, message: str, aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    argv = ["check", "--stack", "prod"]
    if setup == "missing-stack":
        argv = ["check", "--stack", "nosuch"]
    elif setup == "cli-fails":
        fake_pulumi(tmp_path / "bin", {}, exit_code=255)
    elif setup == "not-ssm-inventory":
        fake_pulumi(tmp_path / "bin", {"vpcId": "vpc-1"})
    else:
        (tmp_path / "o.json").write_text("{not json")
        argv = ["check", "--outputs", str(tmp_path / "o.json")]

    rc = main(argv)

    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("fleetctl: error: ") and message in err


def test_no_workload_and_no_stack_is_a_usage_error(aws_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["inventory", "query"])
    assert rc == 2
    assert "pass --workload or --stack" in capsys.readouterr().err


def test_stack_error_type_is_raised_by_resolve(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no such file"):
        resolve_stack(None, tmp_path / "absent.json")


def test_program_exports_what_stack_reads(tmp_path: Path) -> None:
    """The outputs `--stack` reads (docs/outputs.md) are the program's, with the stack's values."""
    from fleetctl.plan.mockrun import run_program

    rec = run_program("prod", overrides={"aws:region": "eu-west-1"})
    outputs = rec.outputs
    assert {k: outputs[k] for k in ("workload", "environmentTag", "associationName", "region")} == {
        "workload": "Prod",
        "environmentTag": "OELabIPM",
        "associationName": "InventoryAllInstances-Prod",
        "region": "eu-west-1",
    }
    saved = tmp_path / "outputs.json"
    saved.write_text(json.dumps(outputs))
    fleet = resolve_stack(None, saved)
    assert fleet is not None and fleet.region == "eu-west-1" and fleet.workload == "Prod"
