"""examples/consumer: a project that joins an ssm-inventory fleet through a StackReference.

Run under the project's mocks; the mock answers the stack reference the way the engine does
(a ``pulumi:pulumi:StackReference`` resource whose state holds ``outputs``), with the output
names of docs/outputs.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from fleetctl.plan.analyzer_client import check_recording, load_config_file, mandatory
from fleetctl.plan.mockrun import Recording, run_program
from fleetctl.plan.mocks import AwsMocks

CONSUMER = Path(__file__).resolve().parent.parent / "examples" / "consumer"
ROOT = Path(__file__).resolve().parent.parent
INFRA_OUTPUTS = {
    "vpcId": "vpc-0a1b2c3d4e5f60718",
    "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    "endpointSecurityGroupId": "sg-0e0e0e0e0e0e0e0e0",
    "instanceProfileName": "instance-role-profile-1234567",
    "workload": "Test",
    "environmentTag": "OELabIPM",
}


class StackReferenceMocks(AwsMocks):
    def __init__(self) -> None:
        super().__init__(region="us-east-1")
        self.referenced: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            self.referenced.append(args.inputs["name"])
            return args.inputs["name"], {
                "name": args.inputs["name"],
                "outputs": INFRA_OUTPUTS,
                "secretOutputNames": [],
            }
        return super().new_resource(args)


def consumer() -> tuple[Recording, StackReferenceMocks]:
    mocks = StackReferenceMocks()
    return run_program("dev", project_dir=CONSUMER, mocks=mocks), mocks


def test_instance_joins_the_fleet_network_with_the_association_tags() -> None:
    rec, mocks = consumer()
    assert mocks.referenced == ["organization/ssm-inventory/dev"]  # from the stack's config
    (instance,) = rec.by_type("aws:ec2/instance:Instance")
    inputs = instance.inputs
    assert inputs["subnetId"] == "subnet-0aaaaaaaaaaaaaaa1"
    assert inputs["iamInstanceProfile"] == "instance-role-profile-1234567"
    tags = inputs["tags"]
    assert (tags["Environment"], tags["Workload"]) == ("OELabIPM", "Test")  # the association's targets
    assert tags["Name"] == "Test-Consumer1" and tags["SSMManaged"] == "True"
    assert inputs["associatePublicIpAddress"] is False
    assert "keyName" not in inputs
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["rootBlockDevice"]["encrypted"] is True
    (group,) = rec.by_type("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert not group.inputs.get("ingress")
    (egress,) = group.inputs["egress"]
    assert egress["securityGroups"] == ["sg-0e0e0e0e0e0e0e0e0"] and egress["fromPort"] == 443


def test_consumer_passes_the_prod_policy_pack() -> None:
    """Prod config (everything mandatory). The instance profile belongs to the referenced
    stack, so instance-role-ssm-core cannot follow it to its role here: the consumer lists it
    in trustedInstanceProfiles (the pack's documented way; without that the policy says so)."""
    rec, _ = consumer()
    config = load_config_file(ROOT / "policy" / "config" / "prod.json")
    untrusted = [d.policy_name for d in mandatory(check_recording(rec, config))]
    assert untrusted == ["instance-role-ssm-core"]
    config["instance-role-ssm-core"] = {
        **config.get("instance-role-ssm-core", {}),
        "trustedInstanceProfiles": [INFRA_OUTPUTS["instanceProfileName"]],
    }
    diagnostics = check_recording(rec, config)
    assert mandatory(diagnostics) == [], [(d.policy_name, d.message) for d in diagnostics]
