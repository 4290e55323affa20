"""Maintenance window schedules and time zones, judged by the rules AWS documents for them.

Source: AWS Systems Manager User Guide, "Reference: Cron and rate expressions for Systems
Manager" (https://docs.aws.amazon.com/systems-manager/latest/userguide/reference-cron-and-rate-expressions.html):

- "Unlike State Manager associations, maintenance windows support all cron and rate
  expressions", seconds field included: ``cron(30 09 ? * * *)``, ``cron(24 30 09 ? * * *)``,
  ``cron(0 2 ? * THU#3 *)``, ``cron(15 10 ? * MON-FRI *)``, ``cron(0 2 L * ? *)``,
  ``cron(15 10 ? * 6L *)``; ``rate(30 minutes)``, ``rate(1 hour)``, ``rate(5 hours)``,
  ``rate(25 days)`` (singular unit for 1, plural otherwise); and a one-time
  ``at(2021-07-07T13:15:30)``.
- General cron rules of the same page: six fields (minutes hours day-of-month month
  day-of-week year) or seven with a leading seconds field; ``?`` in day-of-month or
  day-of-week (one of them, not both specific).

Time zones: "Maintenance window scheduling and active period options" ("You specify time
zones in Internet Assigned Numbers Authority (IANA) format. For example: America/Chicago").
Checked against the IANA database the standard library's ``zoneinfo`` reads.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime

ALLOWED = (
    "allowed: a cron of six fields (minutes hours day-of-month month day-of-week year, or "
    "seven with leading seconds) with '?' in day-of-month or day-of-week, e.g. "
    "cron(0 2 ? * * *), cron(15 10 ? * MON-FRI *), cron(0 2 ? * THU#3 *); a rate "
    "rate(N minutes|hours|days) (singular unit for 1: rate(1 hour)); or at(2026-07-07T13:15:30)"
)

_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_AT = re.compile(r"^at\((?P<stamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
# Characters each cron field may hold (values, names, lists, ranges, steps, L, W, #).
_FIELD = re.compile(r"^[0-9A-Za-z*?,/#\-]+$")


def _rate_problem(expression: str) -> str | None:
    match = _RATE.match(expression)
    if not match:
        return f"'{expression}' is not a valid maintenance window schedule"
    value, unit = int(match["value"]), match["unit"]
    if value == 0 or (value == 1) != (not unit.endswith("s")):
        return (f"'{expression}': use a positive value, a singular unit for 1 (rate(1 hour)) "
                "and a plural one otherwise (rate(5 hours))")
    return None


def _cron_problem(expression: str) -> str | None:
    fields = _CRON.match(expression)
    parts = fields["fields"].split() if fields else []
    if len(parts) not in (6, 7):
        return (f"'{expression}' is not a valid maintenance window schedule: a cron needs six "
                "fields, or seven with a leading seconds field")
    bad = [part for part in parts if not _FIELD.match(part)]
    if bad:
        return f"'{expression}': field '{bad[0]}' is not a cron value"
    day_of_month, day_of_week = parts[-4], parts[-2]
    if (day_of_month == "?") == (day_of_week == "?"):
        return f"'{expression}': exactly one of day-of-month and day-of-week must be '?'"
    return None


def window_schedule_problem(expression: str) -> str | None:
    """Why Systems Manager would refuse this maintenance window schedule, or None."""
    expression = expression.strip()
    if expression.startswith("cron("):
        problem = _cron_problem(expression)
    elif expression.startswith("at("):
        at = _AT.match(expression)
        problem = None
        try:
            datetime.fromisoformat(at["stamp"]) if at else None
        except ValueError:
            at = None
        if not at:
            problem = f"'{expression}' is not a timestamp like at(2026-07-07T13:15:30)"
    else:
        problem = _rate_problem(expression)
    return f"{problem}; {ALLOWED}" if problem else None


def validate_window_schedule(expression: str) -> str:
    problem = window_schedule_problem(expression)
    if problem:
        raise ValueError(problem)
    return expression.strip()


def validate_timezone(name: str) -> str:
    """An IANA time zone name (``Asia/Seoul``, ``UTC``), or ValueError."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{name}' is not an IANA time zone; use a name like UTC, America/Chicago, "
            "Europe/Berlin or Asia/Seoul"
        ) from None
    return name
