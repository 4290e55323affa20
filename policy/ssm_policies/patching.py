"""Patch Manager policies: patch groups registered with a baseline for the instances' OS,
one patch scan method per target set, maintenance window task limits, encrypted SNS topics
that EventBridge can publish to, and an S3 gateway endpoint policy that lets patching work.

Several of them judge only stacks that patch (a patch baseline, a patch group, or a State
Manager association / maintenance window task running a patch document): a stack without
Patch Manager resources is not asked to carry them.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ._base import resource_policy, settings, stack_policy, string_list
from ._index import StackIndex
from ._props import entries, get, is_unknown, items, maybe_json, strings
from .inventory import TargetSet, provably_disjoint, target_set

INSTANCE = "aws:ec2/instance:Instance"
PATCH_BASELINE = "aws:ssm/patchBaseline:PatchBaseline"
PATCH_GROUP = "aws:ssm/patchGroup:PatchGroup"
ASSOCIATION = "aws:ssm/association:Association"
WINDOW_TASK = "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask"
WINDOW_TARGET = "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget"
TOPIC = "aws:sns/topic:Topic"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
KMS_KEY = "aws:kms/key:Key"
KMS_ALIAS = "aws:kms/alias:Alias"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"

DOC = "https://docs.aws.amazon.com/systems-manager/latest/userguide/"

# Documents that run Patch Manager operations ("SSM Command documents for patching managed
# nodes"; the legacy Windows-only documents are left out).
PATCH_DOCUMENTS = ["AWS-RunPatchBaseline", "AWS-RunPatchBaselineAssociation",
                   "AWS-RunPatchBaselineWithHooks"]
PATCH_DOCUMENTS_SCHEMA = string_list(
    "SSM documents that run Patch Manager operations (Scan or Install).", PATCH_DOCUMENTS)

# Tag keys naming an instance's patch group: `Patch Group`, or `PatchGroup` where tags in
# instance metadata are on (which forbids spaces in keys). Patch Manager user guide,
# "Patch groups".
PATCH_GROUP_TAGS = ("Patch Group", "PatchGroup")


def _document(name: Any) -> str:
    """``arn:aws:ssm:us-east-1::document/AWS-RunPatchBaseline`` -> ``AWS-RunPatchBaseline``."""
    return name.rsplit("/", 1)[-1] if isinstance(name, str) and not is_unknown(name) else ""


def _task_parameters(task: Any) -> dict[str, Any]:
    """A Run Command task's document parameters as ``{name: first value}``."""
    result: dict[str, Any] = {}
    block = get(task, "taskInvocationParameters", "runCommandParameters", "parameters")
    for parameter in items(block):
        name, values = get(parameter, "name"), get(parameter, "values")
        if isinstance(name, str):
            listed = strings(values)
            result[name] = values if is_unknown(values) else (listed[0] if listed else None)
    return result


def _association_operation(association: Any) -> Any:
    return get(association, "parameters", "Operation")


def stack_patches(index: StackIndex, documents: list[str]) -> bool:
    """The stack sets up Patch Manager: a baseline, a patch group, or a patch run."""
    if index.of(PATCH_BASELINE, PATCH_GROUP):
        return True
    if any(_document(get(a.props, "name")) in documents for a in index.of(ASSOCIATION)):
        return True
    return any(_document(get(t.props, "taskArn")) in documents for t in index.of(WINDOW_TASK))


# -- patch groups registered with a baseline for the instance's OS ----------------------------

# The program's `OS` tag values (glob patterns) -> PatchBaseline operatingSystem.
OS_FAMILIES = {
    "amazon-linux-2023": "AMAZON_LINUX_2023",
    "amazon-linux-2": "AMAZON_LINUX_2",
    "ubuntu-*": "UBUNTU",
    "rhel-*": "REDHAT_ENTERPRISE_LINUX",
    "windows-*": "WINDOWS",
}
# CreatePatchBaseline's OperatingSystem defaults to WINDOWS (SSM API reference).
DEFAULT_BASELINE_OS = "WINDOWS"

GROUP_SCHEMA: dict[str, dict[str, Any]] = {
    "osTag": {
        "type": "string",
        "description": "Instance tag that names its OS (the program writes OS=<key>).",
        "default": "OS",
    },
    "osFamilies": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "OS tag value (glob pattern) -> patch baseline operatingSystem. An "
        "instance whose OS is not listed (or not tagged) needs its group registered with "
        "some baseline, of any OS.",
        "default": OS_FAMILIES,
    },
    "onlyWhenPatching": {
        "type": "boolean",
        "description": "Judge only stacks that patch (have a patch baseline, patch group or "
        "patch association / maintenance window task). false: every instance's patch group "
        "must be registered in the stack.",
        "default": True,
    },
    "patchDocuments": PATCH_DOCUMENTS_SCHEMA,
}


def os_family(os_value: str, families: dict[str, str]) -> str | None:
    """The baseline OS for an ``OS`` tag value; exact keys win over patterns."""
    if os_value in families:
        return families[os_value]
    for pattern, family in families.items():
        if fnmatchcase(os_value, pattern):
            return family
    return None


def _tags(resource: Any) -> dict[str, Any]:
    return {**entries(get(resource, "tagsAll")), **entries(get(resource, "tags"))}


def _validate_groups(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, GROUP_SCHEMA)
    index = StackIndex(args.resources)
    if cfg["onlyWhenPatching"] and not stack_patches(index, cfg["patchDocuments"]):
        return
    # patch group value -> baseline OS of each registration (None: baseline not in the stack
    # or its OS unknown, so it may be any); an unknown group name may be any group.
    registered: dict[str, list[str | None]] = {}
    some_unknown_group = False
    for registration in index.of(PATCH_GROUP):
        group = get(registration.props, "patchGroup")
        if not isinstance(group, str):
            some_unknown_group = some_unknown_group or is_unknown(group)
            continue
        baseline = index.find(get(registration.props, "baselineId"), PATCH_BASELINE)
        system = get(baseline.props, "operatingSystem", default=DEFAULT_BASELINE_OS) \
            if baseline is not None else None
        registered.setdefault(group, []).append(system if isinstance(system, str) else None)
    for instance in index.of(INSTANCE):
        tags = _tags(instance.props)
        group = next((tags[k] for k in PATCH_GROUP_TAGS if k in tags), None)
        if group is None or is_unknown(group) or not isinstance(group, str):
            continue  # untagged: required-tags' business; unknown: judged on update
        systems = registered.get(group)
        if systems is None:
            if not some_unknown_group:
                report(f"Patch group {group!r} is not registered with any patch baseline "
                       "(aws.ssm.PatchGroup), so the instance is patched with the default "
                       "baseline of its OS instead of the stack's.", instance.urn)
            continue
        os_value = tags.get(cfg["osTag"])
        family = os_family(os_value, cfg["osFamilies"]) if isinstance(os_value, str) else None
        if family is None or None in systems or family in systems:
            continue
        report(f"Patch group {group!r} is registered with baselines for "
               f"{', '.join(sorted(s for s in systems if s))} only; this instance "
               f"({cfg['osTag']}={os_value}) needs a {family} baseline registered with it.",
               instance.urn)


patch_group_baseline = stack_policy(
    name="patch-group-baseline",
    description="Every instance's Patch Group is registered with a patch baseline for the "
    "instance's OS family (in stacks that patch).",
    severity=Severity.MEDIUM,
    remediation_steps="For each Patch Group tag value and OS family in the fleet, create an "
    "aws.ssm.PatchBaseline(operating_system=...) and register it with "
    "aws.ssm.PatchGroup(patch_group=<value>, baseline_id=baseline.id).",
    url=DOC + "patch-manager-patch-groups.html",
    validate=_validate_groups,
    config=GROUP_SCHEMA,
    tags=["patching"],
)


# -- at most one patch scan method per target set ---------------------------------------------

SCAN_SCHEMA = {"patchDocuments": PATCH_DOCUMENTS_SCHEMA}
ALL_INSTANCES = ("InstanceIds", frozenset(["*"]))


def _window_task_targets(task: Any, index: StackIndex) -> list[TargetSet] | None:
    """A task's targets as target sets (OR of its window targets); ``None`` when unknown."""
    result: list[TargetSet] = []
    for block in items(get(task, "targets")):
        key, values = get(block, "key"), get(block, "values")
        if not isinstance(key, str) or is_unknown(values):
            return None
        if key == "WindowTargetIds":
            for target_id in strings(values):
                target = index.find(target_id, WINDOW_TARGET)
                targets = target_set(target.props) if target is not None else None
                if targets is None:
                    return None  # outside the stack or unknown: cannot be compared
                result.append(targets)
        else:
            result.append(frozenset([(key, frozenset(strings(values)))]))
    return result


def _may_overlap(a: TargetSet, b: TargetSet) -> bool:
    return ALL_INSTANCES in a or ALL_INSTANCES in b or not provably_disjoint(a, b)


def _validate_scans(args: StackValidationArgs, report: ReportViolation) -> None:
    documents = settings(args, SCAN_SCHEMA)["patchDocuments"]
    index = StackIndex(args.resources)
    # (urn, what, target sets) of each scan; a handful per stack, compared pairwise.
    scans: list[tuple[str, str, list[TargetSet]]] = []
    for association in index.of(ASSOCIATION):
        document = _document(get(association.props, "name"))
        # Operation has no default in the patch documents (AWS refuses a run without it),
        # so only an explicit Scan counts; Install runs are the install method.
        if document not in documents or _association_operation(association.props) != "Scan":
            continue
        targets = target_set(association.props)
        if targets is not None:
            scans.append((association.urn, f"{document} association", [targets]))
    for task in index.of(WINDOW_TASK):
        document = _document(get(task.props, "taskArn"))
        if document not in documents or _task_parameters(task.props).get("Operation") != "Scan":
            continue
        sets = _window_task_targets(task.props, index)
        if sets:
            scans.append((task.urn, f"{document} maintenance window task", sets))
    for i, (urn, _, sets) in enumerate(scans):
        for other_urn, other_what, other_sets in scans[:i]:
            if any(_may_overlap(a, b) for a in sets for b in other_sets):
                report(f"This patch scan's targets may overlap those of the {other_what} "
                       f"({other_urn}): each scan overwrites the other's patch compliance "
                       "data. Keep one scan method per instance set, or make the targets "
                       "disjoint by a common tag key with different values.", urn)
                break


single_patch_scan_method = stack_policy(
    name="single-patch-scan-method",
    description="At most one patch scan method (Scan association or maintenance window Scan "
    "task) per target set.",
    severity=Severity.HIGH,
    remediation_steps="Scan each instance set with one method only: delete the extra "
    "AWS-RunPatchBaseline Scan association or deregister the maintenance window Scan task, "
    "or target disjoint tag values.",
    url=DOC + "patch-manager-compliance-data-overwrites.html",
    validate=_validate_scans,
    config=SCAN_SCHEMA,
    tags=["patching"],
)


# -- maintenance window tasks set concurrency and error limits --------------------------------

# RegisterTaskWithMaintenanceWindow (botocore's SSM model): MaxConcurrency
# ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$, MaxErrors ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$;
# both may be omitted only for a targetless task.
LIMIT_PATTERNS = {
    "maxConcurrency": r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$",
    "maxErrors": r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$",
}

LIMITS_SCHEMA: dict[str, dict[str, Any]] = {
    "requireForTargetlessTasks": {
        "type": "boolean",
        "description": "Also require the limits on tasks without targets (AWS accepts them "
        "without).",
        "default": False,
    },
}


def _validate_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != WINDOW_TASK:
        return
    targets = get(args.props, "targets")
    if is_unknown(targets):
        return
    if not items(targets) and not settings(args, LIMITS_SCHEMA)["requireForTargetlessTasks"]:
        return
    for key, pattern in LIMIT_PATTERNS.items():
        value = get(args.props, key)
        if is_unknown(value):
            continue
        if value is None or value == "":
            report(f"{key} is not set: without it a failing task runs on every target at "
                   "once; set a number or percentage (e.g. 1 or 10%).", None)
        elif not re.match(pattern, str(value)):
            report(f"{key} {value!r} is not a number or percentage the service accepts "
                   f"({pattern}).", None)


maintenance_window_task_limits = resource_policy(
    name="maintenance-window-task-limits",
    description="Maintenance window tasks with targets set maxConcurrency and maxErrors.",
    severity=Severity.MEDIUM,
    remediation_steps="Set max_concurrency and max_errors on the aws.ssm.MaintenanceWindowTask "
    "(e.g. \"1\" and \"1\", as the lab's patch task), so a bad patch stops before it reaches "
    "the whole fleet.",
    url="https://docs.aws.amazon.com/systems-manager/latest/APIReference/"
    "API_RegisterTaskWithMaintenanceWindow.html",
    validate=_validate_limits,
    config=LIMITS_SCHEMA,
    tags=["patching"],
)


# -- SNS topics are encrypted -----------------------------------------------------------------

TOPIC_SCHEMA = {
    "exemptTopics": string_list(
        "Topic names (glob patterns) that may stay unencrypted, e.g. public announcements.",
        []),
}


def _validate_topic(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TOPIC:
        return
    key = get(args.props, "kmsMasterKeyId")
    if is_unknown(key) or (isinstance(key, str) and key):
        return
    name = get(args.props, "name")
    exempt = settings(args, TOPIC_SCHEMA)["exemptTopics"]
    if isinstance(name, str) and any(fnmatchcase(name, p) for p in exempt):
        return
    report("The topic is not encrypted at rest (kmsMasterKeyId unset); alerts can carry "
           "instance ids and compliance details. Use a customer managed KMS key.", None)


sns_topic_encrypted = resource_policy(
    name="sns-topic-encrypted",
    description="SNS topics are encrypted with a KMS key (kmsMasterKeyId set).",
    severity=Severity.MEDIUM,
    remediation_steps="Set kms_master_key_id on the aws.sns.Topic to a customer managed "
    "aws.kms.Key (its key policy must allow the services that publish, e.g. "
    "events.amazonaws.com).",
    url="https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html",
    validate=_validate_topic,
    config=TOPIC_SCHEMA,
    tags=["security", "patching"],
)


# -- topics EventBridge publishes to use a key EventBridge may use ----------------------------

AWS_MANAGED_SNS_KEY = "alias/aws/sns"
EVENTS_PRINCIPAL = "events.amazonaws.com"
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

EVENTBRIDGE_KEY_SCHEMA: dict[str, dict[str, Any]] = {
    "checkKeyPolicy": {
        "type": "boolean",
        "description": "When the topic's key is in the stack, require its key policy to allow "
        "events.amazonaws.com kms:Decrypt and kms:GenerateDataKey*.",
        "default": True,
    },
}


def _alias_name(ref: str) -> str | None:
    """``alias/x`` or ``arn:aws:kms:r:a:alias/x`` -> ``alias/x``; a key id or ARN -> None."""
    if ref.startswith("alias/"):
        return ref
    if ref.startswith("arn:") and ":alias/" in ref:
        return "alias/" + ref.split(":alias/", 1)[1]
    return None


def _key_of(ref: str, index: StackIndex) -> PolicyResource | None:
    alias = _alias_name(ref)
    if alias is not None:
        found = index.find(alias, KMS_ALIAS)
        return index.find(get(found.props, "targetKeyId"), KMS_KEY) if found else None
    return index.find(ref, KMS_KEY)


def _allows_events(policy: Any) -> bool | None:
    """Whether a key policy lets EventBridge use the key; ``None`` when unknown."""
    if is_unknown(policy):
        return None
    if not policy:
        return False  # the default key policy names only the account
    document = maybe_json(policy)
    statements = get(document, "Statement")
    if isinstance(statements, dict):
        statements = [statements]
    granted: set[str] = set()
    for statement in items(statements):
        if get(statement, "Effect") != "Allow":
            continue
        services = strings(get(statement, "Principal", "Service"))
        if EVENTS_PRINCIPAL not in services:
            continue
        for action in strings(get(statement, "Action")):
            granted.update(a for a in KEY_ACTIONS if fnmatchcase(a.lower(), action.lower()))
    return set(KEY_ACTIONS) <= granted


def _validate_eventbridge_keys(args: StackValidationArgs, report: ReportViolation) -> None:
    check_policy = settings(args, EVENTBRIDGE_KEY_SCHEMA)["checkKeyPolicy"]
    index = StackIndex(args.resources)
    reported: set[str] = set()
    for target in index.of(EVENT_TARGET):
        topic = index.find(get(target.props, "arn"), TOPIC)
        if topic is None or topic.urn in reported:
            continue
        key = get(topic.props, "kmsMasterKeyId")
        if not isinstance(key, str) or not key or is_unknown(key):
            continue  # unencrypted: sns-topic-encrypted's finding
        if _alias_name(key) == AWS_MANAGED_SNS_KEY:
            reported.add(topic.urn)
            report("EventBridge cannot publish to a topic encrypted with the AWS managed key "
                   "alias/aws/sns (its key policy cannot be changed): the rule's events are "
                   "dropped. Use a customer managed key that allows events.amazonaws.com.",
                   topic.urn)
            continue
        kms_key = _key_of(key, index) if check_policy else None
        if kms_key is not None and _allows_events(get(kms_key.props, "policy")) is False:
            reported.add(topic.urn)
            report(f"EventBridge publishes to this topic, but the key policy of its KMS key "
                   f"({kms_key.urn}) does not allow {EVENTS_PRINCIPAL} kms:Decrypt and "
                   "kms:GenerateDataKey*: the rule's events are dropped.", topic.urn)


sns_eventbridge_topic_key = stack_policy(
    name="sns-eventbridge-topic-key",
    description="SNS topics that EventBridge rules publish to use a KMS key EventBridge may "
    "use (not alias/aws/sns).",
    severity=Severity.MEDIUM,
    remediation_steps="Encrypt the topic with a customer managed aws.kms.Key whose policy "
    "allows Service events.amazonaws.com kms:Decrypt and kms:GenerateDataKey*.",
    # SNS developer guide, "Enable compatibility between event sources from AWS services
    # and encrypted topics".
    url="https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html"
    "#compatibility-with-aws-services",
    validate=_validate_eventbridge_keys,
    config=EVENTBRIDGE_KEY_SCHEMA,
    tags=["patching"],
)


# -- the S3 gateway endpoint lets Patch Manager's buckets through -----------------------------

# "Reference: Amazon S3 buckets for patching operations": patch-baseline-snapshot-<region>
# and aws-patch-manager-<region>-<id>; some regions add a suffix to the first (me-south-1:
# patch-baseline-snapshot-me-south-1-uduvl7q8), so a bucket counts when its name starts
# with the prefix.
BUCKET_PREFIXES = ["patch-baseline-snapshot-{region}", "aws-patch-manager-{region}-"]

S3_SCHEMA = {
    "bucketPrefixes": string_list(
        "Bucket name prefixes Patch Manager reads from ({region} is the endpoint's region); "
        "each must be readable (s3:GetObject) through the endpoint.", BUCKET_PREFIXES),
    "patchDocuments": PATCH_DOCUMENTS_SCHEMA,
}


def endpoint_region(service_name: str) -> str | None:
    """``com.amazonaws.us-east-1.s3`` -> ``us-east-1`` (``cn.com.amazonaws.cn-north-1.s3`` too)."""
    parts = service_name.split(".")
    return parts[-2] if len(parts) >= 3 and parts[-1] == "s3" else None


def _reads_objects_of(statement: Any, prefix: str) -> bool:
    actions = [a.lower() for a in strings(get(statement, "Action"))]
    if not any(fnmatchcase("s3:getobject", a) for a in actions):
        return False
    for resource in strings(get(statement, "Resource")):
        if resource == "*":
            return True
        if ":::" not in resource or "/" not in resource.split(":::", 1)[1]:
            continue  # a bucket ARN: not its objects
        bucket = resource.split(":::", 1)[1].split("/", 1)[0]
        if bucket.startswith(prefix) or fnmatchcase(prefix, bucket):
            return True
    return False


def _missing_prefixes(document: Any, prefixes: list[str]) -> list[str] | None:
    """Prefixes no Allow statement reads; ``None`` when there is no policy to judge."""
    document = maybe_json(document)
    if not isinstance(document, dict):
        return None  # no policy (full access) or not JSON: s3-endpoint-policy-scoped's finding
    statements = get(document, "Statement")
    if isinstance(statements, dict):
        statements = [statements]
    allows = [s for s in items(statements) if get(s, "Effect") == "Allow"]
    return [p for p in prefixes if not any(_reads_objects_of(s, p) for s in allows)]


def _validate_patch_buckets(args: StackValidationArgs, report: ReportViolation) -> None:
    cfg = settings(args, S3_SCHEMA)
    index = StackIndex(args.resources)
    if not stack_patches(index, cfg["patchDocuments"]):
        return
    for endpoint in index.of(ENDPOINT):
        name = get(endpoint.props, "serviceName")
        kind = get(endpoint.props, "vpcEndpointType", default="Gateway")
        if not isinstance(name, str) or kind != "Gateway":
            continue
        region = endpoint_region(name)
        document = get(endpoint.props, "policy")
        if region is None or is_unknown(document):
            continue
        prefixes = [p.replace("{region}", region) for p in cfg["bucketPrefixes"]]
        missing = _missing_prefixes(document, prefixes)
        if missing:
            report("The stack patches, and every S3 request from this gateway endpoint's "
                   "route tables is judged by its policy, which does not allow s3:GetObject "
                   f"on {', '.join(m + '*' for m in missing)}: AWS-RunPatchBaseline cannot "
                   "download its baseline snapshot and modules.", endpoint.urn)


s3_endpoint_allows_patching = stack_policy(
    name="s3-endpoint-allows-patching",
    description="In stacks that patch, S3 gateway endpoint policies allow s3:GetObject on the "
    "region's Patch Manager buckets.",
    severity=Severity.HIGH,
    remediation_steps="Add an Allow statement for s3:GetObject on "
    "arn:aws:s3:::patch-baseline-snapshot-<region>*/* and "
    "arn:aws:s3:::aws-patch-manager-<region>-*/* (or the exact bucket names the user guide "
    "lists for the region) to the gateway endpoint's policy.",
    url=DOC + "patch-operations-s3-buckets.html",
    validate=_validate_patch_buckets,
    config=S3_SCHEMA,
    tags=["patching", "network"],
)

POLICIES = [patch_group_baseline, single_patch_scan_method, maintenance_window_task_limits,
            sns_topic_encrypted, sns_eventbridge_topic_key, s3_endpoint_allows_patching]
