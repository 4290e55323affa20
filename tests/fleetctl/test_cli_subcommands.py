"""How ``fleetctl`` collects its subcommands (``fleetctl.cli.SUBCOMMAND_MODULES``): the plan
comes from its own package, a subcommand whose module or package is absent is not offered,
and a missing third-party dependency is one line naming it, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetctl import cli


def test_plan_is_registered_by_the_plan_package() -> None:
    args = cli.build_parser().parse_args(["plan", "--stack", "dev"])
    assert args.func.__module__ == "fleetctl.plan.command"


def test_an_absent_subcommand_module_or_package_is_not_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES",
                        ("fleetctl.plan.command", "fleetctl.absent.command", "fleetctl.absent_module"))
    parser = cli.build_parser()  # "fleetctl.absent" not found: skipped, not raised
    assert parser.parse_args(["plan", "--stack", "dev"]).func.__module__ == "fleetctl.plan.command"
    with pytest.raises(SystemExit):
        parser.parse_args(["check", "--workload", "Test"])  # not in this tuple: not offered


def test_a_missing_dependency_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "needs_a_dependency.py").write_text("import surely_not_installed_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ("fleetctl.plan.command", "needs_a_dependency"))
    assert cli.main(["plan", "--help"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err == cli.MISSING_DEPENDENCY_HINT.format(name="surely_not_installed_dependency") + "\n"
