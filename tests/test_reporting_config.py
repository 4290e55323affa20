"""Config `reporting`: central and sending stacks; what the sync service rejects fails early.

Limits: lab facts §4 (SSM user guide, "Configuring resource data sync for Inventory": one sync
per account and region, at most 5 per account); Athena API reference, WorkGroupConfiguration
(BytesScannedCutoffPerQuery minimum 10000000).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config
from fleetctl.plan.mockrun import partial_recording, run_program

KEY = "ssm-inventory:reporting"
DEST = {"destinationBucket": "central-inventory", "destinationRegion": "us-east-1"}

BAD = [
    pytest.param({"reporting": {"central": True, "syncRegions": ["us-east-1", "us-east-1"]}},
                 f"{KEY}.syncRegions", "one Resource Data Sync per account and region", id="same-region"),
    pytest.param({"reporting": {"central": True, "syncRegions": [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2"]}},
                 f"{KEY}.syncRegions", "at most 5 Resource Data Syncs", id="six-syncs"),
    pytest.param({"reporting": {"central": True, "syncRegions": ["us-east-9"]}},
                 f"{KEY}.syncRegions[0]", "unknown region 'us-east-9'", id="unknown-region"),
    pytest.param({"reporting": {"sourceAccounts": ["111122223333"]}},
                 KEY, "sourceAccounts needs central: true", id="sources-without-central"),
    pytest.param({"reporting": {"central": True, "sourceAccounts": ["1234"]}},
                 f"{KEY}.sourceAccounts[0]", "12-digit AWS account ID", id="bad-account"),
    pytest.param({"reporting": {"central": True, **DEST}},
                 KEY, "a central stack (central: true) syncs into its own bucket", id="central-and-dest"),
    pytest.param({"reporting": {"destinationBucket": "central-inventory"}},
                 KEY, "destinationBucket and destinationRegion go together", id="dest-without-region"),
    pytest.param({"reporting": {"destinationBucket": "Central_Bucket", "destinationRegion": "us-east-1"}},
                 f"{KEY}.destinationBucket", "not an S3 bucket name", id="bad-bucket"),
    pytest.param({"reporting": {"central": True, "bytesScannedCutoff": 1000}},
                 f"{KEY}.bytesScannedCutoff", "10000000", id="cutoff-below-athena-minimum"),
    pytest.param({"reporting": {"central": True, "database": "Inventory-DB"}},
                 f"{KEY}.database", "lowercase letters", id="bad-database"),
    pytest.param({"reporting": {"syncRegions": ["us-east-1"]}},
                 KEY, "syncRegions needs central: true or a destinationBucket", id="sync-nowhere"),
    pytest.param({"reporting": {"centrl": True}}, f"{KEY}.centrl", "is not a known key", id="typo"),
    pytest.param({"reporting": "yes"}, KEY, "expected an object like {central: true", id="not-an-object"),
    pytest.param({"inventory": {"resourceDataSync": True}, "reporting": DEST},
                 "ssm-inventory", "second sync", id="legacy-sync-and-destination"),
]


@pytest.mark.parametrize(("overrides", "key", "fragment"), BAD)
def test_bad_reporting_config_fails_before_anything_is_registered(
    overrides: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides=overrides)
    message = str(caught.value)
    assert f"{key}:" in message
    assert fragment in message
    assert "should match pattern" not in message
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def test_sync_regions_default_to_the_stack_region_only_when_sending() -> None:
    quiet = parse_stack_config({"ssm-inventory:workload": "Test"})
    assert quiet.reporting.syncs("eu-west-1") == [] and not quiet.reporting_central
    sender = parse_stack_config({"ssm-inventory:workload": "Test", "ssm-inventory:reporting": DEST})
    assert sender.reporting.syncs("eu-west-1") == ["eu-west-1"]
    legacy = parse_stack_config({"ssm-inventory:workload": "Prod",
                                 "ssm-inventory:inventory": {"resourceDataSync": True}})
    assert legacy.reporting_central  # the original key still makes the central bucket
