"""The stand-ins refuse GetInventory result types as the service does, so that no test can
pass on a call a real account refuses.

Sources: Systems Manager API Reference, ResultAttribute ("TypeName: Name of the inventory
item type. Valid value: AWS:InstanceInformation. Default Value: AWS:InstanceInformation",
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ResultAttribute.html);
the service's answer to other types, quoted in aws/aws-sdk#640 and
turbot/steampipe-plugin-aws#1972 ("InvalidResultAttributeException: Result type name
AWS:Application is not supported. Supported type names are: AWS:InstanceInformation,
AWS:PatchSummary. Default result type name is AWS:InstanceInformation.").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from ops_server import FakeAws
from ops_standin import FleetModel, FleetStandIn

from fleetctl.compliance import inventory

REFUSAL = (
    "Result type name AWS:Application is not supported. Supported type names are: "
    "AWS:InstanceInformation, AWS:PatchSummary. Default result type name is AWS:InstanceInformation."
)
MODEL = FleetModel.healthy(2)
IDS = [i.instance_id for i in MODEL.instances]
ID_FILTER = [{"Key": inventory.INSTANCE_ID_KEY, "Values": IDS, "Type": "Equal"}]


@contextmanager
def stand_in(kind: str, accept_any: bool = False) -> Iterator[Any]:
    if kind == "FakeAws":
        with FakeAws(accept_any_result_type=accept_any) as fake:
            fake.add("GetInventory", {"Entities": [{"Id": IDS[0], "Data": {}}]})
            yield fake
    else:
        standin = FleetStandIn(MODEL)
        standin.accept_any_result_type = accept_any
        with standin:
            yield standin


def client(url: str) -> Any:
    return boto3.client(
        "ssm", region_name="us-east-1", endpoint_url=url, aws_access_key_id="testing",
        aws_secret_access_key="testing", config=Config(retries={"mode": "standard", "max_attempts": 0}),
    )


@pytest.mark.parametrize("kind", ["FakeAws", "FleetStandIn"])
def test_application_result_type_is_refused_by_default(kind: str, aws_env: None) -> None:
    with stand_in(kind) as endpoint, pytest.raises(ClientError) as refused:
        client(endpoint.url).get_inventory(
            Filters=ID_FILTER, ResultAttributes=[{"TypeName": "AWS:Application"}]
        )
    assert inventory.refuses_result_type(refused.value)
    assert refused.value.response["Error"]["Message"] == REFUSAL


@pytest.mark.parametrize("kind", ["FakeAws", "FleetStandIn"])
@pytest.mark.parametrize("result_type", [None, "AWS:InstanceInformation", "AWS:PatchSummary"])
def test_the_types_the_service_names_are_answered(kind: str, result_type: str | None, aws_env: None) -> None:
    kwargs: dict[str, Any] = {"Filters": ID_FILTER}
    if result_type:
        kwargs["ResultAttributes"] = [{"TypeName": result_type}]
    with stand_in(kind) as endpoint:
        answer = client(endpoint.url).get_inventory(**kwargs)
    assert answer["Entities"]


@pytest.mark.parametrize("kind", ["FakeAws", "FleetStandIn"])
def test_opting_in_answers_application(kind: str, aws_env: None) -> None:
    with stand_in(kind, accept_any=True) as endpoint:
        answer = client(endpoint.url).get_inventory(
            Filters=ID_FILTER, ResultAttributes=[{"TypeName": "AWS:Application"}]
        )
    assert answer["Entities"]


def test_fleet_stand_in_narrows_nodes_by_another_types_attribute(aws_env: None) -> None:
    """A filter on AWS:Application.Name with the default result type keeps the nodes with a
    matching entry (user guide, "Querying an inventory collection by using filters")."""
    model = FleetModel.healthy(3)
    model.instances[1].applications = [{"Name": "nginx", "Version": "1.24.0"}]
    ids = [i.instance_id for i in model.instances]
    with FleetStandIn(model) as endpoint:
        found = inventory.get_inventory(
            client(endpoint.url), ids, None, [inventory.prefix_filter("AWS:Application", "Name", "ngi")]
        )
    assert sorted(found) == [ids[1]]
