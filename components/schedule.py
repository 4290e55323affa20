"""State Manager schedule expressions: ``rate(...)`` and six-field ``cron(...)``.

AWS limits for associations (lab facts §3): a rate of at least 30 minutes and under 31 days;
cron expressions may not fire more often than every 30 minutes either.
"""

from __future__ import annotations

import itertools
import re

MIN_INTERVAL_MINUTES = 30
MAX_RATE_MINUTES = 31 * 24 * 60  # exclusive

_RATE = re.compile(r"^rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^()]+)\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 24 * 60}
_FIELD = re.compile(r"^(?:\*|\?|(?P<start>\d+)(?:-(?P<end>\d+))?)(?:/(?P<step>\d+))?$")

ALLOWED = (
    "a rate like rate(30 minutes), rate(2 hours) or rate(1 day) (at least 30 minutes, "
    "under 31 days), or a six-field cron like cron(0 2 ? * SUN *) firing at most every "
    "30 minutes"
)


def rate_minutes(expression: str) -> int:
    """Minutes between runs of a rate expression; ValueError if it is malformed."""
    match = _RATE.match(expression)
    if not match:
        raise ValueError(f"'{expression}' is not a valid schedule; expected {ALLOWED}")
    value, unit = int(match["value"]), match["unit"]
    singular = unit.rstrip("s")
    if value == 0 or (value == 1) != (unit == singular):
        raise ValueError(
            f"'{expression}': use a positive value, singular unit for 1 "
            "(rate(1 hour)) and plural otherwise (rate(2 hours))"
        )
    return value * _UNIT_MINUTES[singular]


def _expand(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        match = _FIELD.match(part)
        if not match:
            raise ValueError(part)
        start = int(match["start"]) if match["start"] else low
        if match["end"]:
            end = int(match["end"])
        else:  # "5" is one value; "5/10" and "*/10" run to the end of the range
            end = start if match["start"] and not match["step"] else high
        step = int(match["step"]) if match["step"] else 1
        if not (low <= start <= high and low <= end <= high) or step == 0:
            raise ValueError(part)
        values.update(range(start, end + 1, step))
    return values


def cron_min_gap_minutes(expression: str) -> int:
    """Smallest gap between two runs of a cron expression within a day (wrapping at midnight)."""
    match = _CRON.match(expression)
    fields = match["fields"].split() if match else []
    if len(fields) != 6:
        raise ValueError(f"'{expression}' is not a valid schedule; expected {ALLOWED}")
    try:
        minutes = _expand(fields[0], 0, 59)
        hours = _expand(fields[1], 0, 23)
    except ValueError as exc:
        raise ValueError(
            f"'{expression}': cannot read cron field '{exc}'; expected {ALLOWED}"
        ) from None
    runs = sorted(h * 60 + m for h in hours for m in minutes)
    if len(runs) == 1:
        return 24 * 60
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    gaps.append(runs[0] + 24 * 60 - runs[-1])
    return min(gaps)


def validate_schedule(expression: str) -> str:
    """Returns the expression if AWS would accept it for an inventory association."""
    expression = expression.strip()
    if expression.startswith("rate("):
        minutes = rate_minutes(expression)
        if minutes < MIN_INTERVAL_MINUTES:
            raise ValueError(f"'{expression}' runs more often than every 30 minutes (the minimum)")
        if minutes >= MAX_RATE_MINUTES:
            raise ValueError(f"'{expression}' must be under 31 days")
        return expression
    if cron_min_gap_minutes(expression) < MIN_INTERVAL_MINUTES:
        raise ValueError(f"'{expression}' fires more often than every 30 minutes (the minimum)")
    return expression
