"""Association schedules: the program's config check and the policy pack's check judge every
expression alike, by the rules AWS documents for State Manager associations.

Source of every case marked CRON_DOC: AWS Systems Manager User Guide, "Reference: Cron and rate
expressions for Systems Manager", section "Cron and rate expressions for associations"
(https://docs.aws.amazon.com/systems-manager/latest/userguide/reference-cron-and-rate-expressions.html#reference-cron-and-rate-expressions-association),
and its general section for the rate syntax. Cases marked LAB_FACTS restate
/work/shared/reference/lab-facts.md §7 (nth weekday TUE#3, last weekday 3L), collected from
the same page.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from components import schedule as program_schedule
from components.config import StackConfig
from components.inventory import InventoryCollection, InventoryCollectionArgs

ROOT = Path(__file__).resolve().parent.parent
PACK_COPY = ROOT / "policy" / "ssm_policies" / "_schedule.py"


def _load_pack_copy() -> ModuleType:
    """The pack's module, loaded from its file (it needs nothing but the standard library)."""
    spec = importlib.util.spec_from_file_location("pack_schedule", PACK_COPY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pack_schedule = _load_pack_copy()
CRON_DOC = "Reference: Cron and rate expressions for Systems Manager (associations)"
LAB_FACTS = "lab-facts §7, from the same page"

# (expression, accepted by State Manager for an association, where the rule comes from)
CASES = [
    # The page's "Cron examples for associations" table, every row.
    ("cron(0/30 * * * ? *)", True, CRON_DOC),
    ("cron(0 0/1 * * ? *)", True, CRON_DOC),
    ("cron(0 0/2 * * ? *)", True, CRON_DOC),
    ("cron(0 0/4 * * ? *)", True, CRON_DOC),
    ("cron(0 0/8 * * ? *)", True, CRON_DOC),
    ("cron(0 0/12 * * ? *)", True, CRON_DOC),
    ("cron(15 13 ? * * *)", True, CRON_DOC),
    ("cron(15 13 ? * MON *)", True, CRON_DOC),
    # Its seconds-field example: "its value can only be 0".
    ("cron(0 */30 * * * ? *)", True, CRON_DOC),
    ("cron(5 */30 * * * ? *)", False, CRON_DOC),
    # Its association CLI example (weekly, Sunday 02:00) and schedule-offset example.
    ("cron(0 2 ? * SUN *)", True, CRON_DOC),
    ("cron(0 0 ? * THU#2 *)", True, CRON_DOC),
    # nth weekday and last weekday of the month.
    ("cron(30 23 ? * TUE#3 *)", True, LAB_FACTS),
    ("cron(30 23 ? * 3L *)", True, LAB_FACTS),
    # The page's "Rate examples for associations" table, every row, and the rate limits.
    ("rate(30 minutes)", True, CRON_DOC),
    ("rate(1 hour)", True, CRON_DOC),
    ("rate(5 hours)", True, CRON_DOC),
    ("rate(15 days)", True, CRON_DOC),
    ("rate(30 days)", True, CRON_DOC),
    ("rate(29 minutes)", False, CRON_DOC),
    ("rate(31 days)", False, CRON_DOC),
    ("rate(744 hours)", False, CRON_DOC),
    ("rate(1 hours)", False, CRON_DOC),
    ("rate(5 hour)", False, CRON_DOC),
    # Intervals the page does not list for associations.
    ("cron(0 0/3 * * ? *)", False, CRON_DOC),
    ("cron(0 0/6 * * ? *)", False, CRON_DOC),
    ("cron(0/15 * * * ? *)", False, CRON_DOC),
    ("cron(0/10 * ? * MON-FRI *)", False, CRON_DOC),  # a maintenance-window example
    ("cron(0,30 8-17 ? * MON-FRI *)", False, CRON_DOC),
    ("cron(* * * * ? *)", False, CRON_DOC),
    # "State Manager doesn't currently support specifying months"; '?' in one day field.
    ("cron(0 2 ? 1/1 THU#3 *)", False, CRON_DOC),
    ("cron(0 2 ? JAN MON *)", False, CRON_DOC),
    ("cron(0 10 * * * *)", False, CRON_DOC),
    # Day-of-month schedules are maintenance-window forms only.
    ("cron(0 2 L * ? *)", False, CRON_DOC),
    ("cron(0 8 1 * ? *)", False, CRON_DOC),
    # Malformed.
    ("cron(0 2 * *)", False, CRON_DOC),
    ("cron(99 2 ? * SUN *)", False, CRON_DOC),
    ("every 30 minutes", False, CRON_DOC),
    ("at(2020-07-07T15:55:00)", False, CRON_DOC),  # a one-off run collects inventory once
]


def _id(case: tuple[str, bool, str]) -> str:
    return f"{'ok' if case[1] else 'bad'}:{case[0]}"


def test_the_pack_copy_is_identical_to_the_program_copy() -> None:
    """Duplicated by design (the pack may not import the program): the files must not drift."""
    program = (ROOT / "components" / "schedule.py").read_text()
    pack = PACK_COPY.read_text()
    assert pack == program


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_program_and_pack_agree_with_the_docs(case: tuple[str, bool, str]) -> None:
    expression, accepted, _source = case
    program = program_schedule.schedule_problem(expression)
    pack = pack_schedule.schedule_problem(expression)
    assert (program is None) == accepted, program
    assert (pack is None) == accepted, pack
    assert program == pack


@pytest.mark.parametrize(
    "expression, reason",
    [
        ("cron(0 0/3 * * ? *)", "every 3 hours is not supported"),
        ("cron(5 */30 * * * ? *)", "seconds field may only be 0"),
        ("cron(0 2 ? JAN MON *)", "does not support months"),
        ("cron(0 10 * * * *)", "must be '?'"),
        ("cron(0/15 * * * ? *)", "more often than every 30 minutes"),
        ("cron(0 8 1 * ? *)", "day-of-month '1' is not supported"),
        ("rate(10 minutes)", "more often than every 30 minutes"),
        ("rate(31 days)", "under 31 days"),
    ],
)
def test_a_refusal_says_why_and_what_is_allowed(expression: str, reason: str) -> None:
    problem = program_schedule.schedule_problem(expression)
    assert problem is not None and reason in problem
    assert "every 1, 2, 4, 8 or 12 hours" in problem and "cron(30 23 ? * TUE#3 *)" in problem


def test_config_refuses_what_state_manager_refuses() -> None:
    """The case that used to pass validation and fail at deploy."""
    with pytest.raises(ValueError, match="every 3 hours is not supported"):
        StackConfig.model_validate({"workload": "Test", "inventory": {"schedule": "cron(0 0/3 * * ? *)"}})
    config = StackConfig.model_validate(
        {"workload": "Test", "inventory": {"schedule": " cron(0 */30 * * * ? *) "}}
    )
    assert config.inventory.schedule == "cron(0 */30 * * * ? *)"


def test_the_association_component_checks_its_schedule_too() -> None:
    """Every association the program makes is checked, also when built without the config."""
    args = InventoryCollectionArgs(
        association_name="Inventory", schedule="cron(0 0/3 * * ? *)", parameters={},
        target_tags={"Workload": "Test"}, region="us-east-1", tags={},
    )
    with pytest.raises(ValueError, match="every 3 hours is not supported"):
        InventoryCollection("inventory", args)
