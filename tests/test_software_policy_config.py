"""``softwarePolicy``: rules and schedule validated before anything is registered.

Schedule rules: Amazon EventBridge User Guide, "Setting a schedule pattern for scheduled rules
(legacy)" (eb-scheduled-rule-pattern.html) and "Rate expressions reference"
(eb-rate-expressions.html); see components/event_schedule.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config
from components.event_schedule import schedule_problem
from fleetctl.compliance.model import Rule
from fleetctl.compliance.rules import MAX_RULES
from fleetctl.plan.mockrun import partial_recording, run_program

AGENT = {"id": "ssm-agent", "kind": "required", "name": "amazon-ssm-agent", "versions": ">=3.3.40.0"}


def _policy(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"softwarePolicy": {"rules": list(rules), **extra}}


def _rule(**changes: Any) -> dict[str, Any]:
    return {**AGENT, **changes}


KEY = "ssm-inventory:softwarePolicy"
ROOT = Path(__file__).resolve().parents[1]

BAD = [
    pytest.param(_policy(_rule(id="a b")), f"{KEY}.rules[0].id", "letters, digits", id="id-charset"),
    pytest.param(_policy(_rule(id="x" * 101)), f"{KEY}.rules[0].id", "1 to 100", id="id-length"),
    pytest.param(_policy(_rule(kind="mandatory")), f"{KEY}.rules[0].kind",
                 "allowed: required, forbidden", id="kind"),
    pytest.param(_policy(_rule(name="")), f"{KEY}.rules[0].name", "is empty", id="empty-name"),
    pytest.param(_policy(_rule(name=" x")), f"{KEY}.rules[0].name", "spaces", id="padded-name"),
    pytest.param(_policy(_rule(versions="3.0")), f"{KEY}.rules[0].versions",
                 "write == for an exact version", id="constraint-no-operator"),
    pytest.param(_policy(_rule(versions=3.0)), f"{KEY}.rules[0].versions",
                 'got the number 3.0; write the constraint as a quoted string', id="constraint-number"),
    pytest.param(_policy(_rule(versions=">=1.0,")), f"{KEY}.rules[0].versions", "stray comma",
                 id="constraint-comma"),
    pytest.param(_policy(_rule(versions=">=1:2.0", platforms=["Windows"])),
                 f"{KEY}.rules[0].versions", "not a dotted version", id="constraint-windows"),
    pytest.param(_policy(_rule(platforms=["Solaris"])), f"{KEY}.rules[0].platforms",
                 "allowed: Linux, Windows, MacOS", id="platform"),
    pytest.param(_policy(_rule(platforms=["Linux", "Linux"])), f"{KEY}.rules[0].platforms",
                 "more than once", id="platform-twice"),
    pytest.param(_policy(_rule(severity="SEVERE")), f"{KEY}.rules[0].severity",
                 "allowed: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED", id="severity"),
    pytest.param(_policy(_rule(title="t" * 501)), f"{KEY}.rules[0].title", "1 to 500", id="title"),
    pytest.param(_policy(_rule(title="")), f"{KEY}.rules[0].title", "1 to 500", id="empty-title"),
    pytest.param(_policy(AGENT, schedule=""), f"{KEY}.schedule", "not a valid schedule",
                 id="empty-schedule"),
    pytest.param(_policy(_rule(version=">=1")), f"{KEY}.rules[0].version", "is not a known key",
                 id="unknown-key"),
    pytest.param(_policy(AGENT, _rule(name="other")), f"{KEY}.rules[1].id",
                 "'ssm-agent' is already the id of rules[0]", id="duplicate-id"),
    pytest.param(_policy(), f"{KEY}.rules", "list at least one rule", id="no-rules"),
    pytest.param({"softwarePolicy": {"schedule": "rate(1 hour)"}}, f"{KEY}.rules", "is required",
                 id="schedule-without-rules"),
    pytest.param(_policy(AGENT, schedule="rate(1 minutes)"), f"{KEY}.schedule",
                 "singular for 1", id="schedule-plural-one"),
    pytest.param(_policy(AGENT, schedule="cron(0 3 * * * *)"), f"{KEY}.schedule",
                 "exactly one of day-of-month and day-of-week", id="schedule-no-question-mark"),
    pytest.param({"softwarePolicy": [AGENT]}, KEY, "expected an object like {rules:", id="shape"),
]


@pytest.mark.parametrize(("overrides", "key", "fragment"), BAD)
def test_bad_policy_fails_before_anything_is_registered(
    overrides: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides=overrides)
    message = str(caught.value)
    assert f"{key}:" in message
    assert fragment in message
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def _parse(policy: Any) -> Any:
    return parse_stack_config({"ssm-inventory:workload": "Test", f"{KEY}": json.dumps(policy)})


def test_too_many_rules() -> None:
    rules = [_rule(id=f"r{n}") for n in range(MAX_RULES + 1)]
    with pytest.raises(ConfigError, match=rf"{KEY}.rules: has {MAX_RULES + 1} rules; at most"):
        _parse({"rules": rules})


def test_every_bad_rule_key_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        _parse({"rules": [_rule(kind="x", severity="y"), _rule(id="b", platforms=["Z"])]})
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":", 2)[1] for line in lines] == [
        "softwarePolicy.rules[0].kind", "softwarePolicy.rules[0].severity",
        "softwarePolicy.rules[1].platforms",
    ]


def test_absent_policy_is_no_policy() -> None:
    config = parse_stack_config({"ssm-inventory:workload": "Test"})
    assert config.software_policy is None
    assert config.software_rules() == []


def test_rules_come_out_as_the_engines_rules() -> None:
    config = _parse({"rules": [
        _rule(versions=" >= 3.3.40.0 ", platforms=["Linux"], severity="HIGH"),
        {"id": "no-telnet", "kind": "forbidden", "name": "telnet*", "title": "No telnet"},
    ], "schedule": "cron(0 * * * ? *)"})
    assert config.software_policy.schedule == "cron(0 * * * ? *)"
    assert config.software_rules() == [
        Rule("ssm-agent", "required", "amazon-ssm-agent", ">=3.3.40.0", ("Linux",), "HIGH"),
        Rule("no-telnet", "forbidden", "telnet*", None, (), "MEDIUM", "No telnet"),
    ]


def test_dev_and_prod_carry_example_policies(dev, prod) -> None:
    # The stack files parse (the recordings exist) and the agent rule is in both.
    for recording in (dev, prod):
        assert recording.resources
    dev_config = _stack_config("dev")
    prod_config = _stack_config("prod")
    assert dev_config.software_policy.schedule is None
    assert prod_config.software_policy.schedule == "rate(1 hour)"
    for config in (dev_config, prod_config):
        agent = next(r for r in config.software_rules() if r.name == "amazon-ssm-agent")
        assert (agent.kind, agent.versions) == ("required", ">=3.3.40.0")


def _stack_config(stack: str) -> Any:
    import yaml

    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    return parse_stack_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()})


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(1 day)", "rate(7 days)",
        # the user guide's examples
        "cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)", "cron(0/15 * * * ? *)", "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)", "cron(0 0 L * ? *)",
        "cron(0 0 ? * 6L *)", "cron(0 0 3W * ? *)", "cron(0 0 1 JAN,JUL ? 2027-2030)",
    ],
)
def test_eventbridge_accepts(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(1 hours)", "singular for 1"),
        ("rate(5 hour)", "singular for 1"),
        ("rate(0 minutes)", "positive"),
        ("rate(30 seconds)", "not a valid schedule"),
        ("cron(0 3 * * ?)", "six fields"),
        ("cron(0 0 3 * * ? *)", "six fields"),  # no seconds field in EventBridge
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 3 1 * MON *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 3 * * ? *)", "minutes '60'"),
        ("cron(0 24 * * ? *)", "hours '24'"),
        ("cron(0 3 * 13 ? *)", "month '13'"),
        ("cron(0 3 ? * 8 *)", "day-of-week '8'"),
        ("cron(0 3 * * ? 1969)", "year '1969'"),
        ("cron(0 3 ? * 3#1,6#3 *)", "one expression only"),
        ("cron(0 3 * * ?,1 *)", "'?' stands alone"),
        ("at(2027-01-01T00:00:00)", "not a valid schedule"),
    ],
)
def test_eventbridge_refuses(expression: str, fragment: str) -> None:
    problem = schedule_problem(expression)
    assert problem is not None and fragment in problem
    assert "allowed: rate(N minute|minutes" in problem


def test_documented_errors_are_the_real_ones() -> None:
    # docs/configuration.md, section softwarePolicy: the example error block is what the
    # program prints for that config (lines ending in "..." are shortened there).
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = text[text.index("Errors name the rule and field"):]
    block = section[section.index("```\n") + 4:section.index("\n```", section.index("```\n") + 4)]
    documented = [line.strip() for line in block.splitlines()[1:]]
    with pytest.raises(ConfigError) as caught:
        _parse({"rules": [_rule(versions="3.0"), _rule(id="b", platforms=["Solaris"])],
                "schedule": "rate(1 minutes)"})
    printed = [line.strip() for line in str(caught.value).splitlines()[1:]]
    assert len(documented) == len(printed) == 3
    for doc_line, line in zip(documented, printed, strict=True):
        if doc_line.endswith("..."):
            assert line.startswith(doc_line.removesuffix("..."))
        else:
            assert line == doc_line
