"""Compliance alerts: e-mail when an instance falls out of compliance or an association fails.

EventBridge rules on Systems Manager's events ("Configuration Compliance State Change" to
``non_compliant`` for this stack's instances; "EC2 State Manager Instance Association State
Change" to ``Failed`` for this stack's associations) publish to an SNS topic with e-mail
subscriptions.

The topic is encrypted with a customer managed KMS key whose policy lets EventBridge use
it: EventBridge cannot publish to a topic under the AWS managed ``alias/aws/sns`` key, whose
policy no one can change (lab facts §7). The key's policy keeps the account root as its
administrator (so IAM policies of the account keep working and the key never becomes
unmanageable), and the topic's policy lets only this stack's rules publish.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.partition import COMMERCIAL, Partition

COMPLIANCE_EVENT = "Configuration Compliance State Change"
ASSOCIATION_EVENT = "EC2 State Manager Instance Association State Change"


def compliance_pattern(instance_ids: Sequence[str]) -> str:
    """Any compliance type (Patch, Association) turning non_compliant on these instances."""
    return json.dumps({
        "source": ["aws.ssm"],
        "detail-type": [COMPLIANCE_EVENT],
        "detail": {"compliance-status": ["non_compliant"], "resource-id": sorted(instance_ids)},
    })


def association_failure_pattern(association_ids: Sequence[str]) -> str:
    return json.dumps({
        "source": ["aws.ssm"],
        "detail-type": [ASSOCIATION_EVENT],
        "detail": {"association-id": sorted(association_ids), "status": ["Failed"]},
    })


def key_policy(account_id: str, partition: Partition) -> str:
    """Root administers the key; EventBridge may use it to publish to the encrypted topic."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition.name}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "EventBridgePublishesToTheTopic",
                "Effect": "Allow",
                "Principal": {"Service": partition.service_principal("events")},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    })


def topic_policy(topic_arn: str, rule_arns: Sequence[str], partition: Partition) -> str:
    """Only this stack's EventBridge rules may publish."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "StackRulesPublish",
            "Effect": "Allow",
            "Principal": {"Service": partition.service_principal("events")},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
        }],
    })


@dataclass
class ComplianceAlertsArgs:
    workload: str
    emails: list[str]
    instance_ids: pulumi.Input[Sequence[str]]
    association_ids: Sequence[pulumi.Input[str]]
    account_id: str
    tags: dict[str, str]
    partition: Partition = COMMERCIAL


class ComplianceAlerts(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ComplianceAlertsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ssm-inventory:alerts:ComplianceAlerts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        key = aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=f"{args.workload} compliance alerts topic (EventBridge may use it)",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=key_policy(args.account_id, args.partition),
                tags=args.tags,
            ),
            child,
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            aws.sns.TopicArgs(
                display_name=f"{args.workload} compliance alerts",
                kms_master_key_id=key.arn,
                tags=args.tags,
            ),
            child,
        )

        rules = {
            "non-compliant": (
                f"{args.workload}: an instance of the stack became non-compliant (patches or "
                "associations)",
                pulumi.Output.from_input(args.instance_ids).apply(compliance_pattern),
            ),
            "association-failed": (
                f"{args.workload}: an association of the stack failed on an instance",
                pulumi.Output.all(*args.association_ids).apply(association_failure_pattern),
            ),
        }
        rule_arns: list[pulumi.Output[str]] = []
        for suffix, (description, pattern) in rules.items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{suffix}",
                aws.cloudwatch.EventRuleArgs(
                    description=description, event_pattern=pattern, tags=args.tags),
                child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-{suffix}-to-topic",
                aws.cloudwatch.EventTargetArgs(rule=rule.name, arn=topic.arn),
                child,
            )
            rule_arns.append(rule.arn)

        partition = args.partition

        def policy(values: list[Any]) -> str:
            return topic_policy(values[0], values[1:], partition)

        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            aws.sns.TopicPolicyArgs(
                arn=topic.arn, policy=pulumi.Output.all(topic.arn, *rule_arns).apply(policy)),
            child,
        )
        for email in args.emails:
            # Named by a digest of the address: reordering the list replaces nothing.
            digest = hashlib.sha256(email.lower().encode()).hexdigest()[:8]
            aws.sns.TopicSubscription(
                f"{name}-email-{digest}",
                aws.sns.TopicSubscriptionArgs(topic=topic.arn, protocol="email", endpoint=email),
                child,
            )

        self.topic_arn = topic.arn
        self.key_arn = key.arn
        self.register_outputs({"topicArn": self.topic_arn, "keyArn": self.key_arn})
