"""Annotated types for AWS values more than one section of the config holds: tag keys and
values, S3 bucket names (or ARNs) and region names. Their patterns are also what
``errors.py`` recognises to explain a refused tag in words.
"""

from __future__ import annotations

import re
from typing import Annotated

from pulumi_aws import Region
from pydantic import AfterValidator, StringConstraints

from components.config._base import _close

# Every region pulumi-aws knows (its Region enum); anything else is a typo or a region the
# provider cannot reach yet.
KNOWN_REGIONS = frozenset(r.value for r in Region)

# Tag keys and values as AWS allows them ("Tagging your AWS resources", tag naming limits:
# letters, numbers and spaces representable in UTF-8, and + - = . _ : / @).
TAG_KEY_PATTERN = r"^[\w .:/=+\-@]+$"
TAG_VALUE_PATTERN = r"^[\w .:/=+\-@]*$"
TAG_CHARACTERS = "letters, digits, spaces and _ . : / = + - @"
TAG_KEY = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=TAG_KEY_PATTERN)]
TAG_VALUE = Annotated[str, StringConstraints(max_length=256, pattern=TAG_VALUE_PATTERN)]


# General purpose bucket naming rules (Amazon S3 user guide, "General purpose bucket naming
# rules"): 3-63 characters of lowercase letters, digits, dots and hyphens, beginning and
# ending with a letter or digit, no two adjacent dots, not shaped like an IP address, and
# none of the reserved prefixes and suffixes below.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")
_BUCKET_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):s3:::(.*)$")


def _bucket_name(value: str) -> str:
    """A bucket name or ``arn:<partition>:s3:::<name>`` ARN -> the bucket name, or ValueError."""
    if "*" in value or "?" in value:
        raise ValueError(
            f"'{value}' is a wildcard: it would let every instance of the VPC reach every "
            "bucket in the region, which makes the endpoint policy no policy; list the buckets"
        )
    arn = _BUCKET_ARN.match(value)
    name = arn.group(2) if arn else value
    if value.startswith("arn:") and not arn:
        raise ValueError(f"'{value}' is not a bucket ARN like arn:aws:s3:::my-bucket")
    problem = None
    if not _BUCKET_NAME.match(name):
        problem = ("must be 3 to 63 lowercase letters, digits, dots or hyphens, beginning and "
                   "ending with a letter or digit (no object key or path)")
    elif ".." in name:
        problem = "must not contain two adjacent dots"
    elif re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        problem = "must not be formatted as an IP address"
    elif name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        problem = (f"uses a reserved prefix ({', '.join(_BUCKET_RESERVED_PREFIXES)}) or suffix "
                   f"({', '.join(_BUCKET_RESERVED_SUFFIXES)})")
    if problem:
        raise ValueError(f"'{value}' is not an S3 bucket name: it {problem}")
    return name


BucketName = Annotated[str, AfterValidator(_bucket_name)]


def _known_region(value: str) -> str:
    if value not in KNOWN_REGIONS:
        raise ValueError(f"unknown region {value!r}{_close(value, KNOWN_REGIONS)}")
    return value


RegionName = Annotated[str, AfterValidator(_known_region)]
