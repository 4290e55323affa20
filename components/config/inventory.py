"""``inventory``: the State Manager association running ``AWS-GatherSoftwareInventory`` (its
name, schedule and document parameters), execution logs and the Resource Data Sync switch.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from components.config._base import _Model
from components.schedule import validate_schedule

# An AWS-GatherSoftwareInventory switch (every one defaults to Enabled in the document).
Toggle = Literal["Enabled", "Disabled"]

ASSOCIATION_NAME_PATTERN = r"^[a-zA-Z0-9_\-.]{3,128}$"


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
