"""Answers of the local SSM endpoint (tests/ops/ops_server.py) for the software policy, in
the JSON protocol's shapes (botocore's SSM model): managed nodes with a platform,
``AWS:Application`` inventory entities, compliance summaries."""

from __future__ import annotations

from typing import Any

CAPTURE_TIME = "2026-11-25T23:40:00Z"
TAGS = {"Environment": "OELabIPM", "Workload": "Test"}
TAG_FILTERS = [
    {"Key": "tag:Environment", "Values": ["OELabIPM"]},
    {"Key": "tag:Workload", "Values": ["Test"]},
]


def iid(n: int) -> str:
    return f"i-{n:017x}"


def node(instance_id: str, platform: str = "Linux", name: str = "Amazon Linux") -> dict[str, Any]:
    return {
        "InstanceId": instance_id,
        "PingStatus": "Online",
        "PlatformType": platform,
        "PlatformName": name,
        "ResourceType": "EC2Instance",
    }


def app(name: str, version: str, release: str | None = None, epoch: str | None = None) -> dict[str, str]:
    entry = {"Name": name, "Version": version, "PackageId": f"{name}-{version}"}
    if release is not None:
        entry["Release"] = release
    if epoch is not None:
        entry["Epoch"] = epoch
    return entry


def entity(instance_id: str, apps: list[dict[str, str]] | None) -> dict[str, Any]:
    """A GetInventory entity; ``apps`` None: the node has no AWS:Application data."""
    data: dict[str, Any] = {}
    if apps is not None:
        data["AWS:Application"] = {
            "TypeName": "AWS:Application",
            "SchemaVersion": "1.1",
            "CaptureTime": CAPTURE_TIME,
            "Content": apps,
        }
    return {"Id": instance_id, "Data": data}


def summary(
    instance_id: str, compliance_type: str, status: str, non_compliant: dict[str, int] | None = None
) -> dict[str, Any]:
    counts = non_compliant or {}
    return {
        "ComplianceType": compliance_type,
        "ResourceType": "ManagedInstance",
        "ResourceId": instance_id,
        "Status": status,
        "OverallSeverity": "UNSPECIFIED",
        "ExecutionSummary": {"ExecutionTime": 1764114000.0},
        "CompliantSummary": {"CompliantCount": 1},
        "NonCompliantSummary": {
            "NonCompliantCount": sum(counts.values()),
            "SeveritySummary": counts,
        },
    }


def fake_credentials(monkeypatch: Any, tmp_path: Any) -> None:
    """Fake credentials and a fixed region for in-process clients; no host AWS settings."""
    import os

    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def ssm_client(url: str) -> Any:
    """An SSM client as the software policy makes it (standard retries, timeouts), at ``url``."""
    import boto3

    from fleetctl.compliance.clients import bound_timeouts, client_config

    return bound_timeouts(boto3.client("ssm", endpoint_url=url, config=client_config()))
