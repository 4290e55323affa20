"""The AWS-owned S3 buckets that patching and package updates read, per region and OS family.

The S3 gateway endpoint decides every S3 request from the private subnets (its route wins
over ``0.0.0.0/0`` for S3 in the region, NAT or not: lab facts §7), so these buckets must be
in its policy or ``dnf``/``yum`` and ``AWS-RunPatchBaseline`` fail.

Sources:

- Patch Manager's buckets: AWS Systems Manager User Guide, "Reference: Amazon S3 buckets for
  patching operations"
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-operations-s3-buckets.html),
  tables "Buckets containing SSM Command documents for patching operations (Linux and
  Windows Server)" (``aws-patch-manager-<region>-<suffix>``) and "Buckets containing AWS
  managed patch baseline snapshots" (``patch-baseline-snapshot-<region>[-<suffix>]``). The
  page lists commercial regions only: a region it does not list (GovCloud among them) is
  refused with a config error rather than given an endpoint policy that silently blocks.
- Amazon Linux repositories (lab facts §7, from AWS's knowledge-center and Application
  Migration Service troubleshooting pages): AL2023 ``al2023-repos-<region>-de612dc2``, AL2
  ``amazonlinux-2-repos-<region>`` and ``amazonlinux.<region>.amazonaws.com``.
- Ubuntu, RHEL (Red Hat's own images) and Windows update from the internet, not from S3:
  they need a NAT gateway (checked in components/config/patching.py).
"""

from __future__ import annotations

from components.config import ConfigError

# Region -> (aws-patch-manager bucket, patch-baseline-snapshot bucket), exactly as the user
# guide's two tables list them (29 regions; the suffixes are AWS's, not derivable).
PATCH_MANAGER_BUCKETS: dict[str, tuple[str, str]] = {
    "us-east-2": ("aws-patch-manager-us-east-2-552881074", "patch-baseline-snapshot-us-east-2"),
    "us-east-1": ("aws-patch-manager-us-east-1-1970c647d", "patch-baseline-snapshot-us-east-1"),
    "us-west-1": ("aws-patch-manager-us-west-1-8badb4304", "patch-baseline-snapshot-us-west-1"),
    "us-west-2": ("aws-patch-manager-us-west-2-34d7f99f8", "patch-baseline-snapshot-us-west-2"),
    "af-south-1": ("aws-patch-manager-af-south-1-bdd5f65a9",
                   "patch-baseline-snapshot-af-south-1-tbxdb5b9"),
    "ap-east-1": ("aws-patch-manager-ap-east-1-632356271", "patch-baseline-snapshot-ap-east-1"),
    "ap-south-2": ("aws-patch-manager-ap-south-2-32f4b4128",
                   "patch-baseline-snapshot-ap-south-2-50209442"),
    "ap-southeast-3": ("aws-patch-manager-ap-southeast-3-aa48fc462",
                       "patch-baseline-snapshot-ap-southeast-3-be0a3174"),
    "ap-southeast-4": ("aws-patch-manager-ap-southeast-4-01e2c40d3",
                       "patch-baseline-snapshot-ap-southeast-4-dc6f76ce"),
    "ap-south-1": ("aws-patch-manager-ap-south-1-cb7c62ff9", "patch-baseline-snapshot-ap-south-1"),
    "ap-northeast-3": ("aws-patch-manager-ap-northeast-3-67373598a",
                       "patch-baseline-snapshot-ap-northeast-3"),
    "ap-northeast-2": ("aws-patch-manager-ap-northeast-2-10467995c",
                       "patch-baseline-snapshot-ap-northeast-2"),
    "ap-southeast-1": ("aws-patch-manager-ap-southeast-1-7fdfd9ef7",
                       "patch-baseline-snapshot-ap-southeast-1"),
    "ap-southeast-2": ("aws-patch-manager-ap-southeast-2-17283a275",
                       "patch-baseline-snapshot-ap-southeast-2"),
    "ap-northeast-1": ("aws-patch-manager-ap-northeast-1-4849fa78f",
                       "patch-baseline-snapshot-ap-northeast-1"),
    "ca-central-1": ("aws-patch-manager-ca-central-1-3148e69e3",
                     "patch-baseline-snapshot-ca-central-1"),
    "ca-west-1": ("aws-patch-manager-ca-west-1-9e3a4b2f9", "patch-baseline-snapshot-ca-west-1"),
    "eu-central-1": ("aws-patch-manager-eu-central-1-9163fdaaf",
                     "patch-baseline-snapshot-eu-central-1"),
    "eu-west-1": ("aws-patch-manager-eu-west-1-5522fb710", "patch-baseline-snapshot-eu-west-1"),
    "eu-west-2": ("aws-patch-manager-eu-west-2-902a2bc74", "patch-baseline-snapshot-eu-west-2"),
    "eu-south-1": ("aws-patch-manager-eu-south-1-c52f3f594", "patch-baseline-snapshot-eu-south-1"),
    "eu-west-3": ("aws-patch-manager-eu-west-3-29bf85721", "patch-baseline-snapshot-eu-west-3"),
    "eu-south-2": ("aws-patch-manager-eu-south-2-a4cf248b1",
                   "patch-baseline-snapshot-eu-south-2-df2c9d70"),
    "eu-north-1": ("aws-patch-manager-eu-north-1-795879e9b", "patch-baseline-snapshot-eu-north-1"),
    "eu-central-2": ("aws-patch-manager-eu-central-2-184ce43c8",
                     "patch-baseline-snapshot-eu-central-2"),
    "il-central-1": ("aws-patch-manager-il-central-1-e221cb57b",
                     "patch-baseline-snapshot-il-central-1"),
    "me-south-1": ("aws-patch-manager-me-south-1-a53fc9dce",
                   "patch-baseline-snapshot-me-south-1-uduvl7q8"),
    "me-central-1": ("aws-patch-manager-me-central-1-2932f2f80",
                     "patch-baseline-snapshot-me-central-1"),
    "sa-east-1": ("aws-patch-manager-sa-east-1-ddf4b6a09", "patch-baseline-snapshot-sa-east-1"),
}

# OS family (components/amis.py key prefix) -> the region's repository buckets.
AMAZON_LINUX_REPOSITORIES: dict[str, tuple[str, ...]] = {
    "amazon-linux-2023": ("al2023-repos-{region}-de612dc2",),
    "amazon-linux-2": ("amazonlinux-2-repos-{region}", "amazonlinux.{region}.amazonaws.com"),
}


def unknown_region_message(region: str) -> str:
    return (
        "invalid stack config:\n"
        f"  aws:region: {region} has no Patch Manager buckets in this program's table "
        "(components/patch_buckets.py, from the Systems Manager user guide's \"Reference: "
        "Amazon S3 buckets for patching operations\"), so the S3 endpoint policy could not let "
        "patching through; ssm-inventory:patching.enabled must be false in this region, or add "
        f"the region's buckets to the table. Regions known: {', '.join(sorted(PATCH_MANAGER_BUCKETS))}"
    )


def patching_buckets(region: str, os_keys: list[str]) -> list[str]:
    """The bucket names patching needs in ``region`` for a fleet of ``os_keys``: Patch
    Manager's two, then the Amazon Linux repositories of the families present.

    Raises ConfigError (naming ``aws:region`` and ``ssm-inventory:patching.enabled``) for a
    region the table does not know.
    """
    if region not in PATCH_MANAGER_BUCKETS:
        raise ConfigError(unknown_region_message(region))
    names = list(PATCH_MANAGER_BUCKETS[region])
    for os_key, patterns in AMAZON_LINUX_REPOSITORIES.items():
        if os_key in os_keys:
            names += [p.format(region=region) for p in patterns]
    return names
