"""State Manager association schedules, judged by the rules AWS documents for associations.

Source: AWS Systems Manager User Guide, "Reference: Cron and rate expressions for Systems
Manager", section "Cron and rate expressions for associations"
(https://docs.aws.amazon.com/systems-manager/latest/userguide/reference-cron-and-rate-expressions.html):

- rate: at least 30 minutes and under 31 days; a value of 1 takes a singular unit
  (``rate(1 hour)``), larger values a plural one (``rate(5 hours)``).
- cron: only every 30 minutes, every 1, 2, 4, 8 or 12 hours, every day or every week at a
  set time, the nth weekday of the month (``TUE#3``) or its last weekday (``3L``); a ``?`` in
  day-of-month or day-of-week; no months; an optional leading seconds field that may only
  be 0 (``cron(0 */30 * * * ? *)``).

This file is kept identical in ``components/schedule.py`` (config validation) and
``policy/ssm_policies/_schedule.py`` (the policy pack stands alone and may not import the
program); ``tests/test_schedule.py`` checks that the copies match and runs both over one
table of the documentation's examples. Standard library only.
"""

from __future__ import annotations

import re

MIN_RATE_MINUTES = 30
MAX_RATE_MINUTES = 31 * 24 * 60  # exclusive: "less than 31 days"
HOUR_STEPS = (1, 2, 4, 8, 12)

ALLOWED = (
    "allowed: rate(30 minutes) up to under rate(31 days) (singular unit for 1: rate(1 hour)), "
    "or a cron State Manager accepts for associations: every 30 minutes cron(0/30 * * * ? *), "
    "every 1, 2, 4, 8 or 12 hours cron(0 0/4 * * ? *), daily cron(15 13 ? * * *), weekly "
    "cron(15 13 ? * MON *), nth weekday of the month cron(30 23 ? * TUE#3 *) or last weekday "
    "cron(30 23 ? * 3L *); month and year '*', '?' in day-of-month or day-of-week, and an "
    "optional leading seconds field of 0"
)

_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}
_NUMBER = re.compile(r"^\d{1,2}$")
_STEP = re.compile(r"^(?:\*|0)/(?P<step>\d+)$")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NTH_WEEKDAY = re.compile(r"^(?P<day>[A-Za-z]{3}|[1-7])#[1-5]$")
_LAST_WEEKDAY = re.compile(r"^[1-7]L$")


def _rate_problem(expression: str) -> str | None:
    match = _RATE.match(expression)
    if not match:
        return f"'{expression}' is not a valid schedule"
    value, unit = int(match["value"]), match["unit"]
    singular = unit.rstrip("s")
    if value == 0 or (value == 1) != (unit == singular):
        return (
            f"'{expression}': use a positive value, a singular unit for 1 (rate(1 hour)) and "
            "a plural one otherwise (rate(2 hours))"
        )
    minutes = value * _UNIT_MINUTES[singular]
    if minutes < MIN_RATE_MINUTES:
        return f"'{expression}' runs more often than every 30 minutes (the minimum)"
    if minutes >= MAX_RATE_MINUTES:
        return f"'{expression}' must be under 31 days"
    return None


def _is_value(field: str, high: int) -> bool:
    return bool(_NUMBER.match(field)) and int(field) <= high


def _is_weekday(field: str) -> bool:
    return field.upper() in _WEEKDAYS or field in {"1", "2", "3", "4", "5", "6", "7"}


def _days_problem(day_of_month: str, day_of_week: str) -> str | None:
    """None for every day, one weekday, the nth weekday or the last weekday of the month."""
    if (day_of_month, day_of_week) in {("*", "?"), ("?", "*")}:
        return None  # every day (or every 30 minutes / N hours, every day)
    if day_of_month != "?":
        return f"day-of-month '{day_of_month}' is not supported (use ? and a weekday)"
    day = _NTH_WEEKDAY.match(day_of_week)
    if _is_weekday(day_of_week) or _LAST_WEEKDAY.match(day_of_week):
        return None
    if day and _is_weekday(day["day"]):
        return None
    return (
        f"day-of-week '{day_of_week}' is not supported (one weekday like MON, TUE#3 or 3L)"
    )


def _cron_problem(expression: str) -> str | None:
    match = _CRON.match(expression)
    fields = match["fields"].split() if match else []
    if len(fields) == 7:
        if fields[0] != "0":
            return f"'{expression}': the optional seconds field may only be 0"
        fields = fields[1:]
    if len(fields) != 6:
        return (
            f"'{expression}' is not a valid schedule: a cron needs six fields (minutes hours "
            "day-of-month month day-of-week year), or seven with a leading seconds field of 0"
        )
    minutes, hours, day_of_month, month, day_of_week, year = fields
    if month != "*":
        return f"'{expression}': State Manager does not support months in association crons"
    if year != "*":
        return f"'{expression}': the year field must be '*'"
    if "?" not in (day_of_month, day_of_week):
        return f"'{expression}': day-of-month or day-of-week must be '?'"
    every_day = (day_of_month, day_of_week) in {("*", "?"), ("?", "*")}
    minute_step, hour_step = _STEP.match(minutes), _STEP.match(hours)
    if minute_step:
        if int(minute_step["step"]) < MIN_RATE_MINUTES:
            return f"'{expression}' runs more often than every 30 minutes (the minimum)"
        if minute_step["step"] != "30" or hours != "*" or not every_day:
            return f"'{expression}': a minute step is only supported as every 30 minutes"
        return None
    if not _is_value(minutes, 59):
        return f"'{expression}': minutes '{minutes}' must be one value 0-59 (or 0/30)"
    if hour_step:
        if int(hour_step["step"]) not in HOUR_STEPS:
            return f"'{expression}': every {hour_step['step']} hours is not supported"
        if not every_day:
            return f"'{expression}': an hour step runs every day ('*' and '?' for the days)"
        return None
    if not _is_value(hours, 23):
        return f"'{expression}': hours '{hours}' must be one value 0-23 or 0/1, 0/2, 0/4, 0/8, 0/12"
    problem = _days_problem(day_of_month, day_of_week)
    return f"'{expression}': {problem}" if problem else None


def schedule_problem(expression: str) -> str | None:
    """Why State Manager would refuse this association schedule (with what is allowed), or None."""
    expression = expression.strip()
    if expression.startswith("cron("):
        problem = _cron_problem(expression)
    else:
        problem = _rate_problem(expression)
    return f"{problem}; {ALLOWED}" if problem else None


def validate_schedule(expression: str) -> str:
    """Returns the expression (stripped) if AWS accepts it for an association; else ValueError."""
    problem = schedule_problem(expression)
    if problem:
        raise ValueError(problem)
    return expression.strip()
