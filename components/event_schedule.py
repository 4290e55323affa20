"""EventBridge scheduled-rule expressions, judged by the rules AWS documents for them.

Sources: Amazon EventBridge User Guide, "Setting a schedule pattern for scheduled rules
(legacy) in Amazon EventBridge" (eb-scheduled-rule-pattern.html, "Cron expressions") and
"Rate expressions reference" (eb-rate-expressions.html):

- ``rate(value unit)``: a positive number and minute | minutes | hour | hours | day | days;
  "If the value is equal to 1, then the unit must be singular. If the value is greater than
  1, the unit must be plural" (``rate(1 minute)``, ``rate(5 minutes)``; not ``rate(1 hours)``).
- ``cron(fields)``: six required fields, minutes (0-59, ``, - * /``), hours (0-23,
  ``, - * /``), day-of-month (1-31, ``, - * ? / L W``), month (1-12 or JAN-DEC, ``, - * /``),
  day-of-week (1-7 or SUN-SAT, ``, - * ? L #``), year (1970-2199, ``, - * /``). "You can't
  specify the Day-of-month and Day-of-week fields in the same cron expression. If you specify
  a value or a * (asterisk) in one of the fields, you must use a ? (question mark) in the
  other." With ``#`` the day-of-week field holds one expression only (``3#1,6#3`` is invalid).

No seconds field (unlike Systems Manager's crons) and no ``at()`` one-time schedules.
Standard library only.
"""

from __future__ import annotations

import re

ALLOWED = (
    "allowed: rate(N minute|minutes|hour|hours|day|days) with a singular unit for 1 "
    "(rate(1 minute), rate(5 minutes), rate(1 day)), or cron(minutes hours day-of-month month "
    "day-of-week year) with '?' in day-of-month or day-of-week, e.g. cron(0 3 * * ? *), "
    "cron(0/30 * * * ? *), cron(15 10 ? * MON-FRI *)"
)

_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]*)\)$")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

# name, low, high, names, extra single tokens the field allows besides values/ranges/steps
_FIELDS = (
    ("minutes", 0, 59, (), ()),
    ("hours", 0, 23, (), ()),
    ("day-of-month", 1, 31, (), ("?", "L", "LW")),
    ("month", 1, 12, _MONTHS, ()),
    ("day-of-week", 1, 7, _DAYS, ("?", "L")),
    ("year", 1970, 2199, (), ()),
)


def _rate_problem(expression: str) -> str | None:
    match = _RATE.match(expression)
    if not match:
        return f"'{expression}' is not a valid schedule"
    value, unit = int(match["value"]), match["unit"]
    if value == 0:
        return f"'{expression}': the value must be a positive number"
    if (value == 1) != (not unit.endswith("s")):
        return (f"'{expression}': the unit must be singular for 1 and plural otherwise "
                "(rate(1 minute), rate(5 minutes))")
    return None


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if text.upper() in names:
        return True
    return text.isdigit() and low <= int(text) <= high


def _item_ok(item: str, field: tuple[str, int, int, tuple[str, ...], tuple[str, ...]]) -> bool:
    name, low, high, names, singles = field
    if item == "*" or item.upper() in singles:
        return True
    if name == "day-of-month" and re.fullmatch(r"\d{1,2}W", item):
        return _value(item[:-1], low, high, names)
    if name == "day-of-week":
        nth = re.fullmatch(r"(?P<day>\w+)#(?P<n>[1-5])", item)
        if nth:
            return _value(nth["day"], low, high, names)
        if item.upper().endswith("L") and len(item) > 1:
            return _value(item[:-1], low, high, names)
    start, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if slash and start == "*":
        return True
    first, dash, last = start.partition("-")
    if dash:
        return _value(first, low, high, names) and _value(last, low, high, names)
    return _value(first, low, high, names)


def _cron_problem(expression: str) -> str | None:
    match = _CRON.match(expression)
    fields = match["fields"].split() if match else []
    if len(fields) != 6:
        return (f"'{expression}' is not a valid schedule: an EventBridge cron has six fields "
                "(minutes hours day-of-month month day-of-week year)")
    for text, field in zip(fields, _FIELDS, strict=True):
        items = text.split(",")
        if not all(_item_ok(item, field) for item in items):
            return f"'{expression}': {field[0]} '{text}' is not valid (values {field[1]}-{field[2]})"
        if "?" in items and len(items) > 1:
            return f"'{expression}': '?' stands alone in {field[0]}"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (f"'{expression}': exactly one of day-of-month and day-of-week must be '?' "
                "(a value or '*' in one, '?' in the other)")
    if "#" in day_of_week and "," in day_of_week:
        return f"'{expression}': with '#' the day-of-week field holds one expression only"
    return None


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge would refuse this rule schedule (with what is allowed), or None."""
    expression = expression.strip()
    problem = _cron_problem(expression) if expression.startswith("cron(") else _rate_problem(expression)
    return f"{problem}; {ALLOWED}" if problem else None


def validate_event_schedule(expression: str) -> str:
    """The expression (stripped) if EventBridge accepts it for a scheduled rule; else ValueError."""
    problem = schedule_problem(expression)
    if problem:
        raise ValueError(problem)
    return expression.strip()
