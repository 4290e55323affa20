"""The Glue catalog and Athena workgroup over the central sync bucket.

No crawler and no MSCK REPAIR: each table projects its partitions (accountid and region from
config, resourcetype ManagedInstanceInventory) and says where they live with
``storage.location.template`` (Athena user guide, "Partition projection with Amazon Athena").
The workgroup enforces its settings (engine version 3, SSE-S3 results in an expiring bucket,
a bytes-scanned cutoff per query) and holds one named query per components/queries/*.sql.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.buckets import PrivateBucketArgs, private_bucket
from components.inventory_tables import (
    INVENTORY_TABLES,
    OPENX_SERDE,
    PARTITION_KEYS,
    InventoryTable,
    projection_parameters,
    serde_parameters,
)
from components.named_queries import load_queries

ENGINE_VERSION = "Athena engine version 3"
# Hive text input/output formats, as Athena's CREATE TABLE with the OpenX SerDe records them.
INPUT_FORMAT = "org.apache.hadoop.mapred.TextInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass
class ReportingCatalogArgs:
    bucket_name: pulumi.Input[str]
    prefix: str
    database: str
    workgroup: str
    accounts: Sequence[str]
    regions: Sequence[str]
    bytes_scanned_cutoff: int
    results_retention_days: int
    tags: dict[str, str]


def table_args(table: InventoryTable, database: pulumi.Input[str], bucket: pulumi.Output[str],
               prefix: str, accounts: Sequence[str], regions: Sequence[str]) -> aws.glue.CatalogTableArgs:
    glue = aws.glue
    return glue.CatalogTableArgs(
        name=table.name,
        database_name=database,
        table_type="EXTERNAL_TABLE",
        description=f"{table.type_name} from the Resource Data Sync",
        # Known in preview except the location template (it names the bucket), so policies
        # see the projection settings before the bucket exists.
        parameters={
            **projection_parameters(table, "{bucket}", prefix, list(accounts), list(regions)),
            "storage.location.template": bucket.apply(
                lambda b: projection_parameters(table, b, prefix, list(accounts), list(regions))[
                    "storage.location.template"]
            ),
        },
        partition_keys=[glue.CatalogTablePartitionKeyArgs(name=key, type="string") for key in PARTITION_KEYS],
        storage_descriptor=glue.CatalogTableStorageDescriptorArgs(
            location=bucket.apply(lambda b: table.location(b, prefix)),
            input_format=INPUT_FORMAT,
            output_format=OUTPUT_FORMAT,
            ser_de_info=glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                serialization_library=OPENX_SERDE, parameters=serde_parameters(table)
            ),
            columns=[glue.CatalogTableStorageDescriptorColumnArgs(name=column, type="string")
                     for column in table.columns],
        ),
    )


class ReportingCatalog(pulumi.ComponentResource):
    database_name: pulumi.Output[str]
    workgroup_name: pulumi.Output[str]
    results_bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReportingCatalogArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:reporting:ReportingCatalog", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            aws.glue.CatalogDatabaseArgs(
                name=args.database, description="Systems Manager inventory (Resource Data Sync)",
                tags=args.tags,
            ),
            child,
        )
        bucket = pulumi.Output.from_input(args.bucket_name)
        for table in INVENTORY_TABLES:
            aws.glue.CatalogTable(
                f"{name}-{table.name.replace('_', '-')}",
                table_args(table, database.name, bucket, args.prefix, args.accounts, args.regions),
                child,
            )
        results, ready = private_bucket(
            self, f"{name}-results",
            PrivateBucketArgs(tags=args.tags, retention_days=args.results_retention_days),
        )
        result_config = aws.athena.WorkgroupConfigurationResultConfigurationArgs(
            output_location=results.bucket.apply(lambda b: f"s3://{b}/results/"),
            encryption_configuration=(
                aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                    encryption_option="SSE_S3"
                )
            ),
        )
        workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            aws.athena.WorkgroupArgs(
                name=args.workgroup,
                description="Fleet-wide inventory reports (ssm-inventory)",
                # Saved query history goes with the workgroup on destroy.
                force_destroy=True,
                configuration=aws.athena.WorkgroupConfigurationArgs(
                    # Clients cannot override the results location, encryption or cutoff.
                    enforce_workgroup_configuration=True,
                    publish_cloudwatch_metrics_enabled=True,
                    bytes_scanned_cutoff_per_query=args.bytes_scanned_cutoff,
                    engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(
                        selected_engine_version=ENGINE_VERSION
                    ),
                    result_configuration=result_config,
                ),
                tags=args.tags,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        for query in load_queries().values():
            aws.athena.NamedQuery(
                f"{name}-{query.name.replace('_', '-')}",
                aws.athena.NamedQueryArgs(
                    name=query.name,
                    description=query.description[:1024],
                    database=database.name,
                    workgroup=workgroup.name,
                    query=query.render(),
                ),
                child,
            )
        self.database_name = database.name
        self.workgroup_name = workgroup.name
        self.results_bucket_name = results.bucket
        self.register_outputs({
            "databaseName": self.database_name,
            "workgroupName": self.workgroup_name,
            "resultsBucketName": self.results_bucket_name,
        })
