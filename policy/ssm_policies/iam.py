"""IAM prerequisites: the instance's profile -> role carries AmazonSSMManagedInstanceCore
(or an equivalent), and the deprecated AmazonEC2RoleforSSM is attached nowhere."""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ._base import resource_policy, settings, stack_policy, string_list
from ._index import StackIndex
from ._props import get, is_unknown, items, last_segment, maybe_json, strings

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ROLE = "aws:iam/role:Role"
ROLE_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
ROLE_ATTACHMENTS_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"

CORE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html"


# -- deprecated AmazonEC2RoleforSSM ------------------------------------------------------------

DEPRECATED_SCHEMA = {
    "deprecatedPolicies": string_list(
        "Managed policy names (or ARNs) that must not be attached.",
        ["AmazonEC2RoleforSSM"],
    ),
}


def attached_policy_arns(props: Any) -> list[str]:
    """Policy ARNs an IAM resource attaches, whatever its type's property is called."""
    return [
        *strings(get(props, "policyArn")),
        *strings(get(props, "managedPolicyArns")),
        *strings(get(props, "policyArns")),
    ]


def _validate_deprecated(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:iam/"):
        return
    banned = {last_segment(p) for p in settings(args, DEPRECATED_SCHEMA)["deprecatedPolicies"]}
    for arn in attached_policy_arns(args.props):
        if last_segment(arn) in banned:
            report(f"{arn} is deprecated; attach {CORE_POLICY_ARN} instead.", None)


no_deprecated_policy = resource_policy(
    name="no-deprecated-ssm-policy",
    description="The deprecated AmazonEC2RoleforSSM managed policy is not attached anywhere.",
    severity=Severity.MEDIUM,
    remediation_steps=f"Replace the attachment with {CORE_POLICY_ARN} (plus a narrow S3 "
    "policy if instances write execution logs to a bucket).",
    url=DOC,
    validate=_validate_deprecated,
    config=DEPRECATED_SCHEMA,
    tags=["prerequisite", "iam"],
)


# -- instance profile -> role -> AmazonSSMManagedInstanceCore ----------------------------------

CORE_SCHEMA = {
    "equivalentPolicyArns": string_list(
        "Managed policy ARNs (or names) accepted in place of AmazonSSMManagedInstanceCore.",
        [CORE_POLICY_ARN],
    ),
    "coreActions": string_list(
        "IAM actions a role's own policy documents must allow to count as equivalent.",
        [
            "ssm:UpdateInstanceInformation",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:OpenControlChannel",
            "ec2messages:GetMessages",
        ],
    ),
    "trustedInstanceProfiles": string_list(
        "Instance profiles managed outside the stack and known to be correct.",
        [],
    ),
}


def allowed_actions(document: Any) -> list[str]:
    """Action patterns an IAM policy document allows (Deny and NotAction ignored: an
    equivalent policy is expected to state its grants plainly)."""
    statements = get(maybe_json(document), "Statement")
    listed = [statements] if isinstance(statements, Mapping) else items(statements)
    result: list[str] = []
    for statement in listed:
        if get(statement, "Effect") == "Allow":
            result.extend(strings(get(statement, "Action")))
    return result


def _covers(patterns: list[str], actions: list[str]) -> bool:
    lowered = [p.lower() for p in patterns]
    return all(any(fnmatch.fnmatchcase(a.lower(), p) for p in lowered) for a in actions)


class _RoleGrants:
    """Per role name: attached policy ARNs and allowed actions of its own documents."""

    def __init__(self, index: StackIndex) -> None:
        self.arns: dict[str, set[str]] = defaultdict(set)
        self.actions: dict[str, list[str]] = defaultdict(list)
        documents = {}
        for policy in index.of(MANAGED_POLICY):
            arn = get(policy.props, "arn")
            if isinstance(arn, str):
                documents[arn] = allowed_actions(get(policy.props, "policy"))
        for role in index.of(ROLE):
            name = get(role.props, "name")
            if not isinstance(name, str):
                continue
            self.arns[name].update(strings(get(role.props, "managedPolicyArns")))
            for inline in items(get(role.props, "inlinePolicies")):
                self.actions[name].extend(allowed_actions(get(inline, "policy")))
        for attachment in index.of(ROLE_ATTACHMENT, ROLE_ATTACHMENTS_EXCLUSIVE):
            for role_ref in strings(get(attachment.props, "role")) + strings(
                get(attachment.props, "roleName")
            ):
                self.arns[last_segment(role_ref)].update(attached_policy_arns(attachment.props))
        for attachment in index.of(POLICY_ATTACHMENT):
            for role_ref in strings(get(attachment.props, "roles")):
                self.arns[last_segment(role_ref)].update(attached_policy_arns(attachment.props))
        for inline in index.of(ROLE_POLICY):
            role_ref = get(inline.props, "role")
            if isinstance(role_ref, str):
                self.actions[last_segment(role_ref)].extend(
                    allowed_actions(get(inline.props, "policy")))
        # Customer managed policies defined in the stack count by their documents.
        for name, arns in self.arns.items():
            for arn in arns:
                self.actions[name].extend(documents.get(arn, []))


def _profile_ref(props: Any) -> Any:
    """The instance profile an instance (a name) or a launch template (``{name, arn}``)
    launches with."""
    profile = get(props, "iamInstanceProfile")
    if isinstance(profile, Mapping):
        name = get(profile, "name")
        return name if is_unknown(name) or (isinstance(name, str) and name) \
            else get(profile, "arn")
    return profile


def _validate_core(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, CORE_SCHEMA)
    equivalent = {last_segment(a) for a in cfg["equivalentPolicyArns"]}
    trusted = {last_segment(p) for p in cfg["trustedInstanceProfiles"]}
    index = StackIndex(args.resources)
    grants = _RoleGrants(index)
    for instance in index.of(INSTANCE, LAUNCH_TEMPLATE):
        profile_ref = _profile_ref(instance.props)
        if is_unknown(profile_ref) or not isinstance(profile_ref, str) or not profile_ref:
            continue  # unknown: judged at update; missing: instance-has-profile reports it
        if last_segment(profile_ref) in trusted:
            continue
        profile = index.find(profile_ref, PROFILE)
        if profile is None:
            report(f"Instance profile {profile_ref!r} is not defined in this stack, so its role "
                   "cannot be checked; define it here or list it in trustedInstanceProfiles.",
                   instance.urn)
            continue
        role_ref = get(profile.props, "role")
        if is_unknown(role_ref):
            continue
        if not isinstance(role_ref, str) or not role_ref:
            report(f"Instance profile {profile_ref!r} has no role.", instance.urn)
            continue
        role = last_segment(role_ref)
        if any(last_segment(arn) in equivalent for arn in grants.arns.get(role, ())):
            continue
        if _covers(grants.actions.get(role, []), cfg["coreActions"]):
            continue
        report(f"Role {role!r} (profile {profile_ref!r}) has neither "
               "AmazonSSMManagedInstanceCore nor an equivalent policy attached.", instance.urn)


instance_role_core = stack_policy(
    name="instance-role-ssm-core",
    description="Each instance's and launch template's profile role has "
    "AmazonSSMManagedInstanceCore or an equivalent policy attached (followed profile -> "
    "role -> attachments).",
    severity=Severity.HIGH,
    remediation_steps=f"Attach {CORE_POLICY_ARN} to the role with "
    "aws.iam.RolePolicyAttachment, or list your equivalent policy in equivalentPolicyArns.",
    url=DOC,
    validate=_validate_core,
    config=CORE_SCHEMA,
    tags=["prerequisite", "iam"],
)

POLICIES = [no_deprecated_policy, instance_role_core]
