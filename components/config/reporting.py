"""``reporting``: fleet-wide inventory reporting (docs/reporting.md), a central stack owning
the sync bucket, Glue catalog and Athena workgroup, or a sending stack syncing into one,
within Systems Manager's Resource Data Sync limits.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from components.config._base import _Model, _repeated
from components.config._types import BucketName, RegionName

# Resource Data Sync limits (lab facts §4; SSM user guide "Walkthrough: Use resource data sync
# to aggregate inventory data"): at most 5 syncs per account, one per account and region.
MAX_SYNCS_PER_ACCOUNT = 5
# Athena API reference, WorkGroupConfiguration.BytesScannedCutoffPerQuery: minimum 10000000.
MIN_BYTES_SCANNED_CUTOFF = 10_000_000

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
