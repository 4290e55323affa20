"""no-deprecated-ssm-policy and instance-role-ssm-core (profile -> role -> attachments)."""

from __future__ import annotations

import json
from typing import Any

from ssm_policies.iam import instance_role_core, no_deprecated_policy

from tests.policy.helpers import UNKNOWN, stack_violations, urn, violations

INSTANCE = "aws:ec2/instance:Instance"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
DEPRECATED = "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"

# ---------------------------------------------------------------------------------------------


def test_deprecated_policy_in_any_attachment_form() -> None:
    assert violations(no_deprecated_policy, ATTACHMENT, {"role": "r", "policyArn": DEPRECATED})
    assert violations(no_deprecated_policy, "aws:iam/policyAttachment:PolicyAttachment",
                      {"roles": ["r"], "policyArn": DEPRECATED})
    assert violations(no_deprecated_policy, ROLE, {"managedPolicyArns": [CORE, DEPRECATED]})
    exclusive = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
    assert violations(no_deprecated_policy, exclusive,
                      {"roleName": "r", "policyArns": [DEPRECATED]})


def test_core_policy_and_unknown_arns_pass() -> None:
    assert violations(no_deprecated_policy, ATTACHMENT, {"role": "r", "policyArn": CORE}) == []
    assert violations(no_deprecated_policy, ATTACHMENT, {"role": "r", "policyArn": UNKNOWN}) \
        == []
    assert violations(no_deprecated_policy, "aws:ec2/vpc:Vpc", {"policyArn": DEPRECATED}) == []


def test_deprecated_list_is_configurable() -> None:
    config = {"deprecatedPolicies": ["AmazonSSMFullAccess"]}
    arn = "arn:aws:iam::aws:policy/AmazonSSMFullAccess"
    assert violations(no_deprecated_policy, ATTACHMENT, {"policyArn": arn}, config)
    assert violations(no_deprecated_policy, ATTACHMENT, {"policyArn": DEPRECATED}, config) == []


# ---------------------------------------------------------------------------------------------

def fleet(*extra: tuple[str, str, dict[str, Any]],
          profile: str = "profile-1", role: str = "role-1") -> list[tuple[str, str, dict]]:
    return [
        (INSTANCE, "web1", {"id": "i-1", "iamInstanceProfile": profile}),
        (PROFILE, "profile", {"id": "profile-1", "name": "profile-1", "role": role,
                              "arn": "arn:aws:iam::1:instance-profile/profile-1"}),
        (ROLE, "role", {"id": "role-1", "name": "role-1",
                        "arn": "arn:aws:iam::1:role/role-1"}),
        *extra,
    ]


def test_profile_role_with_core_attachment_passes() -> None:
    resources = fleet((ATTACHMENT, "core", {"role": "role-1", "policyArn": CORE}))
    assert stack_violations(instance_role_core, resources) == []


def test_role_referenced_by_arn_and_profile_by_arn() -> None:
    resources = fleet((ATTACHMENT, "core", {"role": "arn:aws:iam::1:role/role-1",
                                            "policyArn": CORE}),
                      profile="arn:aws:iam::1:instance-profile/profile-1")
    assert stack_violations(instance_role_core, resources) == []


def test_missing_core_policy_is_reported_on_the_instance() -> None:
    [(where, message)] = stack_violations(instance_role_core, fleet())
    assert where == urn(INSTANCE, "web1")
    assert "role-1" in message


def test_deprecated_policy_alone_is_not_enough() -> None:
    resources = fleet((ATTACHMENT, "old", {"role": "role-1", "policyArn": DEPRECATED}))
    assert stack_violations(instance_role_core, resources)


def test_attachment_to_another_role_does_not_count() -> None:
    resources = fleet((ATTACHMENT, "core", {"role": "other-role", "policyArn": CORE}))
    assert stack_violations(instance_role_core, resources)


def test_managed_policy_arns_and_policy_attachment_count() -> None:
    role_with_arns = [r if r[0] != ROLE else
                      (ROLE, "role", {**r[2], "managedPolicyArns": [CORE]}) for r in fleet()]
    assert stack_violations(instance_role_core, role_with_arns) == []
    group = ("aws:iam/policyAttachment:PolicyAttachment", "pa",
             {"roles": ["role-1"], "policyArn": CORE})
    assert stack_violations(instance_role_core, fleet(group)) == []


def test_equivalent_policy_by_config_or_by_document() -> None:
    custom = "arn:aws:iam::1:policy/ssm-core-copy"
    resources = fleet((ATTACHMENT, "custom", {"role": "role-1", "policyArn": custom}))
    assert stack_violations(instance_role_core, resources)
    assert stack_violations(instance_role_core, resources,
                            {"equivalentPolicyArns": [custom]}) == []
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ssmmessages:*",
                                       "ec2messages:*"], "Resource": "*"}]})
    managed = ("aws:iam/policy:Policy", "copy", {"arn": custom, "name": "ssm-core-copy",
                                                  "policy": document})
    assert stack_violations(instance_role_core, [*resources, managed]) == []
    inline = ("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "role-1",
                                                          "policy": document})
    assert stack_violations(instance_role_core, fleet(inline)) == []


def test_partial_document_is_not_equivalent() -> None:
    document = {"Statement": {"Effect": "Allow", "Action": "ssm:UpdateInstanceInformation",
                              "Resource": "*"}}
    inline = ("aws:iam/rolePolicy:RolePolicy", "inline", {"role": "role-1",
                                                          "policy": json.dumps(document)})
    assert stack_violations(instance_role_core, fleet(inline))


def test_profile_outside_the_stack() -> None:
    resources = [(INSTANCE, "web1", {"iamInstanceProfile": "ManagedInstancesRole"})]
    [(where, message)] = stack_violations(instance_role_core, resources)
    assert "not defined in this stack" in message and where == urn(INSTANCE, "web1")
    assert stack_violations(instance_role_core, resources,
                            {"trustedInstanceProfiles": ["ManagedInstancesRole"]}) == []


def test_unknowns_and_missing_profiles_are_left_to_other_checks() -> None:
    assert stack_violations(instance_role_core, fleet(profile=UNKNOWN)) == []
    assert stack_violations(instance_role_core, fleet(role=UNKNOWN)) == []
    assert stack_violations(instance_role_core, [(INSTANCE, "web1", {"id": "i-1"})]) == []


def test_one_report_per_noncompliant_instance() -> None:
    resources = [*fleet(), (INSTANCE, "web2", {"iamInstanceProfile": "profile-1"})]
    found = stack_violations(instance_role_core, resources)
    assert sorted(w for w, _ in found if w) == [urn(INSTANCE, "web1"), urn(INSTANCE, "web2")]


def test_launch_template_profile_is_followed_to_its_role() -> None:
    lt = ("aws:ec2/launchTemplate:LaunchTemplate", "web-lt",
          {"id": "lt-1", "iamInstanceProfile": {"name": "profile-1"}})
    resources = [lt, *fleet()[1:]]
    [(where, message)] = stack_violations(instance_role_core, resources)
    assert where == urn(lt[0], "web-lt") and "role-1" in message
    core = (ATTACHMENT, "core", {"role": "role-1", "policyArn": CORE})
    assert stack_violations(instance_role_core, [*resources, core]) == []
    by_arn = (lt[0], "web-lt", {"id": "lt-1", "iamInstanceProfile": {
        "arn": "arn:aws:iam::1:instance-profile/profile-1"}})
    assert len(stack_violations(instance_role_core, [by_arn, *fleet()[1:]])) == 1
    unknown = (lt[0], "web-lt", {"id": "lt-1", "iamInstanceProfile": {"name": UNKNOWN}})
    assert stack_violations(instance_role_core, [unknown, *fleet()[1:]]) == []
