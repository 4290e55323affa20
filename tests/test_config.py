"""Config validation: every bad input fails with one message naming the key, nothing registered."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig, parse_stack_config
from fleetctl.plan.mockrun import partial_recording, run_program

FLEET_OK = [{"role": "WebServer", "count": 1}]


def _fleet(**changes: Any) -> list[dict[str, Any]]:
    return [{**FLEET_OK[0], **changes}]


BUCKETS = "ssm-inventory:s3EndpointAllowedBuckets"

BAD_INPUTS = [
    # Auto Scaling capacity: MinSize <= DesiredCapacity <= MaxSize (Amazon EC2 Auto Scaling
    # API reference, CreateAutoScalingGroup, DesiredCapacity); sizes are integers the API
    # bounds no further (botocore autoscaling model), so negatives are refused here.
    pytest.param({"fleet": _fleet(mode="autoscaling", count=5, maxCount=3)},
                 "ssm-inventory:fleet[0]", "minCount <= count <= maxCount, got minCount 5, "
                 "count 5, maxCount 3", id="asg-desired-above-max"),
    pytest.param({"fleet": _fleet(mode="autoscaling", count=1, minCount=2, maxCount=4)},
                 "ssm-inventory:fleet[0]", "got minCount 2, count 1", id="asg-desired-below-min"),
    pytest.param({"fleet": _fleet(mode="autoscaling", minCount=-1)},
                 "ssm-inventory:fleet[0].minCount", "greater than or equal to 0",
                 id="asg-negative-min"),
    pytest.param({"fleet": _fleet(maxCount=4)}, "ssm-inventory:fleet[0]",
                 "maxCount apply only to mode 'autoscaling'", id="max-count-without-asg"),
    pytest.param({"fleet": _fleet(mode="spot")}, "ssm-inventory:fleet[0].mode",
                 "'instances' or 'autoscaling'", id="unknown-mode"),
    pytest.param(
        {"vpcCidr": "10.0.0.0/33"}, "ssm-inventory:vpcCidr", "not an IPv4 CIDR", id="malformed-cidr"
    ),
    pytest.param({"vpcCidr": "banana"}, "ssm-inventory:vpcCidr", "not an IPv4 CIDR", id="garbage-cidr"),
    pytest.param({"vpcCidr": "10.0.0.1/16"}, "ssm-inventory:vpcCidr", "host bits", id="host-bits-cidr"),
    pytest.param({"vpcCidr": "8.8.0.0/16"}, "ssm-inventory:vpcCidr", "not a private", id="public-cidr"),
    pytest.param({"vpcCidr": "10.0.0.0/26"}, "ssm-inventory:vpcCidr", "/16 to /24", id="too-small-cidr"),
    pytest.param({"vpcCidr": "10.0.0.0/8"}, "ssm-inventory:vpcCidr", "/16 to /24", id="too-big-cidr"),
    pytest.param({"azCount": 0}, "ssm-inventory:azCount", "greater than or equal to 1", id="az-zero"),
    pytest.param({"azCount": 7}, "ssm-inventory:azCount", "less than or equal to 6", id="az-seven"),
    pytest.param({"azCount": "two"}, "ssm-inventory:azCount", "valid integer", id="az-not-int"),
    pytest.param(
        {"fleet": _fleet(os="centos-6")},
        "ssm-inventory:fleet[0].os",
        "unknown OS 'centos-6'; allowed: amazon-linux-2023",
        id="unknown-os",
    ),
    pytest.param(
        {"endpoints": ["ssm", "sqs"]},
        "ssm-inventory:endpoints",
        "unknown endpoint service 'sqs'; allowed: ssm",
        id="unknown-endpoint",
    ),
    pytest.param(
        {"fleet": _fleet(count=-1)},
        "ssm-inventory:fleet[0].count",
        "greater than or equal to 0",
        id="negative-count",
    ),
    pytest.param(
        {"fleet": _fleet(instanceType="")},
        "ssm-inventory:fleet[0].instanceType",
        "EC2 instance type like t3.micro",
        id="empty-instance-type",
    ),
    pytest.param(
        {"inventory": {"schedule": "rate(10 minutes)"}},
        "ssm-inventory:inventory.schedule",
        "more often than every 30 minutes",
        id="rate-under-30",
    ),
    pytest.param(
        {"inventory": {"schedule": "rate(31 days)"}},
        "ssm-inventory:inventory.schedule",
        "under 31 days",
        id="rate-31-days",
    ),
    pytest.param(
        {"inventory": {"schedule": "rate(45 days)"}},
        "ssm-inventory:inventory.schedule",
        "under 31 days",
        id="rate-45-days",
    ),
    pytest.param(
        {"inventory": {"schedule": "rate(30 minute)"}},
        "ssm-inventory:inventory.schedule",
        "plural",
        id="rate-bad-unit",
    ),
    pytest.param(
        {"inventory": {"schedule": "every 30 minutes"}},
        "ssm-inventory:inventory.schedule",
        "not a valid schedule",
        id="malformed-rate",
    ),
    pytest.param(
        {"inventory": {"schedule": "cron(0 2 * *)"}},
        "ssm-inventory:inventory.schedule",
        "not a valid schedule",
        id="malformed-cron",
    ),
    pytest.param(
        {"inventory": {"schedule": "cron(0/10 * * * ? *)"}},
        "ssm-inventory:inventory.schedule",
        "more often than every 30 minutes",
        id="cron-every-10",
    ),
    pytest.param(
        {"inventory": {"schedule": "cron(99 2 ? * SUN *)"}},
        "ssm-inventory:inventory.schedule",
        "minutes '99' must be one value 0-59",
        id="cron-bad-minute",
    ),
    pytest.param(
        {"inventory": {"schedule": "cron(0 0/3 * * ? *)"}},
        "ssm-inventory:inventory.schedule",
        "every 3 hours is not supported; allowed: rate(30 minutes)",
        id="cron-every-3-hours",
    ),
    pytest.param(
        {"inventory": {"associationName": "Inventory All"}},
        "ssm-inventory:inventory.associationName",
        "no spaces",
        id="association-name-space",
    ),
    pytest.param(
        {"inventory": {"associationName": "ab"}},
        "ssm-inventory:inventory.associationName",
        "3 to 128",
        id="association-name-short",
    ),
    pytest.param(
        {"inventory": {"associationName": "a" * 129}},
        "ssm-inventory:inventory.associationName",
        "3 to 128",
        id="association-name-long",
    ),
    pytest.param({"workload": None}, "ssm-inventory:workload", "is required", id="missing-workload"),
    pytest.param(
        {"fleet": {"role": "WebServer"}}, "ssm-inventory:fleet",
        "expected a list of groups like [{role: WebServer, count: 2}], got an object", id="fleet-not-list"
    ),
    pytest.param({"fleet": "WebServer"}, "ssm-inventory:fleet",
                 "expected a list of groups like [{role: WebServer, count: 2}], got the string 'WebServer'",
                 id="fleet-string"),
    # `endpoints: ssm` is valid YAML, just not a list: say what shape was expected.
    pytest.param({"endpoints": "ssm"}, "ssm-inventory:endpoints",
                 "expected a list of service names like [ssm, ec2messages], got the string 'ssm'",
                 id="endpoints-string"),
    pytest.param({"inventory": "[1]"}, "ssm-inventory:inventory",
                 "expected an object like {schedule: rate(30 minutes)}, got a list", id="inventory-list"),
    # Regions: pulumi-aws's Region enum is the list of known ones; typos get a suggestion.
    pytest.param({"aws:region": "us-east-9"}, "aws:region",
                 "unknown region 'us-east-9'; did you mean", id="unknown-region"),
    pytest.param({"aws:regoin": "us-east-1"}, "aws:regoin",
                 "is not a key of the aws provider; did you mean 'aws:region'?", id="aws-key-typo"),
    # AWS tag characters ("Tagging your AWS resources", tag naming limits): words, not a regex.
    pytest.param({"tags": {"Owner": "team \U0001F600"}}, "ssm-inventory:tags.Owner",
                 "tag value 'team \U0001F600' contains '\U0001F600', which AWS does not allow in tags; "
                 "allowed: letters, digits, spaces and _ . : / = + - @", id="tag-value-emoji"),
    pytest.param({"tags": {"Own\U0001F600": "x"}}, "ssm-inventory:tags.Own\U0001F600",
                 "tag key 'Own\U0001F600' contains", id="tag-key-emoji"),
    pytest.param(
        {"inventory": {"parameters": {"packages": "Enabled"}}},
        "ssm-inventory:inventory.parameters.packages",
        "not a known key",
        id="unknown-parameter",
    ),
    pytest.param(
        {"inventory": {"parameters": {"applications": "Yes"}}},
        "ssm-inventory:inventory.parameters.applications",
        "'Enabled' or 'Disabled'",
        id="parameter-not-enabled-disabled",
    ),
    pytest.param(
        {"inventory": {"parameters": {"files": '[{"Path": '}}},
        "ssm-inventory:inventory.parameters.files",
        "JSON list of objects",
        id="files-malformed",
    ),
    pytest.param(
        {"inventory": {"parameters": {"windowsRegistry": '{"Path": "HKEY"}'}}},
        "ssm-inventory:inventory.parameters.windowsRegistry",
        "JSON list of objects",
        id="registry-not-list",
    ),
    pytest.param(
        {"fleet": [{"role": "WebServer"}, {"role": "WebServer"}]},
        "ssm-inventory:fleet",
        "more than once",
        id="duplicate-role",
    ),
    pytest.param({"vpcCdir": "10.0.0.0/16"}, "ssm-inventory:vpcCdir", "not a known key", id="typo-key"),
    pytest.param({"tags": {"aws:foo": "x"}}, "ssm-inventory:tags", "reserved", id="reserved-tag"),
    pytest.param({"tags": {"Name": "x"}}, "ssm-inventory:tags", "reserved", id="program-tag"),
    pytest.param({"natGateway": "maybe"}, "ssm-inventory:natGateway", "valid boolean", id="bad-bool"),
    # Amazon S3 user guide, "General purpose bucket naming rules".
    pytest.param({"s3EndpointAllowedBuckets": ["ok-bucket", "*"]}, BUCKETS + "[1]",
                 "makes the endpoint policy no policy", id="bucket-wildcard"),
    pytest.param({"s3EndpointAllowedBuckets": ["arn:aws:s3:::*"]}, BUCKETS + "[0]",
                 "is a wildcard", id="bucket-arn-wildcard"),
    pytest.param({"s3EndpointAllowedBuckets": ["data-*"]}, BUCKETS + "[0]",
                 "is a wildcard", id="bucket-pattern"),
    pytest.param({"s3EndpointAllowedBuckets": ["My_Bucket"]}, BUCKETS + "[0]",
                 "3 to 63 lowercase letters, digits, dots or hyphens", id="bucket-uppercase"),
    pytest.param({"s3EndpointAllowedBuckets": ["ab"]}, BUCKETS + "[0]",
                 "3 to 63", id="bucket-too-short"),
    pytest.param({"s3EndpointAllowedBuckets": ["a" * 64]}, BUCKETS + "[0]",
                 "3 to 63", id="bucket-too-long"),
    pytest.param({"s3EndpointAllowedBuckets": ["-data"]}, BUCKETS + "[0]",
                 "beginning and ending with a letter or digit", id="bucket-leading-hyphen"),
    pytest.param({"s3EndpointAllowedBuckets": ["my..bucket"]}, BUCKETS + "[0]",
                 "two adjacent dots", id="bucket-adjacent-dots"),
    pytest.param({"s3EndpointAllowedBuckets": ["10.0.0.1"]}, BUCKETS + "[0]",
                 "IP address", id="bucket-ip"),
    pytest.param({"s3EndpointAllowedBuckets": ["xn--bucket"]}, BUCKETS + "[0]",
                 "reserved prefix", id="bucket-reserved-prefix"),
    pytest.param({"s3EndpointAllowedBuckets": ["data-s3alias"]}, BUCKETS + "[0]",
                 "suffix", id="bucket-reserved-suffix"),
    pytest.param({"s3EndpointAllowedBuckets": ["arn:aws:s3:::data/reports"]},
                 BUCKETS + "[0]", "no object key or path", id="bucket-arn-key"),
    pytest.param({"s3EndpointAllowedBuckets": ["arn:aws:iam::123456789012:role/x"]},
                 BUCKETS + "[0]", "not a bucket ARN", id="bucket-other-arn"),
    pytest.param({"s3EndpointAllowedBuckets": ["data", "arn:aws:s3:::data"]},
                 BUCKETS, "more than once", id="bucket-twice"),
    pytest.param({"s3EndpointAllowedBuckets": '{"data": 1}'}, BUCKETS,
                 "expected a list of bucket names", id="buckets-not-a-list"),
]


@pytest.mark.parametrize(("overrides", "key", "fragment"), BAD_INPUTS)
def test_bad_config_fails_before_anything_is_registered(
    overrides: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides=overrides)
    message = str(caught.value)
    assert f"{key}:" in message
    assert fragment in message
    assert "should match pattern" not in message  # words for people, never the regex
    recording = partial_recording(caught.value)
    assert recording is not None
    # Only the root stack exists: no component, no AWS resource, no half-built stack.
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


def test_az_count_beyond_the_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"ssm-inventory:azCount: 4 AZs requested .* has 3") as caught:
        run_program("dev", overrides={"aws:region": "eu-west-1", "azCount": 4})
    recording = partial_recording(caught.value)
    assert recording is not None and len(recording.resources) == 1


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(
            {
                "ssm-inventory:workload": "Test",
                "ssm-inventory:vpcCidr": "8.8.8.0/24",
                "ssm-inventory:azCount": "9",
            }
        )
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid stack config:"
    assert any("vpcCidr" in line for line in lines) and any("azCount" in line for line in lines)


def test_defaults_follow_the_lab() -> None:
    config = parse_stack_config({"ssm-inventory:workload": "Test"})
    assert config.environment_tag == "OELabIPM"
    assert config.vpc_cidr == "10.0.0.0/16"
    assert config.endpoints == ["ssm", "ec2messages", "ec2", "ssmmessages"]
    assert [(g.role, g.count, g.instance_type, g.os) for g in config.fleet] == [
        ("WebServer", 2, "t3.micro", "amazon-linux-2023"),
        ("AppServer", 2, "t3.micro", "amazon-linux-2023"),
    ]
    assert config.inventory.association_name == "InventoryAllInstances"
    assert config.inventory.schedule == "rate(30 minutes)"
    params = config.inventory.parameters.as_document_parameters()
    assert params["applications"] == "Enabled" and "files" not in params
    assert len(params) == 9


@pytest.mark.parametrize(
    "schedule",
    [
        "rate(30 minutes)",
        "rate(1 hour)",
        "rate(30 days)",
        "rate(1 day)",
        "cron(0 2 ? * SUN *)",
        "cron(0/30 * * * ? *)",
        "cron(0 */30 * * * ? *)",
        "cron(30 23 ? * TUE#3 *)",
    ],
)
def test_valid_schedules_pass(schedule: str) -> None:
    config = StackConfig.model_validate({"workload": "Test", "inventory": {"schedule": schedule}})
    assert config.inventory.schedule == schedule


def test_stack_tags_merge_under_program_tags() -> None:
    config = parse_stack_config({"ssm-inventory:workload": "Prod", "ssm-inventory:tags": '{"Owner": "ops"}'})
    assert config.common_tags == {"Owner": "ops", "Environment": "OELabIPM", "Workload": "Prod"}


def test_allowed_buckets_take_names_and_arns() -> None:
    config = parse_stack_config({
        "ssm-inventory:workload": "Test",
        BUCKETS:
            '["app-data", "arn:aws-us-gov:s3:::reports.example.com", "logs-2024"]',
    })
    assert config.s3_endpoint_allowed_buckets == ["app-data", "reports.example.com", "logs-2024"]
    assert parse_stack_config({"ssm-inventory:workload": "Test"}).s3_endpoint_allowed_buckets == []


def test_skip_region_validation_lets_a_new_region_through() -> None:
    """``aws:skipRegionValidation`` is the provider's own switch for regions it does not list."""
    config = parse_stack_config({"ssm-inventory:workload": "Test", "aws:region": "xx-new-1",
                                 "aws:skipRegionValidation": "true"})
    assert config.workload == "Test"
