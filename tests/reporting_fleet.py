"""A generated fleet in the Resource Data Sync layout, and what each report must return for it.

``<root>/<type>/accountid=<id>/region=<r>/resourcetype=ManagedInstanceInventory/<id>.json``,
one JSON object per line with the schema's keys (components/inventory_tables.py) plus the
sync's resourceId, captureTime and schemaVersion (lab facts §4). Used by the tests and by
benchmarks/report_bench.py.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

RESOURCE_TYPE = "ManagedInstanceInventory"
AGENT_VERSIONS = ("3.2.1705.0", "3.3.40.0", "3.3.987.0", "3.10.2.0")
PLATFORMS = (("Linux", "Amazon Linux"), ("Linux", "Red Hat Enterprise Linux"),
             ("Windows", "Microsoft Windows Server 2022 Datacenter"))
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


@dataclass
class Instance:
    account: str
    region: str
    instance_id: str
    workload: str | None
    platform_type: str
    platform_name: str
    agent_version: str
    capture_time: datetime
    status: str  # InstanceStatus: Active or Terminated (the sync keeps a gone instance's file)
    applications: list[tuple[str, str]] = field(default_factory=list)
    missing_patches: list[tuple[str, str]] = field(default_factory=list)  # (KB id, severity)
    noncompliant: list[tuple[str, str]] = field(default_factory=list)  # (type, id)


def make_fleet(accounts: list[str], regions: list[str], per_region: int, packages: int = 5,
               seed: int = 7, now: datetime | None = None) -> list[Instance]:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    fleet = []
    for account in accounts:
        for region in regions:
            for n in range(per_region):
                platform_type, platform_name = PLATFORMS[n % len(PLATFORMS)]
                instance = Instance(
                    account=account, region=region,
                    instance_id=f"i-{account[-4:]}{region.replace('-', '')[:6]}{n:07d}",
                    workload=(None if n % 7 == 6 else ("Prod" if n % 2 else "Test")),
                    platform_type=platform_type, platform_name=platform_name,
                    agent_version=AGENT_VERSIONS[n % len(AGENT_VERSIONS)],
                    capture_time=now - timedelta(hours=(60 if n % 5 == 4 else 1)),
                    status="Terminated" if n % 11 == 10 else "Active",
                )
                instance.applications = [
                    (f"pkg{p:03d}", f"1.{rng.randrange(3)}.0") for p in range(packages)
                ]
                instance.missing_patches = [
                    (f"KB{n}{k}", SEVERITIES[(n + k) % 4]) for k in range(n % 3)
                ]
                if n % 4 == 1:
                    instance.noncompliant.append(("Custom:SoftwarePolicy", "nginx"))
                if n % 6 == 2:
                    instance.noncompliant.append(("Association", "InventoryAllInstances"))
                fleet.append(instance)
    return fleet


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(instance: Instance) -> dict[str, list[dict[str, str]]]:
    common = {"resourceId": instance.instance_id, "captureTime": _iso(instance.capture_time),
              "schemaVersion": "1.0"}
    patch_items = [
        {"ComplianceType": "Patch", "Id": kb, "Title": f"Update {kb}", "Status": "NON_COMPLIANT",
         "Severity": severity, "PatchState": "Missing", "PatchSeverity": "Important",
         "ExecutionTime": _iso(instance.capture_time), **common}
        for kb, severity in instance.missing_patches
    ]
    installed = [{"ComplianceType": "Patch", "Id": "KB0", "Title": "Installed", "Status": "COMPLIANT",
                  "Severity": "LOW", "PatchState": "Installed", **common}]
    other = [{"ComplianceType": kind, "Id": item, "Title": item, "Status": "NON_COMPLIANT",
              "Severity": "HIGH", "ExecutionTime": _iso(instance.capture_time), **common}
             for kind, item in instance.noncompliant]
    return {
        "AWS:InstanceInformation": [{
            "AgentType": "amazon-ssm-agent", "AgentVersion": instance.agent_version,
            "ComputerName": f"{instance.instance_id}.internal", "InstanceId": instance.instance_id,
            "IpAddress": "10.0.0.10", "PlatformName": instance.platform_name,
            "PlatformType": instance.platform_type, "PlatformVersion": "1",
            # Its own ResourceType, next to the resourcetype partition: the clash to survive.
            "ResourceType": "EC2Instance", "InstanceStatus": instance.status, **common,
        }],
        "AWS:Application": [{"Name": name, "Version": version, "Publisher": "vendor",
                             "ApplicationType": "System", "Architecture": "x86_64", **common}
                            for name, version in instance.applications],
        "AWS:Tag": ([{"Key": "Workload", "Value": instance.workload, **common}]
                    if instance.workload else []) + [{"Key": "Name", "Value": "x", **common}],
        "AWS:ComplianceItem": patch_items + installed + other,
    }


def write_sync_tree(root: Path, fleet: list[Instance]) -> None:
    for instance in fleet:
        for type_name, records in _records(instance).items():
            if not records:
                continue
            directory = (root / type_name / f"accountid={instance.account}" /
                         f"region={instance.region}" / f"resourcetype={RESOURCE_TYPE}")
            directory.mkdir(parents=True, exist_ok=True)
            text = "".join(json.dumps(record) + "\n" for record in records)
            (directory / f"{instance.instance_id}.json").write_text(text)
