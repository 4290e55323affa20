"""The named reports: Trino SQL that agrees with the Glue tables, prunes partitions, and
returns, through `fleetctl report run --local` (DuckDB), the rows a generated fleet implies."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from components.inventory_tables import PARTITION_KEYS, TABLES_BY_NAME
from components.named_queries import QueryParameterError, load_queries
from fleetctl.cli import main
from tests.reporting_fleet import Instance, make_fleet, write_sync_tree

QUERIES = load_queries()
ACCOUNTS = ["111111111111", "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]


def _aliases(tree: exp.Expression) -> dict[str, str]:
    return {(t.alias or t.name): t.name for t in tree.find_all(exp.Table)}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_parses_as_trino_and_uses_only_columns_its_tables_have(name: str) -> None:
    query = QUERIES[name]
    tree = sqlglot.parse_one(query.render(), read="trino")
    aliases = _aliases(tree)
    assert aliases and set(aliases.values()) <= set(TABLES_BY_NAME)
    for column in tree.find_all(exp.Column):
        if not column.table:
            continue  # an output alias (ORDER BY workload)
        table = TABLES_BY_NAME[aliases[column.table]]
        assert column.name in (*table.columns, *PARTITION_KEYS), f"{name}: {column.sql()}"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_table_is_filtered_on_all_partition_columns(name: str) -> None:
    tree = sqlglot.parse_one(QUERIES[name].render({"account": ACCOUNTS[0], "region": REGIONS[0]}),
                             read="trino")
    for alias in _aliases(tree):
        filtered = {
            c.name for eq in tree.find_all(exp.EQ) for c in eq.find_all(exp.Column)
            if c.table == alias and c.name in PARTITION_KEYS
            and any(isinstance(side, exp.Literal) for side in (eq.this, eq.expression))
        }
        assert filtered == set(PARTITION_KEYS), f"{name}: {alias} filters only {filtered}"


def test_a_parameter_value_stays_a_string_literal() -> None:
    sql = QUERIES["applications_by_version"].render({"application": "x' OR '1'='1"})
    tree = sqlglot.parse_one(sql, read="trino")
    likes = list(tree.find_all(exp.Like))
    assert [like.expression.this for like in likes] == ["x' OR '1'='1"]
    with pytest.raises(QueryParameterError, match="no parameter nope; allowed: application"):
        QUERIES["applications_by_version"].render({"nope": "1"})


@pytest.fixture(scope="module")
def fleet_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Instance]]:
    root = tmp_path_factory.mktemp("sync") / "inventory"
    fleet = make_fleet(ACCOUNTS, REGIONS, per_region=23)
    write_sync_tree(root, fleet)
    return root, fleet


def _run(root: Path, name: str, capsys: pytest.CaptureFixture[str], *params: str) -> list[dict[str, str]]:
    args = ["report", "run", name, "--local", str(root), "--json"]
    for param in params:
        args += ["--param", param]
    assert main(args) == 0
    return list(json.loads(capsys.readouterr().out)["rows"])


def _live(fleet: list[Instance]) -> list[Instance]:
    return [i for i in fleet if i.status != "Terminated"]


Fleet = tuple[Path, list[Instance]]
Capture = pytest.CaptureFixture[str]


def test_applications_by_version(fleet_dir: Fleet, capsys: Capture) -> None:
    root, fleet = fleet_dir
    rows = _run(root, "applications_by_version", capsys, "application=pkg00%")
    expected = Counter((n, v) for i in fleet for n, v in i.applications if n.startswith("pkg00"))
    assert {(r["application"], r["version"]): int(r["instances"]) for r in rows} == dict(expected)


def test_agent_older_than_compares_versions_not_text(fleet_dir: Fleet, capsys: Capture) -> None:
    root, fleet = fleet_dir
    rows = _run(root, "agent_older_than", capsys, "min_version=3.3.100")
    expected = {i.instance_id for i in _live(fleet) if i.agent_version in ("3.2.1705.0", "3.3.40.0")}
    assert {r["instance_id"] for r in rows} == expected  # 3.10.2.0 is newer, though "3.10" < "3.3"


def test_missing_patches_by_severity(fleet_dir: Fleet, capsys: Capture) -> None:
    root, fleet = fleet_dir
    rows = _run(root, "missing_patches_by_severity", capsys, "severity=critical", f"account={ACCOUNTS[1]}")
    expected = Counter((i.instance_id, s) for i in fleet if i.account == ACCOUNTS[1]
                       for _, s in i.missing_patches if s == "CRITICAL")
    assert {(r["instance_id"], r["severity"]): int(r["missing_patches"]) for r in rows} == dict(expected)
    assert expected  # the filter leaves something to check


def test_stale_inventory(fleet_dir: Fleet, capsys: Capture) -> None:
    root, fleet = fleet_dir
    rows = _run(root, "stale_inventory", capsys, "hours=24", f"region={REGIONS[1]}")
    expected = {i.instance_id for i in _live(fleet) if i.region == REGIONS[1]
                and i.capture_time < datetime.now(UTC) - timedelta(hours=24)}
    assert {r["instance_id"] for r in rows} == expected and expected
    assert all(int(r["age_hours"]) >= 59 for r in rows)


def test_noncompliant_items_of_any_type(fleet_dir: Fleet, capsys: Capture) -> None:
    root, fleet = fleet_dir
    custom = _run(root, "noncompliant_items", capsys, "compliance_type=Custom:%")
    assert {r["instance_id"] for r in custom} == {
        i.instance_id for i in fleet if any(k.startswith("Custom:") for k, _ in i.noncompliant)}
    every = _run(root, "noncompliant_items", capsys)
    expected = sum(len(i.noncompliant) + len(i.missing_patches) for i in fleet)
    assert len(every) == expected
    assert {r["compliancetype"] for r in every} == {"Patch", "Association", "Custom:SoftwarePolicy"}


def test_fleet_summary(fleet_dir: Fleet, capsys: Capture) -> None:
    root, fleet = fleet_dir
    rows = _run(root, "fleet_summary", capsys)
    expected = Counter((i.account, i.region, i.workload or "(untagged)", i.platform_type, i.platform_name)
                       for i in _live(fleet))
    got = {(r["accountid"], r["region"], r["workload"], r["platformtype"], r["platformname"]):
           int(r["instances"]) for r in rows}
    assert got == dict(expected)


def test_instance_resource_type_column_reads_the_records_own_field(fleet_dir: Fleet) -> None:
    from fleetctl.report.local import connect

    con = connect(fleet_dir[0])
    sql = "SELECT DISTINCT instanceresourcetype, resourcetype FROM aws_instanceinformation"
    values = con.execute(sql).fetchall()
    assert values == [("EC2Instance", "ManagedInstanceInventory")]


def test_list_and_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["report", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in QUERIES)
    assert main(["report", "run", "nope", "--local", str(tmp_path)]) == 2
    assert "no report 'nope'" in capsys.readouterr().err
    assert main(["report", "run", "fleet_summary", "--local", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["report", "run", "fleet_summary", "--param", "bad"]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err
