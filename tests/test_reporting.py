"""Central and sending reporting stacks under mocks: bucket policy per account, one sync per
region, the lifecycle that keeps current inventory, the Glue catalog with partition projection
and the Athena workgroup.

Sources: SSM user guide "Configuring resource data sync for Inventory" (bucket policy with
aws:SourceAccount / aws:SourceArn); Athena user guide "Partition projection with Amazon Athena"
(projection.* and storage.location.template table properties); lab facts §4.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.inventory_tables import INVENTORY_TABLES, PARTITION_KEYS
from components.named_queries import load_queries
from fleetctl.plan.mockrun import Recording, run_program

SOURCE = "111122223333"
SYNC = "aws:ssm/resourceDataSync:ResourceDataSync"
TABLE = "aws:glue/catalogTable:CatalogTable"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


@pytest.fixture(scope="module")
def central() -> Recording:
    return run_program("dev", overrides={"reporting": {
        "central": True, "sourceAccounts": [SOURCE], "syncRegions": ["us-east-1", "eu-west-1"],
        "regions": ["ap-southeast-2"],
    }})


@pytest.fixture(scope="module")
def sender() -> Recording:
    return run_program("dev", overrides={"reporting": {
        "destinationBucket": "central-inventory", "destinationRegion": "eu-central-1",
        "syncRegions": ["us-east-1", "us-west-2"],
    }})


def _policy(rec: Recording, name: str) -> dict[str, Any]:
    policy = rec.one("aws:s3/bucketPolicy:BucketPolicy", f"{name}-tls-only").inputs["policy"]
    return json.loads(policy)


def test_central_bucket_accepts_each_account_only_under_its_own_prefix(central: Recording) -> None:
    statements = {s["Sid"]: s for s in _policy(central, "reporting-bucket")["Statement"]}
    own, other = statements["SSMBucketDelivery"], statements[f"SSMBucketDelivery{SOURCE}"]
    for statement, account in ((own, "123456789012"), (other, SOURCE)):
        assert statement["Resource"].endswith(f"/inventory/*/accountid={account}/*")
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == account
        assert statement["Condition"]["ArnLike"]["aws:SourceArn"] == (
            f"arn:aws:ssm:*:{account}:resource-data-sync/*")


def test_one_sync_per_region_and_the_other_regions_through_their_own_provider(central: Recording) -> None:
    syncs = {s.name: s for s in central.by_type(SYNC)}
    assert set(syncs) == {"reporting-sync", "reporting-sync-eu-west-1"}
    assert syncs["reporting-sync"].provider is None  # the stack's region keeps its original URN
    assert "reporting-eu-west-1" in (syncs["reporting-sync-eu-west-1"].provider or "")
    bucket = central.one("aws:s3/bucket:Bucket", "reporting-bucket").outputs["bucket"]
    for sync in syncs.values():
        destination = sync.inputs["s3Destination"]
        assert destination["bucketName"] == bucket and destination["region"] == "us-east-1"
        assert destination["syncFormat"] == "JsonSerDe"


def test_the_sync_bucket_never_expires_current_objects(central: Recording, prod: Recording) -> None:
    """The sync rewrites each file in place and keeps a gone instance's last file: only old
    versions may expire (the log bucket keeps its expiry)."""
    for rec in (central, prod):
        [rule] = rec.one(LIFECYCLE, "reporting-bucket-lifecycle").inputs["rules"]
        assert "expiration" not in rule
        assert rule["noncurrentVersionExpiration"]["noncurrentDays"] > 0
    [results_rule] = central.one(LIFECYCLE, "reporting-catalog-results-lifecycle").inputs["rules"]
    assert results_rule["expiration"]["days"] == 30


def test_sender_syncs_into_the_central_bucket_and_owns_no_bucket(sender: Recording) -> None:
    syncs = {s.name: s for s in sender.by_type(SYNC)}
    assert set(syncs) == {"reporting-syncs-sync", "reporting-syncs-sync-us-west-2"}
    for sync in syncs.values():
        assert sync.inputs["s3Destination"]["bucketName"] == "central-inventory"
        assert sync.inputs["s3Destination"]["region"] == "eu-central-1"
    assert not [b for b in sender.by_type("aws:s3/bucket:Bucket") if "reporting" in b.name]
    assert not sender.by_type(TABLE)
    assert sender.outputs["resourceDataSyncName"] == "ssm-inventory-test"


def test_prod_keeps_its_original_sync_and_bucket(prod: Recording) -> None:
    """inventory.resourceDataSync: the same resources (URNs in tests/snapshots) plus the catalog."""
    [sync] = prod.by_type(SYNC)
    assert sync.urn.endswith("ssm-inventory:reporting:InventoryReporting$aws:ssm/resourceDataSync:"
                             "ResourceDataSync::reporting-sync")
    assert prod.outputs["reportWorkgroupName"] == "ssm-inventory-prod"


def test_every_inventory_type_has_a_projected_openx_table(central: Recording) -> None:
    tables = {t.inputs["name"]: t for t in central.by_type(TABLE)}
    assert set(tables) == {t.name for t in INVENTORY_TABLES}
    bucket = central.one("aws:s3/bucket:Bucket", "reporting-bucket").outputs["bucket"]
    for table in INVENTORY_TABLES:
        inputs = tables[table.name].inputs
        params = inputs["parameters"]
        assert params["projection.enabled"] == "true"
        assert params["projection.accountid.type"] == "enum"
        assert params["projection.accountid.values"].split(",") == ["123456789012", SOURCE]
        assert params["projection.region.values"].split(",") == ["ap-southeast-2", "eu-west-1", "us-east-1"]
        assert params["projection.resourcetype.values"] == "ManagedInstanceInventory"
        assert params["storage.location.template"] == (
            f"s3://{bucket}/inventory/{table.type_name}/accountid=${{accountid}}/region=${{region}}/"
            "resourcetype=${resourcetype}/")
        assert [k["name"] for k in inputs["partitionKeys"]] == list(PARTITION_KEYS)
        sd = inputs["storageDescriptor"]
        assert sd["serDeInfo"]["serializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
        columns = [c["name"] for c in sd["columns"]]
        assert not set(columns) & set(PARTITION_KEYS), table.type_name
        assert {"resourceid", "capturetime"} <= set(columns)


def test_instance_information_resource_type_is_mapped_off_the_partition_key(central: Recording) -> None:
    """AWS:InstanceInformation has its own ResourceType (EC2Instance, ManagedInstance): as a
    column it would collide with the resourcetype partition key (what breaks crawler tables)."""
    [table] = [t for t in central.by_type(TABLE) if t.inputs["name"] == "aws_instanceinformation"]
    sd = table.inputs["storageDescriptor"]
    assert "instanceresourcetype" in [c["name"] for c in sd["columns"]]
    assert sd["serDeInfo"]["parameters"]["mapping.instanceresourcetype"] == "resourcetype"


def test_workgroup_enforces_engine_3_encrypted_results_and_a_cutoff(central: Recording) -> None:
    [workgroup] = central.by_type("aws:athena/workgroup:Workgroup")
    config = workgroup.inputs["configuration"]
    assert config["enforceWorkgroupConfiguration"] is True
    assert config["engineVersion"]["selectedEngineVersion"] == "Athena engine version 3"
    assert config["bytesScannedCutoffPerQuery"] == 10 * 1024**3
    results = config["resultConfiguration"]
    assert results["encryptionConfiguration"]["encryptionOption"] == "SSE_S3"
    bucket = central.one("aws:s3/bucket:Bucket", "reporting-catalog-results").outputs["bucket"]
    assert results["outputLocation"] == f"s3://{bucket}/results/"


def test_one_named_query_per_sql_file_with_its_defaults(central: Recording) -> None:
    queries = {q.inputs["name"]: q for q in central.by_type("aws:athena/namedQuery:NamedQuery")}
    files = load_queries()
    assert set(queries) == set(files) and len(files) == 6
    for name, query in queries.items():
        assert query.inputs["query"] == files[name].render()
        assert "${" not in query.inputs["query"]
        assert query.inputs["workgroup"] == "ssm-inventory-test"
        assert query.inputs["database"] == "ssm_inventory"
