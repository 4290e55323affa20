"""Turns a pydantic ValidationError into the one message a person reads: every problem on
its own line, named by its full ``ssm-inventory:`` key path, with patterns explained in words
(which characters a tag may hold, what a workload name looks like) rather than as regexes.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from components.config._base import NAMESPACE
from components.config._types import TAG_CHARACTERS, TAG_KEY_PATTERN, TAG_VALUE_PATTERN
from components.config.stack import SYNC_NAME_MAX, SYNC_NAME_PREFIX, WORKLOAD_MAX

_PATTERN_HINTS = {
    "associationName": "must be 3 to 128 letters, digits, '_', '-' or '.' (no spaces)",
    "instanceType": "must be an EC2 instance type like t3.micro (not empty)",
    "role": "must be a letter then up to 31 letters or digits, like WebServer",
    "iamPath": "must be an IAM path like / or /ssm-inventory/",
    "permissionsBoundary": "must be an IAM policy ARN like arn:aws:iam::123456789012:policy/Boundary",
    "workload": f"must be 1 to {WORKLOAD_MAX} letters, digits, '_', '.' or '-', starting with a "
    f"letter or digit, like Test or Prod (it names the Resource Data Sync {SYNC_NAME_PREFIX}"
    f"<workload>, at most {SYNC_NAME_MAX} characters, and the instances' Name tags)",
    "environmentTag": "must be a tag value: letters, digits, spaces and _ . : / = + - @",
    "sourceAccounts": "must be a 12-digit AWS account ID like 111122223333",
    "prefix": "must be 1 to 64 letters, digits, '_' or '-' (an S3 key prefix without '/')",
    "database": "must be 1 to 255 lowercase letters, digits or '_' (Glue/Athena database name)",
    "patchGroup": "must be a tag value: letters, digits, spaces and _ . : / = + - @",
    "roles": "must be a fleet role: a letter then up to 31 letters or digits, like WebServer",
    "maxConcurrency": "must be a number of instances like 1 or 10, or a percentage from 1% to "
    "100% like 10% (SSM's MaxConcurrency)",
    "maxErrors": "must be a number of errors like 0 or 1, or a percentage from 0% to 100% like "
    "10% (SSM's MaxErrors)",
}


def _describe_location(loc: tuple[int | str, ...]) -> str:
    key = f"{NAMESPACE}:{loc[0]}" if loc else NAMESPACE
    for part in loc[1:]:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _tag_hint(text: Any, what: str) -> str:
    """Which characters of a tag key/value AWS refuses, in words (not the regex)."""
    bad = sorted({c for c in str(text) if not re.fullmatch(r"[\w .:/=+\-@]", c)})
    shown = " ".join(repr(c) for c in bad)
    return (f"{what} {str(text)!r} contains {shown}, which AWS does not allow in tags; "
            f"allowed: {TAG_CHARACTERS}")


def _format_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        loc = tuple(item["loc"])
        if item["type"] == "missing":
            message = "is required"
        elif item["type"] == "extra_forbidden":
            message = "is not a known key"
        elif item["type"] == "string_pattern_mismatch":
            pattern = (item.get("ctx") or {}).get("pattern")
            if pattern in (TAG_KEY_PATTERN, TAG_VALUE_PATTERN) and loc[-1] == "[key]":
                loc = loc[:-1]
                message = _tag_hint(item["input"], "tag key")
            elif pattern in (TAG_KEY_PATTERN, TAG_VALUE_PATTERN) and loc[0] == "tags":
                message = _tag_hint(item["input"], "tag value")
            else:
                # A list item's location ends in its index: the hint is the list's.
                named = [part for part in loc if isinstance(part, str)]
                message = _PATTERN_HINTS.get(named[-1] if named else "", message)
        lines.append(f"{_describe_location(loc)}: {message}")
    return "invalid stack config:\n  " + "\n  ".join(lines)
