"""Typed, validated stack configuration (namespace ``ssm-inventory:``).

Everything the program builds is decided here first: a bad value stops the run with one
message naming the key and what is allowed, before any resource is registered.

One module per concern; this package re-exports every public name so that importers keep
writing ``from components.config import ...``:

- ``_base``: the pydantic base model, ``ConfigError``, ``NAMESPACE`` and message helpers
- ``_types``: AWS value types several sections share (tags, bucket names, regions)
- ``fleet``, ``inventory``, ``patching``, ``reporting``, ``software_policy``: one section each
- ``stack``: ``StackConfig``, the top-level keys and the sections together
- ``errors``: a pydantic ValidationError as the one message a person reads
- ``provider``: checks of the ``aws:`` provider keys
- ``loading``: raw engine config -> StackConfig (``parse_stack_config``, ``load_stack_config``)

A name is looked up in the module that defines it: to replace one in a test, patch it there
(e.g. ``components.config.loading.read_engine_config``), not on this package.
"""

from components.config._base import NAMESPACE, ConfigError
from components.config._types import (
    KNOWN_REGIONS,
    TAG_CHARACTERS,
    TAG_KEY,
    TAG_KEY_PATTERN,
    TAG_VALUE,
    TAG_VALUE_PATTERN,
    BucketName,
    RegionName,
)
from components.config.fleet import ASG_SIZE_MAX, DEFAULT_OS, KNOWN_INSTANCE_TYPES, FleetGroup
from components.config.inventory import (
    ASSOCIATION_NAME_PATTERN,
    InventoryConfig,
    InventoryParameters,
    Toggle,
)
from components.config.loading import load_stack_config, parse_stack_config, read_engine_config
from components.config.patching import (
    MAX_CONCURRENCY,
    MAX_ERRORS,
    ROLE,
    AlertsConfig,
    InstallWindowConfig,
    PatchingConfig,
    patching_problems,
)
from components.config.reporting import (
    MAX_SYNCS_PER_ACCOUNT,
    MIN_BYTES_SCANNED_CUTOFF,
    AccountId,
    ReportingConfig,
)
from components.config.software_policy import (
    SoftwarePolicyConfig,
    SoftwareRule,
    software_policy_problems,
)
from components.config.stack import (
    DEFAULT_ENDPOINTS,
    KNOWN_ENDPOINT_SERVICES,
    MIN_VPC_PREFIX_MAX,
    SYNC_NAME_MAX,
    SYNC_NAME_PREFIX,
    WORKLOAD_MAX,
    WORKLOAD_PATTERN,
    StackConfig,
)

__all__ = [
    "ASG_SIZE_MAX",
    "ASSOCIATION_NAME_PATTERN",
    "DEFAULT_ENDPOINTS",
    "DEFAULT_OS",
    "KNOWN_ENDPOINT_SERVICES",
    "KNOWN_INSTANCE_TYPES",
    "KNOWN_REGIONS",
    "MAX_CONCURRENCY",
    "MAX_ERRORS",
    "MAX_SYNCS_PER_ACCOUNT",
    "MIN_BYTES_SCANNED_CUTOFF",
    "MIN_VPC_PREFIX_MAX",
    "NAMESPACE",
    "ROLE",
    "SYNC_NAME_MAX",
    "SYNC_NAME_PREFIX",
    "TAG_CHARACTERS",
    "TAG_KEY",
    "TAG_KEY_PATTERN",
    "TAG_VALUE",
    "TAG_VALUE_PATTERN",
    "WORKLOAD_MAX",
    "WORKLOAD_PATTERN",
    "AccountId",
    "AlertsConfig",
    "BucketName",
    "ConfigError",
    "FleetGroup",
    "InstallWindowConfig",
    "InventoryConfig",
    "InventoryParameters",
    "PatchingConfig",
    "RegionName",
    "ReportingConfig",
    "SoftwarePolicyConfig",
    "SoftwareRule",
    "StackConfig",
    "Toggle",
    "load_stack_config",
    "parse_stack_config",
    "patching_problems",
    "read_engine_config",
    "software_policy_problems",
]
