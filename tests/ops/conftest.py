"""Fixtures for the fleet-check tests: fake credentials, a moto EC2 fleet, a stubbed SSM.

Helpers live in ``ops_*.py`` modules (importable by name); this file only holds fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from ops_fleet import REGION, Fleet

from fleetctl.compliance import inventory
from fleetctl.ops import aws


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials, a fixed region, no endpoint overrides, no IMDS lookups."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fleet(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    # Stubber answers in queue order: the per-node inventory reads run one at a time here.
    monkeypatch.setattr(inventory, "READ_WORKERS", 1)
    with mock_aws():
        f = Fleet()
        monkeypatch.setattr(aws, "make_clients", f.make_clients)
        with f.stub:
            yield f
