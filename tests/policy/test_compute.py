"""Instance policies: profile, IMDSv2 (+ remediation), EBS, public IP, key pair, OS image."""

from __future__ import annotations

import copy
from typing import Any

from pulumi_policy import EnforcementLevel
from ssm_policies.compute import (
    ami_identifiable,
    ebs_encrypted,
    imdsv2,
    instance_profile,
    no_key_pair,
    no_public_ip,
    supported_ami,
)

from tests.policy.helpers import UNKNOWN, UNKNOWN_OBJECT, resource_args, violations

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

GOOD: dict[str, Any] = {
    "ami": "ami-0123456789abcdef0",
    "instanceType": "t3.micro",
    "iamInstanceProfile": "managed-instances-profile",
    "subnetId": "subnet-1",
    "associatePublicIpAddress": False,
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                        "httpPutResponseHopLimit": 1},
    "rootBlockDevice": {"encrypted": True, "volumeType": "gp3"},
    "tags": {"AmiSsmParameter": AL2023},
}


def with_(**changes: Any) -> dict[str, Any]:
    props = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def test_compliant_instance_passes_every_instance_policy() -> None:
    for policy in (instance_profile, imdsv2, ebs_encrypted, no_public_ip, no_key_pair,
                   supported_ami, ami_identifiable):
        assert violations(policy, INSTANCE, GOOD) == [], policy.name


# -- instance-has-profile ---------------------------------------------------------------------

def test_missing_profile() -> None:
    assert violations(instance_profile, INSTANCE, with_(iamInstanceProfile=None))
    assert violations(instance_profile, INSTANCE, with_(iamInstanceProfile=""))


def test_unknown_profile_passes_and_launch_template_defers() -> None:
    assert violations(instance_profile, INSTANCE, with_(iamInstanceProfile=UNKNOWN)) == []
    lt = with_(iamInstanceProfile=None, launchTemplate={"id": "lt-1"})
    assert violations(instance_profile, INSTANCE, lt) == []


# -- IMDSv2 -----------------------------------------------------------------------------------

def test_imdsv1_is_reported() -> None:
    options = {"httpTokens": "optional", "httpPutResponseHopLimit": 1}
    [message] = violations(imdsv2, INSTANCE, with_(metadataOptions=options))
    assert "httpTokens is optional" in message


def test_unset_metadata_options_are_reported() -> None:
    [message] = violations(imdsv2, INSTANCE, with_(metadataOptions=None))
    assert "httpTokens is unset" in message and "HopLimit is unset" in message


def test_hop_limit_above_maximum() -> None:
    options = {"httpTokens": "required", "httpPutResponseHopLimit": 2}
    [message] = violations(imdsv2, INSTANCE, with_(metadataOptions=options))
    assert "is 2" in message
    assert violations(imdsv2, INSTANCE, with_(metadataOptions=options), {"maxHopLimit": 2}) == []


def test_disabled_metadata_endpoint_breaks_the_agent() -> None:
    options = {"httpEndpoint": "disabled", "httpTokens": "required",
               "httpPutResponseHopLimit": 1}
    [message] = violations(imdsv2, INSTANCE, with_(metadataOptions=options))
    assert "httpEndpoint is disabled" in message


def test_imds_unknowns_are_not_judged() -> None:
    assert violations(imdsv2, INSTANCE, with_(metadataOptions=UNKNOWN_OBJECT)) == []
    options = {"httpTokens": UNKNOWN, "httpPutResponseHopLimit": 1}
    assert violations(imdsv2, INSTANCE, with_(metadataOptions=options)) == []


def test_launch_templates_are_checked_too() -> None:
    assert violations(imdsv2, LAUNCH_TEMPLATE, {"metadataOptions": {"httpTokens": "optional"}})
    good = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}}
    assert violations(imdsv2, LAUNCH_TEMPLATE, good) == []
    # An instance from a template without its own options defers to the template.
    assert violations(imdsv2, INSTANCE, with_(metadataOptions=None,
                                              launchTemplate={"id": "lt-1"})) == []


def test_other_types_are_ignored() -> None:
    assert violations(imdsv2, "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}) == []


def test_remediation_sets_required_tokens_and_hop_limit() -> None:
    props = with_(metadataOptions={"httpTokens": "optional", "httpPutResponseHopLimit": 3,
                                   "httpEndpoint": "enabled"})
    args = resource_args(INSTANCE, props)
    fixed = imdsv2.remediate(args)
    assert fixed is not None
    options = fixed["metadataOptions"]
    assert options["httpTokens"] == "required"
    assert options["httpPutResponseHopLimit"] == 1
    assert options["httpEndpoint"] == "enabled"  # untouched
    assert fixed["ami"] == GOOD["ami"]  # the rest of the inputs survive
    # and the remediated props pass the validation
    assert violations(imdsv2, INSTANCE, {k: fixed[k] for k in fixed}) == []


def test_remediation_adds_missing_options_and_leaves_compliant_alone() -> None:
    fixed = imdsv2.remediate(resource_args(INSTANCE, with_(metadataOptions=None)))
    assert fixed is not None
    assert fixed["metadataOptions"]["httpTokens"] == "required"
    assert imdsv2.remediate(resource_args(INSTANCE, GOOD)) is None
    assert imdsv2.remediate(resource_args(INSTANCE, with_(metadataOptions=UNKNOWN_OBJECT))) \
        is None


# -- EBS --------------------------------------------------------------------------------------

def test_unencrypted_root_volume() -> None:
    [message] = violations(ebs_encrypted, INSTANCE,
                           with_(rootBlockDevice={"encrypted": False}))
    assert "root volume" in message
    [message] = violations(ebs_encrypted, INSTANCE, with_(rootBlockDevice=None))
    assert "unset" in message


def test_unencrypted_ebs_block_device() -> None:
    devices = [{"deviceName": "/dev/sdf", "encrypted": True},
               {"deviceName": "/dev/sdg"}]
    [message] = violations(ebs_encrypted, INSTANCE, with_(ebsBlockDevices=devices))
    assert "ebsBlockDevices[1]" in message


def test_encryption_by_default_accepts_unset_but_not_false() -> None:
    config = {"encryptionByDefault": True}
    assert violations(ebs_encrypted, INSTANCE, with_(rootBlockDevice=None), config) == []
    assert violations(ebs_encrypted, INSTANCE, with_(rootBlockDevice={"encrypted": False}),
                      config)


def test_volumes_and_launch_templates() -> None:
    assert violations(ebs_encrypted, "aws:ebs/volume:Volume", {"size": 8})
    assert violations(ebs_encrypted, "aws:ebs/volume:Volume", {"encrypted": True}) == []
    lt = {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]}
    assert violations(ebs_encrypted, LAUNCH_TEMPLATE, lt)
    lt_ok = {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]}
    assert violations(ebs_encrypted, LAUNCH_TEMPLATE, lt_ok) == []


def test_unknown_encryption_flag_is_not_judged() -> None:
    assert violations(ebs_encrypted, INSTANCE, with_(rootBlockDevice={"encrypted": UNKNOWN}))\
        == []


# -- public IP / key pair -----------------------------------------------------------------------

def test_public_ip() -> None:
    assert violations(no_public_ip, INSTANCE, with_(associatePublicIpAddress=True))
    assert violations(no_public_ip, INSTANCE, with_(associatePublicIpAddress=None)) == []
    assert violations(no_public_ip, INSTANCE, with_(associatePublicIpAddress=UNKNOWN)) == []
    lt = {"networkInterfaces": [{"associatePublicIpAddress": "true"}]}
    assert violations(no_public_ip, LAUNCH_TEMPLATE, lt)


def test_key_pair() -> None:
    [message] = violations(no_key_pair, INSTANCE, with_(keyName="lab-key"))
    assert "'lab-key'" in message
    assert violations(no_key_pair, INSTANCE, with_(keyName=UNKNOWN))
    assert violations(no_key_pair, INSTANCE, with_(keyName="k"), {"allowKeyPair": True}) == []


# -- supported OS -----------------------------------------------------------------------------

def test_ami_from_allowed_parameter_tag() -> None:
    ubuntu = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
    assert violations(supported_ami, INSTANCE, with_(tags={"AmiSsmParameter": ubuntu})) == []
    windows = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"
    assert violations(supported_ami, INSTANCE, with_(tags={"AmiSsmParameter": windows})) == []


def test_ami_from_other_parameter_is_reported() -> None:
    other = "/aws/service/debian/release/12/latest/amd64"
    [message] = violations(supported_ami, INSTANCE, with_(tags={"AmiSsmParameter": other}))
    assert other in message


def test_resolve_ssm_ami_reference() -> None:
    assert violations(supported_ami, INSTANCE,
                      with_(ami=f"resolve:ssm:{AL2023}", tags={})) == []
    assert violations(supported_ami, INSTANCE,
                      with_(ami=f"resolve:ssm:{AL2023}:12", tags={})) == []
    assert violations(supported_ami, INSTANCE,
                      with_(ami="resolve:ssm:/my/own/ami", tags={}))


def test_ami_of_unknown_origin_is_only_advised() -> None:
    """`aws.ec2.get_ami(...)` (the common Pulumi pattern) gives a bare id: not known to be
    unsupported, so supported-os-ami (mandatory in prod) lets it pass and the separate,
    advisory ami-os-identifiable says the OS cannot be told."""
    assert violations(supported_ami, INSTANCE, with_(tags={})) == []
    [message] = violations(ami_identifiable, INSTANCE, with_(tags={}))
    assert "Cannot tell" in message and GOOD["ami"] in message
    config = {"allowedAmiIds": [GOOD["ami"]]}
    assert violations(ami_identifiable, INSTANCE, with_(tags={}), config) == []
    assert ami_identifiable.enforcement_level == EnforcementLevel.ADVISORY
    assert supported_ami.enforcement_level == EnforcementLevel.MANDATORY


def test_identifiable_ami_sources_pass() -> None:
    assert violations(ami_identifiable, INSTANCE, with_()) == []  # AmiSsmParameter tag
    assert violations(ami_identifiable, INSTANCE, with_(ami=f"resolve:ssm:{AL2023}", tags={})) == []
    other = "/aws/service/debian/release/12/latest/amd64"
    # Known but unsupported: supported-os-ami's business, not this policy's.
    assert violations(ami_identifiable, INSTANCE, with_(tags={"AmiSsmParameter": other})) == []
    assert violations(ami_identifiable, INSTANCE, with_(ami=UNKNOWN, tags={})) == []


def test_remediation_recommends_the_invoke_not_resolve_ssm() -> None:
    """terraform-provider-aws #43364 / #22912: `resolve:ssm:` on an instance replaces it on
    every update and fails with root block devices."""
    for policy in (supported_ami, ami_identifiable):
        steps = policy.remediation_steps
        assert "aws.ssm.get_parameter(name=" in steps and "ignore_changes=['ami']" in steps
        assert "#43364" in steps and "#22912" in steps
        assert "use `ami='resolve:ssm:" not in steps


def test_ami_source_tag_name_is_configurable() -> None:
    config = {"amiSourceTag": "ImageSource"}
    assert violations(supported_ami, INSTANCE, with_(tags={"ImageSource": AL2023}), config) \
        == []


def test_unknown_ami_is_not_judged() -> None:
    assert violations(supported_ami, INSTANCE, with_(ami=UNKNOWN, tags={})) == []
    assert violations(supported_ami, INSTANCE,
                      with_(tags={"AmiSsmParameter": UNKNOWN})) == []


# -- launch templates (what an Auto Scaling group launches) -------------------------------------

GOOD_TEMPLATE: dict[str, Any] = {
    "imageId": "ami-0123456789abcdef0",
    "instanceType": "t3.micro",
    "iamInstanceProfile": {"name": "managed-instances-profile"},
    "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required",
                        "httpPutResponseHopLimit": 1},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda",
                             "ebs": {"encrypted": "true", "volumeType": "gp3"}}],
    "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": "false",
                           "securityGroups": ["sg-1"]}],
    "tagSpecifications": [{"resourceType": "instance", "tags": {"AmiSsmParameter": AL2023}},
                          {"resourceType": "volume", "tags": {"Workload": "Test"}}],
}


def template(**changes: Any) -> dict[str, Any]:
    props = copy.deepcopy(GOOD_TEMPLATE)
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return props


def test_compliant_launch_template_passes_every_instance_policy() -> None:
    for policy in (instance_profile, imdsv2, ebs_encrypted, no_public_ip, no_key_pair,
                   supported_ami, ami_identifiable):
        assert violations(policy, LAUNCH_TEMPLATE, GOOD_TEMPLATE) == [], policy.name


def test_launch_template_without_profile() -> None:
    [message] = violations(instance_profile, LAUNCH_TEMPLATE, template(iamInstanceProfile=None))
    assert "launch template has no IAM instance profile" in message
    assert violations(instance_profile, LAUNCH_TEMPLATE,
                      template(iamInstanceProfile={"name": ""}))
    by_arn = template(iamInstanceProfile={"arn": "arn:aws:iam::1:instance-profile/p"})
    assert violations(instance_profile, LAUNCH_TEMPLATE, by_arn) == []
    assert violations(instance_profile, LAUNCH_TEMPLATE,
                      template(iamInstanceProfile={"name": UNKNOWN})) == []


def test_launch_template_settings_each_reported() -> None:
    assert violations(imdsv2, LAUNCH_TEMPLATE, template(metadataOptions={"httpTokens": "optional"}))
    assert violations(ebs_encrypted, LAUNCH_TEMPLATE, template(
        blockDeviceMappings=[{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]))
    assert violations(no_public_ip, LAUNCH_TEMPLATE, template(
        networkInterfaces=[{"deviceIndex": 0, "associatePublicIpAddress": "true"}]))
    assert violations(no_key_pair, LAUNCH_TEMPLATE, template(keyName="lab-key"))


def test_launch_template_image_source_comes_from_its_instance_tags() -> None:
    other = "/aws/service/debian/release/12/latest/amd64"
    foreign = template(tagSpecifications=[
        {"resourceType": "instance", "tags": {"AmiSsmParameter": other}}])
    [message] = violations(supported_ami, LAUNCH_TEMPLATE, foreign)
    assert other in message
    # The template's own tags, or a volume's, say nothing about the instances' image.
    volume_only = template(tags={"AmiSsmParameter": AL2023}, tagSpecifications=[
        {"resourceType": "volume", "tags": {"AmiSsmParameter": AL2023}}])
    assert violations(supported_ami, LAUNCH_TEMPLATE, volume_only) == []
    [message] = violations(ami_identifiable, LAUNCH_TEMPLATE, volume_only)
    assert "launch template tags no instance with 'AmiSsmParameter'" in message
    unknown = template(tagSpecifications=UNKNOWN)
    assert violations(ami_identifiable, LAUNCH_TEMPLATE, unknown) == []
    assert violations(supported_ami, LAUNCH_TEMPLATE,
                      template(imageId=f"resolve:ssm:{other}", tagSpecifications=[]))
    # No image in the template: whoever launches from it chooses (and is judged there).
    assert violations(ami_identifiable, LAUNCH_TEMPLATE, template(imageId=None)) == []
