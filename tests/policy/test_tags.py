"""required-tags and allowed-tag-values."""

from __future__ import annotations

from ssm_policies.tags import allowed_tag_values, required_tags

from tests.policy.helpers import UNKNOWN, UNKNOWN_OBJECT, violations

INSTANCE = "aws:ec2/instance:Instance"
VPC = "aws:ec2/vpc:Vpc"
BASE = {"Environment": "OELabIPM", "Workload": "Test"}
INSTANCE_TAGS = {**BASE, "InstanceRole": "WebServer", "Patch Group": "Critical"}


def test_compliant_resources_pass() -> None:
    assert violations(required_tags, VPC, {"tags": BASE}) == []
    assert violations(required_tags, INSTANCE, {"tags": INSTANCE_TAGS}) == []


def test_missing_tags_are_named() -> None:
    [message] = violations(required_tags, VPC, {"tags": {"Environment": "x"}})
    assert "'Workload'" in message and "Environment" not in message


def test_instances_also_need_instance_role_and_patch_group() -> None:
    [message] = violations(required_tags, INSTANCE, {"tags": BASE})
    assert "'InstanceRole'" in message and "'Patch Group'" in message


def test_patch_group_key_is_case_sensitive() -> None:
    tags = {**BASE, "InstanceRole": "App", "patch group": "Critical"}
    [message] = violations(required_tags, INSTANCE, {"tags": tags})
    assert "'Patch Group'" in message


def test_blank_value_counts_as_missing() -> None:
    assert violations(required_tags, VPC, {"tags": {**BASE, "Workload": " "}})


def test_untagged_taggable_resource_is_reported() -> None:
    assert violations(required_tags, VPC, {"cidrBlock": "10.0.0.0/16"})


def test_tags_all_counts_provider_default_tags() -> None:
    assert violations(required_tags, VPC, {"tags": {}, "tagsAll": BASE}) == []


def test_provider_default_tags_count_also_json_encoded() -> None:
    provider = {"defaultTags": '{"tags": {"Environment": "e", "Workload": "w"}}'}
    assert violations(required_tags, VPC, {"tags": {}}, provider_props=provider) == []
    provider_obj = {"defaultTags": {"tags": {"Environment": "e"}}}
    [message] = violations(required_tags, VPC, {}, provider_props=provider_obj)
    assert "'Workload'" in message


def test_unknown_tag_map_is_not_judged_during_preview() -> None:
    assert violations(required_tags, VPC, {"tags": UNKNOWN_OBJECT}) == []
    assert violations(required_tags, VPC, {"tags": BASE, "tagsAll": UNKNOWN_OBJECT}) == []


def test_unknown_tag_value_counts_as_present() -> None:
    assert violations(required_tags, VPC, {"tags": {**BASE, "Workload": UNKNOWN}}) == []


def test_untaggable_and_exempt_types_are_skipped() -> None:
    sync = "aws:ssm/resourceDataSync:ResourceDataSync"
    assert violations(required_tags, sync, {"name": "s"}) == []
    attachment = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    assert violations(required_tags, attachment, {"role": "r"}) == []
    assert violations(required_tags, "pulumi:providers:aws", {}) == []
    config = {"exemptTypes": [VPC]}
    assert violations(required_tags, VPC, {}, config) == []


def test_unlisted_type_with_tags_property_is_checked() -> None:
    assert violations(required_tags, "aws:new/thing:Thing", {"tags": {}})


def test_autoscaling_list_tags_are_understood() -> None:
    asg = "aws:autoscaling/group:Group"
    tags = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in BASE.items()]
    assert violations(required_tags, asg, {"tags": tags}) == []
    assert violations(required_tags, asg, {"tags": tags[:1]})


def test_required_tags_are_configurable() -> None:
    config = {"requiredTags": ["Owner"], "requiredTagsByType": {}}
    assert violations(required_tags, INSTANCE, {"tags": {"Owner": "me"}}, config) == []
    assert violations(required_tags, INSTANCE, {"tags": BASE}, config)


ALLOWED = {"allowedValues": {"Workload": ["Test", "Prod"]}}


def test_allowed_values() -> None:
    assert violations(allowed_tag_values, VPC, {"tags": BASE}, ALLOWED) == []
    [message] = violations(allowed_tag_values, VPC, {"tags": {"Workload": "Dev"}}, ALLOWED)
    assert "'Dev'" in message and "Test, Prod" in message


def test_allowed_values_default_to_no_restriction() -> None:
    assert violations(allowed_tag_values, VPC, {"tags": {"Workload": "Anything"}}) == []


def test_allowed_values_ignore_absent_and_unknown_values() -> None:
    assert violations(allowed_tag_values, VPC, {"tags": {}}, ALLOWED) == []
    assert violations(allowed_tag_values, VPC, {"tags": {"Workload": UNKNOWN}}, ALLOWED) == []
    assert violations(allowed_tag_values, VPC, {"tags": UNKNOWN_OBJECT}, ALLOWED) == []


def test_allowed_values_see_provider_default_tags() -> None:
    provider = {"defaultTags": {"tags": {"Workload": "Staging"}}}
    assert violations(allowed_tag_values, VPC, {}, ALLOWED, provider_props=provider)
