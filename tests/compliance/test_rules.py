"""Constraints, name globs and the rules' JSON form (what the Lambda function reads)."""

from __future__ import annotations

import json

import pytest

from fleetctl.compliance.model import Rule
from fleetctl.compliance.rules import (
    MAX_RULES,
    Clause,
    check_versions,
    name_matches,
    parse_constraint,
    rules_from_json,
    rules_to_json,
    satisfies,
)


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        (">=3.3.0", [(">=", "3.3.0")]),
        ("<2.0", [("<", "2.0")]),
        (">=1.2,<1.3", [(">=", "1.2"), ("<", "1.3")]),
        (" >= 1.2 , < 1.3 ", [(">=", "1.2"), ("<", "1.3")]),
        ("==1:2.4-3.el9", [("==", "1:2.4-3.el9")]),
        ("!=1.0~rc1", [("!=", "1.0~rc1")]),
        (">1.0^git1", [(">", "1.0^git1")]),
    ],
)
def test_constraints_parse_into_clauses(text, clauses) -> None:
    assert parse_constraint(text).clauses == tuple(Clause(op, v) for op, v in clauses)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty version constraint"),
        ("3.0", "write == for an exact version"),
        ("=3.0", "write == for an exact version"),
        (">=", "no version after '>='"),
        (">=1.0,", "stray comma"),
        (">=1.0,,<2", "stray comma"),
        ("~>1.0", "does not start with an operator"),
        (">=1.0 <2.0", "is not a version"),
        (">=1.0;<2", "is not a version"),
    ],
)
def test_bad_constraints_say_what_is_allowed(text, fragment) -> None:
    with pytest.raises(ValueError) as caught:
        parse_constraint(text)
    assert fragment in str(caught.value)
    assert "allowed: comparisons joined by commas" in str(caught.value)


@pytest.mark.parametrize(
    ("order", "true_for"),
    [(-1, {"!=", "<=", "<"}), (0, {"==", ">=", "<="}), (1, {"!=", ">=", ">"})],
)
def test_operators(order, true_for) -> None:
    assert {op for op in ("==", "!=", ">=", "<=", ">", "<") if satisfies(order, op)} == true_for


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("amazon-ssm-agent", "amazon-ssm-agent", True),
        ("amazon-ssm-agent", "amazon-ssm-agent-debuginfo", False),  # exact, not a prefix
        ("telnet*", "telnet-server", True),
        ("python3.?", "python3.9", True),
        ("python3.?", "python3.11", False),
        ("lib[xy]*", "libxml2", True),
        ("Amazon SSM Agent", "amazon ssm agent", False),  # package names are case-sensitive
    ],
)
def test_names_are_exact_or_globs(pattern, name, matches) -> None:
    assert name_matches(pattern, name) is matches


def test_windows_only_constraints_must_be_dotted_versions() -> None:
    assert check_versions(">= 3.3.40.0", ["Windows"]) == ">=3.3.40.0"
    with pytest.raises(ValueError, match="not a dotted version"):
        check_versions(">=1:2.0", ["Windows"])
    assert check_versions(">=1:2.0", ["Linux"]) == ">=1:2.0"  # rpm and dpkg read epochs


RULES = [
    Rule("ssm-agent", "required", "amazon-ssm-agent", ">=3.3.40.0", ("Linux",), "HIGH"),
    Rule("no-telnet", "forbidden", "telnet*", severity="CRITICAL", title="No telnet"),
    Rule("win-agent", "required", "Amazon SSM Agent", platforms=("Windows",)),
]


def test_json_round_trip_through_text() -> None:
    text = json.dumps(rules_to_json(RULES))
    assert rules_from_json(json.loads(text)) == RULES
    assert json.loads(text)["rules"][1] == {
        "id": "no-telnet", "kind": "forbidden", "name": "telnet*", "severity": "CRITICAL",
        "title": "No telnet",
    }


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ([], 'expected an object like {"rules"'),
        ({"rules": [{"id": "a", "kind": "required"}]}, "rules[0].name: is required"),
        ({"rules": [{"id": "a", "kind": "needed", "name": "x"}]}, "rules[0].kind: unknown kind"),
        ({"rules": [{"id": "a", "kind": "required", "name": "x", "versions": "1.0"}]},
         "rules[0].versions:"),
        ({"rules": [{"id": "a", "kind": "required", "name": "x", "platforms": "Linux"}]},
         "rules[0].platforms: expected a list"),
        ({"rules": [{"id": "a", "kind": "required", "name": "x", "platform": ["Linux"]}]},
         "rules[0].platform: is not a known key"),
        ({"rules": [{"id": "a", "kind": "required", "name": "x"},
                    {"id": "a", "kind": "forbidden", "name": "y"}]},
         "rules[1].id: 'a' is already the id of rules[0]"),
        ({"rules": [{"id": "a", "kind": "required", "name": "x"}] * (MAX_RULES + 1)},
         f"at most {MAX_RULES}"),
    ],
)
def test_json_is_checked_like_the_stack_config(data, fragment) -> None:
    with pytest.raises(ValueError) as caught:
        rules_from_json(data)
    assert fragment in str(caught.value)
