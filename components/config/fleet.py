"""``fleet``: the groups of instances (or Auto Scaling groups) the stack builds, each group's
OS-dependent defaults, and the default fleet of two WebServers and two AppServers.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pulumi_aws.ec2 import InstanceType
from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from components.amis import SUPPORTED_OS
from components.config._base import _Model
from components.config._types import TAG_VALUE

# Every EC2 instance type name pulumi-aws knows (its InstanceType enum, generated from the
# AWS API): a typo such as t3.mirco fails here instead of at RunInstances.
KNOWN_INSTANCE_TYPES = frozenset(member.value for member in InstanceType)
DEFAULT_OS = "amazon-linux-2023"
ASG_SIZE_MAX = 2**31 - 1


class FleetGroup(_Model):
    """One group of identical instances sharing a role (e.g. two WebServers), registered as
    instances or as one Auto Scaling group (``mode``)."""

    role: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,31}$")]
    count: Annotated[int, Field(ge=0, le=1000)] = 2
    # No default here: _os_default_instance_type fills in the OS's default (t3.micro for
    # Linux, t3.medium for Windows) so that the validated group carries the final type.
    instance_type: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9\-]*\.[a-z0-9]+$")
    ]
    os: str = DEFAULT_OS
    patch_group: TAG_VALUE = "Critical"
    root_volume_size: Annotated[int | None, Field(ge=8, le=16384)] = None
    # `instances`: one aws.ec2.Instance per count (URNs numbered Web1, Web2...).
    # `autoscaling`: one launch template and one Auto Scaling group whose desired capacity
    # is `count`, between minCount and maxCount (both default to count: a fixed-size group).
    mode: Literal["instances", "autoscaling"] = "instances"
    # The Auto Scaling API types MinSize/MaxSize as plain integers with no bounds of their
    # own (botocore autoscaling service-2.json: AutoScalingGroupMinSize/MaxSize); what it
    # requires is MinSize <= DesiredCapacity <= MaxSize (CreateAutoScalingGroup,
    # DesiredCapacity: "must be greater than or equal to the minimum size of the group and
    # less than or equal to the maximum size"). Negative sizes are refused, and the 32-bit
    # integer the Query API carries is the ceiling.
    min_count: Annotated[int | None, Field(ge=0, le=ASG_SIZE_MAX)] = None
    max_count: Annotated[int | None, Field(ge=0, le=ASG_SIZE_MAX)] = None

    @model_validator(mode="before")
    @classmethod
    def _os_default_instance_type(cls, data: Any) -> Any:
        if not isinstance(data, dict) or {"instanceType", "instance_type"} & data.keys():
            return data
        os_key = data.get("os", DEFAULT_OS)
        # An unknown OS is reported by _known_os; the Linux default keeps that the one error.
        os = SUPPORTED_OS.get(os_key if isinstance(os_key, str) else DEFAULT_OS)
        default = (os or SUPPORTED_OS[DEFAULT_OS]).default_instance_type
        return {**data, "instanceType": default}

    @field_validator("instance_type")
    @classmethod
    def _known_instance_type(cls, value: str) -> str:
        if value not in KNOWN_INSTANCE_TYPES:
            close = difflib.get_close_matches(value, sorted(KNOWN_INSTANCE_TYPES), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else " (names look like t3.micro)"
            raise ValueError(f"unknown EC2 instance type '{value}'{hint}")
        return value

    @field_validator("os")
    @classmethod
    def _known_os(cls, value: str) -> str:
        if value not in SUPPORTED_OS:
            raise ValueError(f"unknown OS '{value}'; allowed: {', '.join(SUPPORTED_OS)}")
        return value

    @field_validator("root_volume_size")
    @classmethod
    def _fits_the_image(cls, value: int | None, info: ValidationInfo) -> int | None:
        os = SUPPORTED_OS.get(info.data.get("os", ""))
        if value is not None and os is not None and value < os.root_snapshot_gib:
            raise ValueError(
                f"{value} GiB is smaller than the {os.key} image's root snapshot; "
                f"use at least {os.root_snapshot_gib} GiB (or leave it unset)"
            )
        return value

    @model_validator(mode="after")
    def _capacity_in_bounds(self) -> FleetGroup:
        if self.mode == "instances":
            given = [key for key, value in (("minCount", self.min_count),
                                            ("maxCount", self.max_count)) if value is not None]
            if given:
                raise ValueError(f"{' and '.join(given)} apply only to mode 'autoscaling' "
                                 "(an 'instances' group has exactly count instances)")
            return self
        if not self.min_size <= self.count <= self.max_size:
            raise ValueError(
                f"an Auto Scaling group needs minCount <= count <= maxCount, got "
                f"minCount {self.min_size}, count {self.count}, maxCount {self.max_size}"
            )
        return self

    @property
    def min_size(self) -> int:
        """The Auto Scaling group's MinSize (minCount, else count)."""
        return self.count if self.min_count is None else self.min_count

    @property
    def max_size(self) -> int:
        """The Auto Scaling group's MaxSize (maxCount, else count)."""
        return self.count if self.max_count is None else self.max_count

    @property
    def short_role(self) -> str:
        """``WebServer`` -> ``Web``: the lab's instance names are ``Prod-Web1``, ``Prod-App1``."""
        return self.role.removesuffix("Server") or self.role


def _default_fleet() -> list[FleetGroup]:
    # Validated from raw input like a configured group, so the OS default instance type applies.
    return [FleetGroup.model_validate({"role": role}) for role in ("WebServer", "AppServer")]
