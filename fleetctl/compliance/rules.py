"""Rules of the software policy: constraints, name globs, checks and their JSON form.

The checks here are the single source of the rules' validation:
``components/config/software_policy.py`` calls them for ``softwarePolicy.rules`` (so a bad
stack file fails before anything is registered) and :func:`rules_from_json` for the policy
file the Lambda function reads.
Standard library and univers only (packaged into the Lambda function).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args

from fleetctl.compliance.model import PLATFORMS, SEVERITIES, Rule, RuleKind
from fleetctl.compliance.versions import Scheme, check_version_text

KINDS: tuple[str, ...] = get_args(RuleKind)

# Comparison operators, longest first so that ">=" is not read as ">" then "=1.0".
OPERATORS = ("==", "!=", ">=", "<=", ">", "<")

# PutComplianceItems ComplianceItemEntry (botocore's SSM model and the API reference): Title
# at most 500 characters (ComplianceItemTitle), at most 10,000 Items per call
# (ComplianceItemEntryList); the Id has no documented limit, so the limit is ours: 1 to 100
# letters, digits, '.', '_' and '-', which read the same in the console, the CLI's table and
# JSON. A node's items go in ONE call (UploadType COMPLETE replaces the node's items of the
# type, so a second call would drop the first one's), hence the cap on rules.
RULE_ID_MAX = 100
RULE_ID_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._\-]{{0,{RULE_ID_MAX - 1}}}$")
TITLE_MAX = 500
MAX_RULES = 10_000
NAME_MAX = 256

RULE_KEYS = ("id", "kind", "name", "versions", "platforms", "severity", "title")

# A version in a constraint: what rpm, dpkg and dotted versions are made of (no spaces, no
# operators, no comma).
_VERSION_TEXT = re.compile(r"^[A-Za-z0-9.+~^:_\-]+$")


@dataclass(frozen=True)
class Clause:
    operator: str
    version: str

    def __str__(self) -> str:
        return f"{self.operator}{self.version}"


@dataclass(frozen=True)
class Constraint:
    """Clauses that must all hold (comma = AND)."""

    clauses: tuple[Clause, ...]

    def __str__(self) -> str:
        return ",".join(str(clause) for clause in self.clauses)


CONSTRAINT_HELP = (
    "allowed: comparisons joined by commas (all must hold), each an operator "
    f"{', '.join(OPERATORS)} and a version, e.g. >=3.3.0, <2.0, >=1.2,<1.3, !=1:2.4-3"
)


def parse_constraint(text: str) -> Constraint:
    """``">=1.2, <1.3"`` -> Constraint; ValueError saying what is wrong and what is allowed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"empty version constraint; {CONSTRAINT_HELP}")
    clauses = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"{text!r} has an empty comparison (a stray comma); {CONSTRAINT_HELP}")
        operator = next((op for op in OPERATORS if part.startswith(op)), None)
        if operator is None:
            hint = " (write == for an exact version)" if part[0].isalnum() or part[0] == "=" else ""
            raise ValueError(f"{part!r} does not start with an operator{hint}; {CONSTRAINT_HELP}")
        version = part[len(operator):].strip()
        if not version:
            raise ValueError(f"{part!r} has no version after {operator!r}; {CONSTRAINT_HELP}")
        if not _VERSION_TEXT.match(version):
            raise ValueError(
                f"{version!r} is not a version: letters, digits and . + ~ ^ : _ - only; "
                f"{CONSTRAINT_HELP}"
            )
        clauses.append(Clause(operator, version))
    return Constraint(tuple(clauses))


def satisfies(order: int, operator: str) -> bool:
    """Whether ``installed <op> wanted`` holds, given ``order`` = sign(installed - wanted)."""
    return {
        "==": order == 0, "!=": order != 0, ">=": order >= 0,
        "<=": order <= 0, ">": order > 0, "<": order < 0,
    }[operator]


def name_matches(pattern: str, name: str) -> bool:
    """Exact name or shell glob (``*``, ``?``, ``[...]``), case-sensitive as package names are."""
    return fnmatch.fnmatchcase(name, pattern)


def schemes_for_platforms(platforms: Iterable[str]) -> tuple[Scheme, ...]:
    """The version orderings a rule limited to ``platforms`` may meet (all when unlimited)."""
    wanted = set(platforms)
    if wanted and wanted <= {"Windows", "MacOS"}:
        return ("dotted",)
    return ("rpm", "deb", "dotted")


# --- checks shared by the stack config and the JSON form -------------------------------------

def check_id(value: str) -> str:
    if not RULE_ID_PATTERN.match(value):
        raise ValueError(
            f"{value!r} is not a rule id: 1 to {RULE_ID_MAX} letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it is the compliance item's Id)"
        )
    return value


def check_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"unknown kind {value!r}; allowed: {', '.join(KINDS)}")
    return value


def check_name(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty; give a package name like amazon-ssm-agent or a glob like telnet*")
    if value != value.strip():
        raise ValueError(f"{value!r} has leading or trailing spaces (names match exactly)")
    if len(value) > NAME_MAX:
        raise ValueError(f"is longer than {NAME_MAX} characters")
    return value


def check_platforms(values: Iterable[str]) -> tuple[str, ...]:
    platforms = tuple(values)
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise ValueError(
            f"unknown platform {', '.join(map(repr, unknown))}; allowed: {', '.join(PLATFORMS)} "
            "(DescribeInstanceInformation PlatformType)"
        )
    repeated = sorted({p for p in platforms if platforms.count(p) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once")
    return platforms


def check_severity(value: str) -> str:
    if value not in SEVERITIES:
        raise ValueError(f"unknown severity {value!r}; allowed: {', '.join(SEVERITIES)}")
    return value


def check_title(value: str) -> str:
    if not value.strip() or len(value) > TITLE_MAX:
        raise ValueError(f"must be 1 to {TITLE_MAX} characters (the compliance item's Title)")
    return value


def check_versions(text: str, platforms: Iterable[str] = ()) -> str:
    """The constraint, normalized (``>=1.2,<1.3``), if every version in it can be read by an
    ordering the rule's platforms use; else ValueError."""
    constraint = parse_constraint(text)
    schemes = schemes_for_platforms(platforms)
    for clause in constraint.clauses:
        problem = check_version_text(clause.version, schemes)
        if problem:
            raise ValueError(f"{problem}; {CONSTRAINT_HELP}")
    return str(constraint)


def duplicate_ids(ids: Iterable[str]) -> dict[int, int]:
    """Index of each rule whose id an earlier rule already has -> that earlier index."""
    first: dict[str, int] = {}
    repeated = {}
    for index, rule_id in enumerate(ids):
        if rule_id in first:
            repeated[index] = first[rule_id]
        else:
            first[rule_id] = index
    return repeated


def default_title(rule: Rule) -> str:
    """``required amazon-ssm-agent >=3.3.40.0`` (at most TITLE_MAX characters)."""
    title = f"{rule.kind} {rule.name}" + (f" {rule.versions}" if rule.versions else "")
    return title[:TITLE_MAX]


# --- JSON form: {"rules": [{id, kind, name, versions, platforms, severity, title}, ...]} -----

def rule_to_json(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {"id": rule.id, "kind": rule.kind, "name": rule.name,
                            "severity": rule.severity}
    if rule.versions:
        data["versions"] = rule.versions
    if rule.platforms:
        data["platforms"] = list(rule.platforms)
    if rule.title:
        data["title"] = rule.title
    return data


def rules_to_json(rules: Iterable[Rule]) -> dict[str, Any]:
    """The JSON-ready form ``{"rules": [...]}`` (``json.dumps`` it) that rules_from_json reads."""
    return {"rules": [rule_to_json(rule) for rule in rules]}


def _rule_from_json(data: Any, where: str) -> Rule:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected an object like {{id, kind, name}}")
    unknown = sorted(set(data) - set(RULE_KEYS))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: is not a known key; allowed: {', '.join(RULE_KEYS)}")
    for key in ("id", "kind", "name"):
        if key not in data:
            raise ValueError(f"{where}.{key}: is required")
    for key in ("id", "kind", "name", "versions", "severity", "title"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise ValueError(f"{where}.{key}: expected a string")
    platforms = data.get("platforms") or []
    if not isinstance(platforms, list) or not all(isinstance(p, str) for p in platforms):
        raise ValueError(f"{where}.platforms: expected a list like [Linux]")
    checks: list[tuple[str, Any]] = [
        ("id", lambda: check_id(data["id"])),
        ("kind", lambda: check_kind(data["kind"])),
        ("name", lambda: check_name(data["name"])),
        ("platforms", lambda: check_platforms(platforms)),
        ("severity", lambda: check_severity(data.get("severity") or "MEDIUM")),
    ]
    if data.get("versions") is not None:
        checks.append(("versions", lambda: check_versions(data["versions"], platforms)))
    if data.get("title") is not None:
        checks.append(("title", lambda: check_title(data["title"])))
    values = {}
    for key, check in checks:
        try:
            values[key] = check()
        except ValueError as exc:
            raise ValueError(f"{where}.{key}: {exc}") from None
    return Rule(
        id=values["id"], kind=cast(RuleKind, values["kind"]), name=values["name"],
        versions=values.get("versions"), platforms=values["platforms"],
        severity=values["severity"], title=values.get("title"),
    )


def rules_from_json(data: Any) -> list[Rule]:
    """``{"rules": [...]}`` (already ``json.loads``-ed) -> rules, checked as the stack config
    checks them; ValueError naming ``rules[i].<key>`` otherwise."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise ValueError('expected an object like {"rules": [{"id": ..., "kind": ..., "name": ...}]}')
    items = data["rules"]
    if len(items) > MAX_RULES:
        raise ValueError(
            f"rules: {len(items)} rules; at most {MAX_RULES} (the items of one PutComplianceItems call)"
        )
    rules = [_rule_from_json(item, f"rules[{index}]") for index, item in enumerate(items)]
    for index, earlier in duplicate_ids(rule.id for rule in rules).items():
        raise ValueError(f"rules[{index}].id: {rules[index].id!r} is already the id of rules[{earlier}]")
    return rules
