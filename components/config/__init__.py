"""Typed, validated stack configuration (namespace ``ssm-inventory:``).

Everything the program builds is decided here first: a bad value stops the run with one
message naming the key and what is allowed, before any resource is registered.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from typing import Annotated, Any, Literal, cast

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env
from pulumi_aws import Region
from pulumi_aws.ec2 import InstanceType
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.amis import SUPPORTED_OS
from components.event_schedule import validate_event_schedule
from components.schedule import validate_schedule
from components.window_schedule import validate_timezone, validate_window_schedule
from fleetctl.compliance import rules as policy_rules
from fleetctl.compliance.model import Rule, RuleKind

NAMESPACE = "ssm-inventory"

# Every region pulumi-aws knows (its Region enum); anything else is a typo or a region the
# provider cannot reach yet.
KNOWN_REGIONS = frozenset(r.value for r in Region)

# Interface endpoint services an SSM-managed fleet in private subnets may need
# (lab facts §2): the three the docs call required, Session Manager, and the optional ones.
KNOWN_ENDPOINT_SERVICES = ("ssm", "ec2messages", "ec2", "ssmmessages", "kms", "logs")
DEFAULT_ENDPOINTS = ["ssm", "ec2messages", "ec2", "ssmmessages"]

# An AWS-GatherSoftwareInventory switch (every one defaults to Enabled in the document).
Toggle = Literal["Enabled", "Disabled"]

# The smallest VPC allowed: cut into eight blocks (components/network.py) it still gives /27
# subnets, above AWS's /28 minimum.
MIN_VPC_PREFIX_MAX = 24

ASSOCIATION_NAME_PATTERN = r"^[a-zA-Z0-9_\-.]{3,128}$"

# The workload names things: the Resource Data Sync "ssm-inventory-<workload>" (SSM API
# reference, CreateResourceDataSync SyncName: 1 to 64 characters), instance Name tags
# "<workload>-Web1" and the fleet security group's description (EC2 API reference,
# CreateSecurityGroup Description: up to 255 of a-z A-Z 0-9 spaces ._-:/()#,@[]+=&;{}!$*).
# So it keeps to SSM's own name alphabet (that of association names) and leaves room for
# the sync name's prefix: 64 - len("ssm-inventory-") = 50.
SYNC_NAME_PREFIX = "ssm-inventory-"
SYNC_NAME_MAX = 64
WORKLOAD_MAX = SYNC_NAME_MAX - len(SYNC_NAME_PREFIX)
WORKLOAD_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.\-]{{0,{WORKLOAD_MAX - 1}}}$"
# Every EC2 instance type name pulumi-aws knows (its InstanceType enum, generated from the
# AWS API): a typo such as t3.mirco fails here instead of at RunInstances.
KNOWN_INSTANCE_TYPES = frozenset(member.value for member in InstanceType)
DEFAULT_OS = "amazon-linux-2023"
ASG_SIZE_MAX = 2**31 - 1

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


def _repeated(values: list[str]) -> list[str]:
    """The values a list holds more than once, sorted (for "lists X more than once")."""
    return sorted({v for v in values if values.count(v) > 1})


class ConfigError(pulumi.RunError):
    """Invalid stack config; the message names every bad key and what is allowed.

    A ``RunError`` so that ``pulumi up`` prints the message alone, without a traceback.
    """


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


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


class InventoryParameters(_Model):
    """Every ``AWS-GatherSoftwareInventory`` parameter, defaults as documented (``files`` and
    ``windowsRegistry`` are JSON strings, empty by default)."""

    applications: Toggle = "Enabled"
    aws_components: Toggle = "Enabled"
    network_config: Toggle = "Enabled"
    windows_updates: Toggle = "Enabled"
    instance_detailed_information: Toggle = "Enabled"
    services: Toggle = "Enabled"
    windows_roles: Toggle = "Enabled"
    custom_inventory: Toggle = "Enabled"
    billing_info: Toggle = "Enabled"
    files: str = ""
    windows_registry: str = ""

    @field_validator("files", "windows_registry")
    @classmethod
    def _json_list(cls, value: str) -> str:
        if value == "":
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be a JSON list of objects (or empty): {exc.msg}") from None
        if not isinstance(parsed, list) or not all(isinstance(i, dict) for i in parsed):
            raise ValueError("must be a JSON list of objects (or empty)")
        return value

    def as_document_parameters(self) -> dict[str, str]:
        """Engine-ready parameters map; empty JSON parameters are left out (document default)."""
        params = self.model_dump(by_alias=True)
        return {k: v for k, v in params.items() if v != ""}


class InventoryConfig(_Model):
    association_name: Annotated[str, StringConstraints(pattern=ASSOCIATION_NAME_PATTERN)] = (
        "InventoryAllInstances"
    )
    schedule: str = "rate(30 minutes)"
    parameters: InventoryParameters = InventoryParameters()
    execution_logs: bool = False
    log_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    protect_log_bucket: bool = False
    compliance_severity: Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"] = "MEDIUM"
    # Account-wide Resource Data Sync to S3 (Athena-ready); enable in one stack per account.
    resource_data_sync: bool = False

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)


# Run Command's concurrency and error limits as the SSM API accepts them (botocore's SSM
# model, shapes MaxConcurrency and MaxErrors): a count or a percentage; errors may be 0.
MAX_CONCURRENCY = Annotated[str, StringConstraints(pattern=r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$",
                                                   max_length=7)]
MAX_ERRORS = Annotated[str, StringConstraints(pattern=r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$",
                                              max_length=7)]
ROLE = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,31}$")]


class InstallWindowConfig(_Model):
    """The lab's ``PatchTestWorkloadWebServers`` maintenance window: installs patches on the
    instances of ``roles`` (off unless enabled; prod enables it)."""

    enabled: bool = False
    schedule: str = "cron(0 2 ? * * *)"  # daily 02:00 in schedule_timezone
    schedule_timezone: str = "UTC"
    # SSM API (botocore, MaintenanceWindowDurationHours 1-24, MaintenanceWindowCutoff 0-23).
    duration_hours: Annotated[int, Field(ge=1, le=24)] = 3
    cutoff_hours: Annotated[int, Field(ge=0, le=23)] = 1
    # A window target's tag values: at most 50 (Target Values, SSM API reference).
    roles: Annotated[list[ROLE], Field(min_length=1, max_length=50)] = Field(
        default_factory=lambda: ["WebServer"])
    max_concurrency: MAX_CONCURRENCY = "1"
    max_errors: MAX_ERRORS = "1"
    reboot_option: Literal["RebootIfNeeded", "NoReboot"] = "RebootIfNeeded"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_window_schedule(value)

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("cutoff_hours")
    @classmethod
    def _cutoff_inside_duration(cls, value: int, info: ValidationInfo) -> int:
        # "The cutoff must be less than the duration" (CreateMaintenanceWindow: no task
        # could start otherwise).
        duration = info.data.get("duration_hours")
        if duration is not None and value >= duration:
            raise ValueError(
                f"{value} h is not less than durationHours ({duration} h): no task could start"
            )
        return value


class AlertsConfig(_Model):
    """E-mail alerts (SNS through EventBridge) on patch non-compliance and failed associations."""

    enabled: bool = False
    emails: list[EmailStr] = Field(default_factory=list)

    @field_validator("emails")
    @classmethod
    def _emails_once(cls, value: list[str]) -> list[str]:
        twice = _repeated(value)
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return value


class PatchingConfig(_Model):
    """Patch Manager for the fleet: baselines, patch groups, ONE scan method, optionally an
    install window and alerts (components/patching.py, components/alerts.py)."""

    enabled: bool = False
    # The scan association's schedule: association rules (components/schedule.py).
    scan_schedule: str = "rate(1 day)"
    # SSM API (botocore, ApproveAfterDays 0-360).
    approve_after_days: Annotated[int, Field(ge=0, le=360)] = 7
    install_window: InstallWindowConfig = InstallWindowConfig()
    alerts: AlertsConfig = AlertsConfig()

    @field_validator("scan_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)


# Resource Data Sync limits (lab facts §4; SSM user guide "Walkthrough: Use resource data sync
# to aggregate inventory data"): at most 5 syncs per account, one per account and region.
MAX_SYNCS_PER_ACCOUNT = 5
# Athena API reference, WorkGroupConfiguration.BytesScannedCutoffPerQuery: minimum 10000000.
MIN_BYTES_SCANNED_CUTOFF = 10_000_000


def _known_region(value: str) -> str:
    if value not in KNOWN_REGIONS:
        raise ValueError(f"unknown region {value!r}{_close(value, KNOWN_REGIONS)}")
    return value


RegionName = Annotated[str, AfterValidator(_known_region)]
AccountId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]


class ReportingConfig(_Model):
    """Fleet-wide reporting (docs/reporting.md): a *central* stack owns the sync bucket, the
    Glue catalog and the Athena workgroup; any stack may *send* its account's inventory there
    with one Resource Data Sync per region."""

    central: bool = False
    # Accounts whose syncs the central bucket accepts (each under its own accountid= prefix).
    source_accounts: list[AccountId] = Field(default_factory=list)
    # Regions the catalog projects besides this stack's sync regions (where sources sync from).
    regions: list[RegionName] = Field(default_factory=list)
    # Regions this stack syncs from (one sync each); unset: the stack's own region.
    sync_regions: list[RegionName] | None = None
    # A sending stack's destination: the central stack's bucket and its region.
    destination_bucket: BucketName | None = None
    destination_region: RegionName | None = None
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")] = "inventory"
    # Glue database names: lowercase letters, digits and underscores (Athena table naming).
    database: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,255}$")] = "ssm_inventory"
    bytes_scanned_cutoff: Annotated[int, Field(ge=MIN_BYTES_SCANNED_CUTOFF)] = 10 * 1024**3
    results_retention_days: Annotated[int, Field(ge=1, le=3650)] = 30

    @field_validator("source_accounts", "regions")
    @classmethod
    def _listed_once(cls, value: list[str]) -> list[str]:
        twice = _repeated(value)
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return value

    @field_validator("sync_regions")
    @classmethod
    def _one_sync_per_region(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        twice = _repeated(value)
        if twice:
            raise ValueError(
                f"lists {', '.join(twice)} more than once: Systems Manager allows one Resource "
                "Data Sync per account and region"
            )
        if len(value) > MAX_SYNCS_PER_ACCOUNT:
            raise ValueError(
                f"lists {len(value)} regions: Systems Manager allows at most "
                f"{MAX_SYNCS_PER_ACCOUNT} Resource Data Syncs per account"
            )
        return value

    @model_validator(mode="after")
    def _central_or_sender(self) -> ReportingConfig:
        if self.central and self.destination_bucket:
            raise ValueError(
                "destinationBucket is for sending stacks; a central stack (central: true) syncs "
                "into its own bucket"
            )
        if self.source_accounts and not self.central:
            raise ValueError("sourceAccounts needs central: true (only the central bucket accepts them)")
        if (self.destination_bucket is None) != (self.destination_region is None):
            raise ValueError("destinationBucket and destinationRegion go together")
        if self.sync_regions and not (self.central or self.destination_bucket):
            raise ValueError("syncRegions needs central: true or a destinationBucket to sync to")
        return self

    @property
    def sends(self) -> bool:
        return self.central or self.destination_bucket is not None

    def syncs(self, stack_region: str) -> list[str]:
        """The regions this stack creates a sync in (the stack's own region by default)."""
        if not self.sends:
            return []
        return list(self.sync_regions) if self.sync_regions is not None else [stack_region]


class SoftwareRule(_Model):
    """One rule of ``softwarePolicy.rules``; the checks are fleetctl.compliance.rules' (the
    Lambda function's policy file is checked by the same functions)."""

    id: Annotated[str, AfterValidator(policy_rules.check_id)]
    kind: Annotated[str, AfterValidator(policy_rules.check_kind)]
    name: Annotated[str, AfterValidator(policy_rules.check_name)]
    # Before ``versions``: the versions check reads which orderings the platforms use.
    platforms: Annotated[list[str], AfterValidator(lambda v: list(policy_rules.check_platforms(v)))] = Field(
        default_factory=list
    )
    versions: str | None = None
    severity: Annotated[str, AfterValidator(policy_rules.check_severity)] = "MEDIUM"
    title: Annotated[
        str | None, AfterValidator(lambda v: v if v is None else policy_rules.check_title(v))
    ] = None

    @field_validator("versions", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        # YAML reads `versions: 3.0` as a number, and `versions: >=3.0` as a folded block.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f"got the number {value}; write the constraint as a quoted string with an "
                f"operator, like \">=3.0\" or \"=={value}\" ({policy_rules.CONSTRAINT_HELP})"
            )
        return value

    @field_validator("versions")
    @classmethod
    def _constraint(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return policy_rules.check_versions(value, info.data.get("platforms") or ())

    def to_rule(self) -> Rule:
        return Rule(
            id=self.id, kind=cast(RuleKind, self.kind), name=self.name, versions=self.versions,
            platforms=tuple(self.platforms), severity=self.severity, title=self.title,
        )


class SoftwarePolicyConfig(_Model):
    """The software policy (docs/configuration.md#softwarepolicy): rules judged against each
    node's ``AWS:Application`` inventory as compliance type ``Custom:SoftwarePolicy``, by
    ``fleetctl compliance evaluate`` and, with ``schedule``, by a Lambda function on an
    EventBridge schedule."""

    rules: list[SoftwareRule]
    # An EventBridge scheduled-rule expression; unset: no function, evaluate from the CLI.
    schedule: Annotated[
        str | None, AfterValidator(lambda v: v if v is None else validate_event_schedule(v))
    ] = None

    @field_validator("rules")
    @classmethod
    def _some_rules(cls, rules: list[SoftwareRule]) -> list[SoftwareRule]:
        if not rules:
            raise ValueError(
                "is empty; list at least one rule like {id: ssm-agent, kind: required, name: "
                "amazon-ssm-agent} (remove softwarePolicy to turn the policy off)"
            )
        if len(rules) > policy_rules.MAX_RULES:
            raise ValueError(
                f"has {len(rules)} rules; at most {policy_rules.MAX_RULES} (a node's items go "
                "in one PutComplianceItems call, at most 10,000 items)"
            )
        return rules

    def to_rules(self) -> list[Rule]:
        return [rule.to_rule() for rule in self.rules]


class StackConfig(_Model):
    workload: Annotated[str, StringConstraints(pattern=WORKLOAD_PATTERN)]
    environment_tag: Annotated[TAG_VALUE, StringConstraints(min_length=1)] = "OELabIPM"
    vpc_cidr: str = "10.0.0.0/16"
    az_count: Annotated[int, Field(ge=1, le=6)] = 2
    nat_gateway: bool = False
    endpoints: list[str] = Field(default_factory=lambda: list(DEFAULT_ENDPOINTS))
    # Buckets the workloads may use through the S3 gateway endpoint (names; ARNs are reduced
    # to names). Every one is reachable from every instance of the VPC.
    s3_endpoint_allowed_buckets: list[BucketName] = Field(default_factory=list)
    fleet: list[FleetGroup] = Field(default_factory=_default_fleet)
    inventory: InventoryConfig = InventoryConfig()
    patching: PatchingConfig = PatchingConfig()
    reporting: ReportingConfig = ReportingConfig()
    tags: dict[TAG_KEY, TAG_VALUE] = Field(default_factory=dict)
    # A read-only IAM policy for operators (what `fleetctl check` needs); grants nothing
    # until attached.
    operator_policy: bool = True
    # A separate policy allowing only what `fleetctl compliance evaluate --put` writes
    # (ssm:PutComplianceItems on this account's nodes in the region); off unless asked for.
    compliance_writer_policy: bool = False
    iam_path: Annotated[str, StringConstraints(pattern=r"^/([\w+=,.@\-]+/)*$", max_length=512)] = "/"
    permissions_boundary: Annotated[
        str | None, StringConstraints(pattern=r"^arn:aws[a-z\-]*:iam::(aws|\d{12}):policy/.+$")
    ] = None
    # The software policy; absent: no policy (no compliance type, no function).
    software_policy: SoftwarePolicyConfig | None = None

    @model_validator(mode="after")
    def _one_sync_destination(self) -> StackConfig:
        if self.inventory.resource_data_sync and self.reporting.destination_bucket:
            raise ValueError(
                "inventory.resourceDataSync already syncs this account and region into this "
                "stack's bucket and reporting.destinationBucket would add a second sync there "
                "(one per account and region); use one of them"
            )
        return self

    def software_rules(self) -> list[Rule]:
        """The software policy's rules (empty when ``softwarePolicy`` is not set)."""
        return self.software_policy.to_rules() if self.software_policy else []

    @property
    def reporting_central(self) -> bool:
        """This stack owns the report bucket and catalog (``inventory.resourceDataSync`` is the
        original spelling of ``reporting.central``)."""
        return self.reporting.central or self.inventory.resource_data_sync

    def sync_regions(self, stack_region: str) -> list[str]:
        """Regions this stack creates a Resource Data Sync in (one each)."""
        if self.inventory.resource_data_sync and not self.reporting.sends:
            return [stack_region]
        return self.reporting.syncs(stack_region)

    @property
    def sync_name(self) -> str:
        """The Resource Data Sync's name (at most 64 characters, as the pattern ensures)."""
        return f"{SYNC_NAME_PREFIX}{self.workload.lower()}"

    @field_validator("vpc_cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not an IPv4 CIDR block like 10.0.0.0/16 ({exc})") from None
        if not network.is_private:
            raise ValueError(f"{value} is not a private (RFC 1918) range")
        if not 16 <= network.prefixlen <= MIN_VPC_PREFIX_MAX:
            raise ValueError(
                f"/{network.prefixlen} is outside the allowed VPC sizes /16 to /{MIN_VPC_PREFIX_MAX}"
            )
        return str(network)

    @field_validator("endpoints")
    @classmethod
    def _known_endpoints(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in KNOWN_ENDPOINT_SERVICES]
        if unknown:
            raise ValueError(
                f"unknown endpoint service {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(KNOWN_ENDPOINT_SERVICES)}"
            )
        if len(set(value)) != len(value):
            raise ValueError("lists a service twice")
        return value

    @field_validator("s3_endpoint_allowed_buckets")
    @classmethod
    def _buckets_once(cls, value: list[str]) -> list[str]:
        twice = _repeated(value)
        if twice:
            raise ValueError(f"lists bucket {', '.join(twice)} more than once")
        return value

    @field_validator("tags")
    @classmethod
    def _no_reserved_tags(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = [k for k in value if k.lower().startswith("aws:") or k in _PROGRAM_TAG_KEYS]
        if reserved:
            raise ValueError(
                f"tag keys {', '.join(reserved)} are reserved (aws: prefix, or set by the program)"
            )
        return value

    @field_validator("fleet")
    @classmethod
    def _unique_roles(cls, fleet: list[FleetGroup]) -> list[FleetGroup]:
        roles = [group.role for group in fleet]
        duplicates = _repeated(roles)
        if duplicates:
            raise ValueError(f"lists role {', '.join(duplicates)} more than once")
        short = [group.short_role for group in fleet]
        if len(set(short)) != len(short):
            raise ValueError("roles must differ after dropping 'Server' (used in Name tags)")
        return fleet

    @property
    def common_tags(self) -> dict[str, str]:
        """Tags every taggable resource carries in its own ``tags``."""
        return {**self.tags, "Environment": self.environment_tag, "Workload": self.workload}


# Tags the program sets itself (a stack tag of the same key would be silently overridden).
_PROGRAM_TAG_KEYS = {
    "Environment", "Workload", "InstanceRole", "Patch Group", "SSMManaged", "Name", "OS",
    "AmiSsmParameter", "Tier",
}

# Keys whose raw config value is JSON (lists and objects), and the shape a person should write.
_STRUCTURED_KEYS = {
    "endpoints": list, "fleet": list, "inventory": dict, "patching": dict, "tags": dict,
    "s3EndpointAllowedBuckets": list, "reporting": dict, "softwarePolicy": dict,
}
_EXPECTED_SHAPE = {
    "endpoints": "a list of service names like [ssm, ec2messages]",
    "fleet": "a list of groups like [{role: WebServer, count: 2}]",
    "inventory": "an object like {schedule: rate(30 minutes)}",
    "tags": "a map of tag keys to values like {Owner: platform-team}",
    "s3EndpointAllowedBuckets": "a list of bucket names like [app-data, reports.example.com]",
    "patching": "an object like {enabled: true, scanSchedule: rate(1 day)}",
    "reporting": "an object like {central: true, sourceAccounts: ['111122223333']}",
    "softwarePolicy": "an object like {rules: [{id: ssm-agent, kind: required, name: amazon-ssm-agent}]}",
}


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


def _describe_value(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def _structured_value(key: str, text: Any) -> tuple[Any, str | None]:
    """The parsed value of a structured key, or a message saying what shape was expected."""
    expected = _STRUCTURED_KEYS[key]
    try:
        parsed = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        parsed = text  # a plain string, e.g. `endpoints: ssm`
    if isinstance(parsed, expected):
        return parsed, None
    return None, f"expected {_EXPECTED_SHAPE[key]}, got {_describe_value(parsed)}"


def _provider_config_keys() -> frozenset[str]:
    """The aws provider's config keys, asked of pulumi-aws (its ``pulumi_aws.config`` module)."""
    import pulumi_aws.config as aws_config

    _ = aws_config.region  # the SDK loads the module lazily: touch it to get its real class
    names = [n for n, v in vars(type(aws_config)).items() if isinstance(v, property)]
    return frozenset(to_camel(n) for n in names)


def _close(word: str, choices: Any) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {match[0]!r}?" if match else ""


def _provider_problems(raw: dict[str, str]) -> list[str]:
    """``aws:`` keys the provider does not have (typos) and regions pulumi-aws does not know."""
    problems = []
    keys = _provider_config_keys()
    # The provider's own escape hatch for regions it does not list yet.
    skip_region_check = str(raw.get("aws:skipRegionValidation", "")).lower() == "true"
    for full_key, text in raw.items():
        if not full_key.startswith("aws:"):
            continue
        key = full_key.removeprefix("aws:")
        if key not in keys:
            suggestion = _close(key, keys).replace("'", "'aws:", 1)
            problems.append(f"{full_key}: is not a key of the aws provider{suggestion}")
        elif key == "region" and text not in KNOWN_REGIONS and not skip_region_check:
            problems.append(f"{full_key}: unknown region {text!r}{_close(str(text), KNOWN_REGIONS)} "
                            f"(regions pulumi-aws knows: pulumi_aws.Region)")
    return problems


def parse_stack_config(raw: dict[str, str]) -> StackConfig:
    """Validates the raw engine config map (``ssm-inventory:key`` -> string) into a StackConfig.

    Raises ConfigError with one message covering every problem found.
    """
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    problems: list[str] = _provider_problems(raw)
    known = {field.alias or name for name, field in StackConfig.model_fields.items()}
    for full_key, text in raw.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key.removeprefix(prefix)
        if key not in known:
            problems.append(f"{full_key}: is not a known key; allowed: {', '.join(sorted(known))}")
            continue
        if key not in _STRUCTURED_KEYS:
            values[key] = text
            continue
        parsed, problem = _structured_value(key, text)
        if problem:
            problems.append(f"{full_key}: {problem}")
            continue
        values[key] = parsed
    if problems:
        raise ConfigError("invalid stack config:\n  " + "\n  ".join(problems))
    try:
        config = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None
    problems = patching_problems(config) + software_policy_problems(config)
    if problems:
        raise ConfigError("invalid stack config:\n  " + "\n  ".join(problems))
    return config


def software_policy_problems(config: StackConfig) -> list[str]:
    """Rule ids used twice (each later rule named in full; an id is its compliance item's Id)."""
    if config.software_policy is None:
        return []
    rules = config.software_policy.rules
    return [
        f"{NAMESPACE}:softwarePolicy.rules[{index}].id: {rules[index].id!r} is already the id of "
        f"rules[{earlier}]; rule ids must be unique (each is the Id of the rule's compliance item)"
        for index, earlier in policy_rules.duplicate_ids(rule.id for rule in rules).items()
    ]


def patching_problems(config: StackConfig) -> list[str]:
    """What ``patching`` asks that the rest of the stack cannot give (keys named in full)."""
    patching = config.patching
    if not patching.enabled:
        return []
    problems = []
    present = [group for group in config.fleet if group.count]
    online = sorted({group.os for group in present if SUPPORTED_OS[group.os].updates_from_internet})
    if online and not config.nat_gateway:
        problems.append(
            f"{NAMESPACE}:natGateway: is false, but {NAMESPACE}:patching.enabled is true and the "
            f"fleet runs {', '.join(online)}, which updates from the internet (only Amazon "
            "Linux updates from S3 in the region); set natGateway: true, or patching.enabled: false"
        )
    window = patching.install_window
    if window.enabled:
        roles = {group.role for group in present}
        unknown = [role for role in window.roles if role not in roles]
        if unknown:
            problems.append(
                f"{NAMESPACE}:patching.installWindow.roles: {', '.join(unknown)} "
                f"{'is not a role' if len(unknown) == 1 else 'are not roles'} of the fleet "
                f"(roles with instances: {', '.join(sorted(roles)) or 'none'})"
            )
    alerts = patching.alerts
    if alerts.enabled and not present:
        # The compliance rule matches the fleet's instance ids; EventBridge refuses an empty list.
        problems.append(
            f"{NAMESPACE}:patching.alerts.enabled: the fleet has no instances to watch "
            "(every group has count 0); set alerts.enabled: false"
        )
    if alerts.enabled and not alerts.emails:
        problems.append(
            f"{NAMESPACE}:patching.alerts.emails: alerts are enabled but no address is listed; "
            "add at least one e-mail address (or set alerts.enabled: false)"
        )
    return problems


def read_engine_config() -> dict[str, str]:
    """The raw config map the engine gave this program (env bag first, explicit settings win)."""
    return {**get_config_env(), **CONFIG.get()}


def load_stack_config() -> StackConfig:
    """Reads and validates this stack's config; raises ConfigError before anything is built."""
    return parse_stack_config(read_engine_config())
