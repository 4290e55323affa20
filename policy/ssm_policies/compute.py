"""EC2 instance policies: profile present, IMDSv2, encrypted volumes, no public IP, no key
pair, supported OS image (and an image whose OS can be told). Launch templates get the same
IMDS/volume/IP/key checks, since fleets are often launched from them."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
)

from ._base import resource_policy, settings, string_list
from ._props import as_bool, get, has_key, is_unknown, items
from .tags import effective_tags

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EBS_VOLUME = "aws:ebs/volume:Volume"
SSM_DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/"


def _uses_launch_template(args: ResourceValidationArgs) -> bool:
    return args.resource_type == INSTANCE and has_key(args.props, "launchTemplate")


# -- instance profile -------------------------------------------------------------------------

def _validate_profile(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == LAUNCH_TEMPLATE:
        # An Auto Scaling group launches with the template's profile, by name or ARN.
        profile = get(args.props, "iamInstanceProfile")
        refs = [get(profile, "name"), get(profile, "arn")]
        if is_unknown(profile) or any(is_unknown(r) or (isinstance(r, str) and r.strip())
                                      for r in refs):
            return
        report("The launch template has no IAM instance profile (iamInstanceProfile.name or "
               ".arn), so the instances it launches never register as managed nodes.", None)
        return
    if args.resource_type != INSTANCE:
        return
    profile = get(args.props, "iamInstanceProfile")
    if is_unknown(profile) or (isinstance(profile, str) and profile.strip()):
        return
    if _uses_launch_template(args):
        return  # the template may carry the profile; only it can tell
    report("The instance has no IAM instance profile, so SSM Agent has no credentials and "
           "the instance never registers as a managed node.", None)


instance_profile = resource_policy(
    name="instance-has-profile",
    description="EC2 instances and launch templates have an IAM instance profile (SSM Agent "
    "needs its role).",
    severity=Severity.HIGH,
    remediation_steps="Create an aws.iam.InstanceProfile whose role trusts ec2.amazonaws.com "
    "and has AmazonSSMManagedInstanceCore, and set `iam_instance_profile` on the instance "
    "(on a launch template: `iam_instance_profile={'name': ...}`).",
    url=SSM_DOC + "setup-instance-permissions.html",
    validate=_validate_profile,
    tags=["prerequisite"],
)


# -- IMDSv2 -----------------------------------------------------------------------------------

IMDS_SCHEMA = {
    "maxHopLimit": {
        "type": "integer",
        "minimum": 1,
        "maximum": 64,
        "description": "Largest allowed httpPutResponseHopLimit (1 keeps tokens on the host; "
        "containers on the instance need 2).",
        "default": 1,
    },
}


def _imds_problems(options: Any, max_hops: int) -> list[str]:
    if is_unknown(options):
        return []
    problems = []
    endpoint = get(options, "httpEndpoint")
    if endpoint == "disabled":
        problems.append("httpEndpoint is disabled: SSM Agent reads its credentials from "
                        "instance metadata and cannot work without it")
    tokens = get(options, "httpTokens")
    if not is_unknown(tokens) and tokens != "required":
        problems.append(f"metadataOptions.httpTokens is {tokens or 'unset'!s} "
                        "(IMDSv1 allowed); it must be 'required'")
    hops = get(options, "httpPutResponseHopLimit")
    if not is_unknown(hops):
        if hops is None:
            problems.append("metadataOptions.httpPutResponseHopLimit is unset (AMI defaults "
                            f"vary, 2 on Amazon Linux 2023); set it to at most {max_hops}")
        elif isinstance(hops, int | float) and hops > max_hops:
            problems.append(f"metadataOptions.httpPutResponseHopLimit is {int(hops)}; "
                            f"at most {max_hops} allowed")
    return problems


def _validate_imds(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return
    if args.resource_type == INSTANCE and _uses_launch_template(args) \
            and not has_key(args.props, "metadataOptions"):
        return
    cfg = settings(args, IMDS_SCHEMA)
    problems = _imds_problems(get(args.props, "metadataOptions", default={}), cfg["maxHopLimit"])
    if problems:
        report("; ".join(problems) + ".", None)


def _remediate_imds(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Sets httpTokens=required (and caps the hop limit) in place.

    Mutating the engine's proxy keeps secret inputs secret; a rebuilt dict would not.
    """
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return None
    cfg = settings(args, IMDS_SCHEMA)
    props: Any = args.props
    options = get(props, "metadataOptions")
    if is_unknown(options):
        return None
    if options is None:
        if _uses_launch_template(args):
            return None
        props["metadataOptions"] = {"httpTokens": "required",
                                    "httpPutResponseHopLimit": cfg["maxHopLimit"]}
        return props
    if not _imds_problems(options, cfg["maxHopLimit"]):
        return None
    options["httpTokens"] = "required"
    hops = get(options, "httpPutResponseHopLimit")
    if hops is None or (isinstance(hops, int | float) and hops > cfg["maxHopLimit"]):
        options["httpPutResponseHopLimit"] = cfg["maxHopLimit"]
    return props


imdsv2 = resource_policy(
    name="ec2-imdsv2-required",
    description="Instances and launch templates require IMDSv2 tokens with a hop limit of 1.",
    severity=Severity.HIGH,
    remediation_steps="Set metadata_options={'http_tokens': 'required', "
    "'http_put_response_hop_limit': 1}. With enforcement level `remediate` the pack sets "
    "these itself.",
    url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html",
    validate=_validate_imds,
    remediate=_remediate_imds,
    config=IMDS_SCHEMA,
    tags=["security"],
)


# -- EBS encryption ---------------------------------------------------------------------------

EBS_SCHEMA = {
    "encryptionByDefault": {
        "type": "boolean",
        "description": "The account enforces EBS encryption by default, so unset "
        "`encrypted` flags are acceptable (explicit false still is not).",
        "default": False,
    },
}


def _validate_ebs(args: ResourceValidationArgs, report: ReportViolation) -> None:
    by_default = settings(args, EBS_SCHEMA)["encryptionByDefault"]

    def check(value: Any, where: str) -> None:
        if is_unknown(value):
            return
        flag = as_bool(value)
        if flag is False or (flag is None and not by_default):
            shown = "unset" if value is None else repr(value)
            report(f"{where} is not encrypted (encrypted is {shown}).", None)

    props = args.props
    if args.resource_type == INSTANCE:
        if not _uses_launch_template(args) or has_key(props, "rootBlockDevice"):
            check(get(props, "rootBlockDevice", "encrypted"), "The root volume")
        for i, device in enumerate(items(get(props, "ebsBlockDevices"))):
            check(get(device, "encrypted"), f"EBS volume ebsBlockDevices[{i}]")
    elif args.resource_type == EBS_VOLUME:
        check(get(props, "encrypted"), "The volume")
    elif args.resource_type == LAUNCH_TEMPLATE:
        for i, mapping in enumerate(items(get(props, "blockDeviceMappings"))):
            if get(mapping, "ebs") is not None:
                check(get(mapping, "ebs", "encrypted"), f"blockDeviceMappings[{i}].ebs")


ebs_encrypted = resource_policy(
    name="ebs-encrypted",
    description="Root and EBS volumes of instances, launch templates and volumes are "
    "encrypted.",
    severity=Severity.HIGH,
    remediation_steps="Set `encrypted: true` on root_block_device / ebs_block_devices / "
    "aws.ebs.Volume (optionally with kms_key_id), or enable EBS encryption by default in the "
    "account and set `encryptionByDefault` in the pack config.",
    url="https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption.html",
    validate=_validate_ebs,
    config=EBS_SCHEMA,
    tags=["security"],
)


# -- public IP --------------------------------------------------------------------------------

def _validate_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == INSTANCE:
        if as_bool(get(args.props, "associatePublicIpAddress")) is True:
            report("associatePublicIpAddress is true: managed instances reach Systems Manager "
                   "through VPC endpoints and need no public address.", None)
    elif args.resource_type == LAUNCH_TEMPLATE:
        for i, nic in enumerate(items(get(args.props, "networkInterfaces"))):
            if as_bool(get(nic, "associatePublicIpAddress")) is True:
                report(f"networkInterfaces[{i}].associatePublicIpAddress is true.", None)


no_public_ip = resource_policy(
    name="ec2-no-public-ip",
    description="Instances and launch templates do not request a public IP address.",
    severity=Severity.HIGH,
    remediation_steps="Remove associate_public_ip_address (or set it false), place the "
    "instance in a private subnet and reach it with Session Manager.",
    url=SSM_DOC + "setup-create-vpc.html",
    validate=_validate_public_ip,
    tags=["security"],
)


# -- key pair ---------------------------------------------------------------------------------

KEY_SCHEMA = {
    "allowKeyPair": {
        "type": "boolean",
        "description": "Allow SSH key pairs on instances (Session Manager makes them "
        "unnecessary).",
        "default": False,
    },
}


def _validate_key_pair(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return
    if settings(args, KEY_SCHEMA)["allowKeyPair"]:
        return
    key = get(args.props, "keyName")
    if is_unknown(key) or (isinstance(key, str) and key):
        shown = "an unknown key" if is_unknown(key) else repr(key)
        report(f"keyName is set to {shown}; use Session Manager instead of SSH keys.", None)


no_key_pair = resource_policy(
    name="ec2-no-key-pair",
    description="Instances and launch templates have no SSH key pair.",
    severity=Severity.MEDIUM,
    remediation_steps="Drop key_name and connect with `aws ssm start-session`; set "
    "`allowKeyPair: true` in the pack config where SSH is deliberately kept.",
    url=SSM_DOC + "session-manager.html",
    validate=_validate_key_pair,
    config=KEY_SCHEMA,
    tags=["security"],
)


# -- supported OS image -----------------------------------------------------------------------

AMI_SCHEMA = {
    "allowedAmiSsmParameters": string_list(
        "Glob patterns of public SSM parameters whose AMIs run a supported OS with SSM Agent.",
        [
            "/aws/service/ami-amazon-linux-latest/*",
            "/aws/service/canonical/ubuntu/server/*",
            "/aws/service/ami-windows-latest/Windows_Server-*",
            # Vendors without public parameters: the newest image of the vendor's own
            # account, recorded as ec2-image:<owner>:<name pattern> (Red Hat's accounts in
            # the commercial regions and in GovCloud: access.redhat.com/solutions/15356).
            "ec2-image:309956199498:RHEL-*",
            "ec2-image:219670896067:RHEL-*",
        ],
    ),
    "allowedAmiIds": string_list(
        "AMI ids accepted as is (e.g. golden RHEL/CentOS images with SSM Agent installed).",
        [],
    ),
    "amiSourceTag": {
        "type": "string",
        "description": "Instance tag recording the SSM parameter the AMI was resolved from.",
        "default": "AmiSsmParameter",
    },
}


def _parameter_of(ami: str) -> str | None:
    """``resolve:ssm:/path[:version]`` lets EC2 resolve the parameter at launch."""
    if not ami.startswith("resolve:ssm:"):
        return None
    name = ami.removeprefix("resolve:ssm:")
    base, _, version = name.rpartition(":")
    return base if base and version.isdigit() else name


def _launch_tags(args: ResourceValidationArgs) -> dict[str, Any] | None:
    """The tags a launch template puts on its instances (tagSpecifications of type
    ``instance``); ``None`` when not known yet."""
    specs = get(args.props, "tagSpecifications")
    if is_unknown(specs):
        return None
    result: dict[str, Any] = {}
    for spec in items(specs):
        kind = get(spec, "resourceType")
        if is_unknown(kind):
            return None
        if kind == "instance":
            tags = get(spec, "tags")
            if is_unknown(tags):
                return None
            result.update(tags or {})
    return result


def _ami_source(args: ResourceValidationArgs, cfg: dict[str, Any]) -> tuple[str, Any]:
    """Where the instance's (or launch template's) AMI comes from, as far as its inputs tell:

    * ``("allowed-id", ami)``: an id listed in ``allowedAmiIds``;
    * ``("parameter", name)``: ``ami = resolve:ssm:<name>``;
    * ``("tag", source)``: the ``amiSourceTag`` tag (the program records the public
      parameter, or ``ec2-image:<owner>:<family>``, it resolved the AMI id from);
    * ``("template", None)``: launched from a launch template, which holds the image;
    * ``("unknown", None)``: not known yet (preview);
    * ``("unidentified", ami)``: a bare AMI id with none of the above.

    A launch template's image is ``imageId`` and its source tag is among the tags it puts
    on its instances; a template without ``imageId`` leaves the image to whoever launches.
    """
    is_template = args.resource_type == LAUNCH_TEMPLATE
    ami = get(args.props, "imageId" if is_template else "ami")
    if is_template and ami is None:
        return "template", None
    if isinstance(ami, str) and ami:
        parameter = _parameter_of(ami)
        if parameter is not None:
            return "parameter", parameter
        if ami in cfg["allowedAmiIds"]:
            return "allowed-id", ami
    elif not is_unknown(ami) and _uses_launch_template(args):
        return "template", None
    if is_template:
        launch_tags = _launch_tags(args)
        if launch_tags is None:
            return "unknown", None
        source = launch_tags.get(cfg["amiSourceTag"])
    else:
        source = (effective_tags(args) or {}).get(cfg["amiSourceTag"])
    if is_unknown(source) or (is_unknown(ami) and source is None):
        return "unknown", None
    if isinstance(source, str) and source:
        return "tag", source
    return "unidentified", ami


def _validate_ami(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return
    cfg = settings(args, AMI_SCHEMA)
    kind, value = _ami_source(args, cfg)
    if kind not in ("parameter", "tag"):
        return  # only a known source can be known to be unsupported (ami-os-identifiable)
    if any(fnmatch.fnmatchcase(value, p) for p in cfg["allowedAmiSsmParameters"]):
        return
    if kind == "parameter":
        report(f"AMI parameter {value!r} is not an allowed OS image source.", None)
    else:
        report(f"The AMI was resolved from {value!r}, which is not an allowed OS image "
               "source.", None)


# terraform-provider-aws #43364 ("aws_instance always force replacement when using
# ami = resolve:ssm:") and #22912 (root_block_device conflicts or churn with the SSM alias):
# the provider pulumi-aws wraps replaces such instances on every update and fails with a
# root block device. Hence the advice: resolve the public parameter with an invoke and keep
# the instance's AMI with ignore_changes.
AMI_REMEDIATION = (
    "Resolve the AMI id from an allowed public parameter with an invoke, e.g. "
    "`aws.ssm.get_parameter(name='/aws/service/ami-amazon-linux-latest/"
    "al2023-ami-kernel-default-x86_64').value`, pass it as `ami` with "
    "`opts=ResourceOptions(ignore_changes=['ami'])` (a new image then does not replace the "
    "instance; patching is Patch Manager's job), and record the parameter in the "
    "AmiSsmParameter tag. Avoid `ami='resolve:ssm:...'` on instances: the provider replaces "
    "them on every update and fails with root block devices (terraform-provider-aws issues "
    "#43364, #22912)."
)


supported_ami = resource_policy(
    name="supported-os-ami",
    description="Instances and launch templates whose AMI source is known boot an OS that "
    "Systems Manager supports (an allowed public SSM parameter).",
    severity=Severity.MEDIUM,
    remediation_steps=AMI_REMEDIATION,
    url=SSM_DOC + "operating-systems-and-machine-types.html",
    validate=_validate_ami,
    enforcement_level=EnforcementLevel.MANDATORY,
    config=AMI_SCHEMA,
    tags=["prerequisite"],
)


# -- AMI whose OS cannot be told ----------------------------------------------------------------

IDENTIFIABLE_SCHEMA = {
    "allowedAmiIds": AMI_SCHEMA["allowedAmiIds"],
    "amiSourceTag": AMI_SCHEMA["amiSourceTag"],
}


def _validate_identifiable(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (INSTANCE, LAUNCH_TEMPLATE):
        return
    cfg = settings(args, IDENTIFIABLE_SCHEMA)
    kind, ami = _ami_source(args, cfg)
    if kind == "unidentified":
        where = ("the launch template tags no instance with"
                 if args.resource_type == LAUNCH_TEMPLATE else "the instance has no")
        report(f"Cannot tell which OS AMI {ami!r} runs: it is not in allowedAmiIds, not a "
               f"resolve:ssm: reference, and {where} {cfg['amiSourceTag']!r} tag.",
               None)


ami_identifiable = resource_policy(
    name="ami-os-identifiable",
    description="The OS of an instance's or launch template's AMI can be told (source tag, "
    "resolve:ssm: reference or an allowed AMI id), so supported-os-ami can judge it.",
    severity=Severity.LOW,
    remediation_steps=AMI_REMEDIATION + " For a golden image, add its id to `allowedAmiIds`.",
    url=SSM_DOC + "operating-systems-and-machine-types.html",
    validate=_validate_identifiable,
    enforcement_level=EnforcementLevel.ADVISORY,
    config=IDENTIFIABLE_SCHEMA,
    tags=["prerequisite"],
)

POLICIES = [
    instance_profile, imdsv2, ebs_encrypted, no_public_ip, no_key_pair, supported_ami,
    ami_identifiable,
]
