"""The pack over the Analyzer gRPC protocol, started exactly as the engine starts it."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from fleetctl.plan.analyzer_client import (
    DEFAULT_PACK_DIR,
    PolicyPackError,
    PolicyPackServer,
    load_config_file,
    reconcile_config,
)
from tests.policy.resources import Res

PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
INSTANCE = "aws:ec2/instance:Instance"
STACK_POLICIES = {"instance-role-ssm-core", "private-subnet-ssm-endpoints",
                  "endpoint-sg-allows-https", "single-inventory-association",
                  "s3-bucket-hardening", "patch-group-baseline", "single-patch-scan-method",
                  "sns-eventbridge-topic-key", "s3-endpoint-allows-patching",
                  "autoscaling-propagates-inventory-tags", "one-sync-per-account-region",
                  "lambda-log-group-retention", "lambda-role-no-wildcard-actions"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
TAGS = {"Environment": "OELabIPM", "Workload": "Test", "InstanceRole": "WebServer",
        "Patch Group": "Critical",
        "AmiSsmParameter": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"}


def instance(name: str = "web1", **changes: object) -> Res:
    inputs = {
        "ami": "ami-1", "instanceType": "t3.micro", "iamInstanceProfile": "profile-1",
        "subnetId": "subnet-1", "associatePublicIpAddress": False, "tags": dict(TAGS),
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "rootBlockDevice": {"encrypted": True},
    }
    inputs.update(changes)
    return Res(INSTANCE, name, {k: v for k, v in inputs.items() if v is not None})


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackServer]:
    with PolicyPackServer(PACK_DIR) as server:
        yield server


def test_the_default_pack_is_the_repos_policy_directory() -> None:
    """``PolicyPackServer()`` without a directory runs ``policy/`` (the client's own path
    decides it, so moving the module must not move the default)."""
    assert DEFAULT_PACK_DIR == PACK_DIR
    assert (DEFAULT_PACK_DIR / "PulumiPolicy.yaml").is_file()


def test_analyzer_info_describes_every_policy(pack: PolicyPackServer) -> None:
    info = pack.info()
    assert info.name == "ssm-fleet-guard" and info.supports_config
    assert len(info.policies) == 33
    for policy in info.policies:
        assert policy.description and policy.remediation_steps, policy.name
        assert policy.url.startswith("https://docs.aws.amazon.com/"), policy.name
        assert policy.severity in ("low", "medium", "high", "critical"), policy.name
    assert {p.name for p in info.policies if p.policy_type == "stack"} == STACK_POLICIES
    assert info.policy("allowed-tag-values").enforcement_level == "advisory"
    assert info.policy("ec2-imdsv2-required").config_schema["maxHopLimit"]["default"] == 1


def test_engine_gets_config_with_schema_defaults(pack: PolicyPackServer) -> None:
    effective = pack.effective_config
    assert effective["required-tags"].properties["requiredTags"] == ["Environment", "Workload"]
    assert effective["sg-no-world-ingress"].enforcement_level == "mandatory"


def test_analyze_compliant_instance(pack: PolicyPackServer) -> None:
    assert pack.analyze(instance()) == []


def test_analyze_reports_policy_level_and_urn(pack: PolicyPackServer) -> None:
    resource = instance(metadataOptions={"httpTokens": "optional",
                                         "httpPutResponseHopLimit": 1})
    [diagnostic] = pack.analyze(resource)
    assert diagnostic.policy_name == "ec2-imdsv2-required"
    assert diagnostic.pack_name == "ssm-fleet-guard"
    assert diagnostic.enforcement_level == "mandatory"
    assert diagnostic.severity == "high"
    assert diagnostic.urn == resource.urn
    assert "httpTokens is optional" in diagnostic.message


def test_analyze_several_violations(pack: PolicyPackServer) -> None:
    resource = instance(associatePublicIpAddress=True, keyName="lab", iamInstanceProfile=None)
    names = {d.policy_name for d in pack.analyze(resource)}
    assert names == {"ec2-no-public-ip", "ec2-no-key-pair", "instance-has-profile"}


def test_unknowns_during_preview_give_no_noise(pack: PolicyPackServer) -> None:
    resource = instance(tags=UNKNOWN, metadataOptions=UNKNOWN, iamInstanceProfile=UNKNOWN,
                        rootBlockDevice={"encrypted": UNKNOWN}, ami=UNKNOWN)
    assert pack.analyze(resource) == []


def test_provider_default_tags_reach_the_policy(pack: PolicyPackServer) -> None:
    provider = Res("pulumi:providers:aws", "tagged", {
        "region": "us-east-1",
        "defaultTags": {"tags": {"Environment": "OELabIPM", "Workload": "Test"}}})
    vpc = Res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"},
              provider=f"{provider.urn}::provider-id")
    assert [d.policy_name for d in pack.analyze(vpc)] == ["required-tags"]
    pack.register_providers([provider])
    assert pack.analyze(vpc) == []


def test_analyze_stack_attributes_violations_to_resources(pack: PolicyPackServer) -> None:
    vpc = Res("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, id="vpc-1")
    subnet = Res("aws:ec2/subnet:Subnet", "private", {"vpcId": "vpc-1"}, id="subnet-1",
                 dependencies=[vpc.urn], property_dependencies={"vpcId": [vpc.urn]})
    web = instance()
    web.dependencies = [subnet.urn]
    web.property_dependencies = {"subnetId": [subnet.urn]}
    diagnostics = pack.analyze_stack([vpc, subnet, web])
    by_policy = {d.policy_name: d for d in diagnostics}
    assert set(by_policy) == {"private-subnet-ssm-endpoints", "instance-role-ssm-core"}
    endpoints = by_policy["private-subnet-ssm-endpoints"]
    assert endpoints.urn == web.urn and endpoints.enforcement_level == "mandatory"
    assert "no interface endpoint for ssm" in endpoints.message


def test_config_sets_levels_disables_and_passes_properties() -> None:
    config = {
        "all": "advisory",
        "ec2-no-public-ip": "mandatory",
        "ec2-no-key-pair": {"allowKeyPair": True},
        "instance-has-profile": "disabled",
    }
    resource = instance(associatePublicIpAddress=True, keyName="lab", iamInstanceProfile=None,
                        rootBlockDevice={"encrypted": False})
    with PolicyPackServer(PACK_DIR, config) as server:
        levels = {d.policy_name: d.enforcement_level for d in server.analyze(resource)}
    assert levels == {"ec2-no-public-ip": "mandatory", "ebs-encrypted": "advisory"}


def test_remediation_over_the_wire_keeps_secrets_secret() -> None:
    resource = instance(metadataOptions={"httpTokens": "optional"},
                        userData={**SECRET_SIG, "value": "#!/bin/bash\necho hi"})
    with PolicyPackServer(PACK_DIR, {"ec2-imdsv2-required": "remediate"}) as server:
        [remediation] = server.remediate(resource)
        assert remediation.policy_name == "ec2-imdsv2-required"
        fixed = remediation.properties
        assert fixed is not None
        assert fixed["metadataOptions"] == {"httpTokens": "required",
                                            "httpPutResponseHopLimit": 1.0}
        assert fixed["userData"] == {**SECRET_SIG, "value": "#!/bin/bash\necho hi"}
        assert fixed["tags"] == TAGS
        # The engine analyzes the remediated inputs: nothing left to report.
        assert server.analyze(resource, properties=fixed) == []
        # A compliant resource needs no remediation.
        assert server.remediate(instance()) == []


def test_shipped_config_files_are_valid_and_name_real_policies(pack: PolicyPackServer) -> None:
    names = {p.name for p in pack.info().policies} | {"all"}
    for env, expected in (("dev", "advisory"), ("prod", "mandatory")):
        config = load_config_file(PACK_DIR / "config" / f"{env}.json")
        assert set(config) <= names, env
        effective = reconcile_config(pack.info(), config)
        assert effective["required-tags"].enforcement_level == expected
        assert effective["sg-no-world-ingress"].enforcement_level == "mandatory"
    dev = reconcile_config(pack.info(), load_config_file(PACK_DIR / "config" / "dev.json"))
    assert dev["ec2-imdsv2-required"].enforcement_level == "remediate"
    prod = reconcile_config(pack.info(), load_config_file(PACK_DIR / "config" / "prod.json"))
    # Everything blocks in prod but the advice that an AMI's OS cannot be told (a bare id
    # from aws.ec2.get_ami is not known to be unsupported).
    assert {n for n, e in prod.items() if e.enforcement_level != "mandatory"} == {"ami-os-identifiable"}
    assert prod["ami-os-identifiable"].enforcement_level == "advisory"
    assert dev["ami-os-identifiable"].enforcement_level == "advisory"


@pytest.mark.parametrize("config, fragment", [
    ({"ec2-imdsv2-required": {"maxHopLimit": "one"}}, "expected integer"),
    ({"ec2-imdsv2-required": {"maxHopLimit": 0}}, "minimum"),
    ({"required-tags": {"requiredTags": "Environment"}}, "expected array"),
    ({"required-tags": "sometimes"}, "not a valid enforcement level"),
])
def test_invalid_config_is_refused(pack: PolicyPackServer, config: dict, fragment: str) -> None:
    with pytest.raises(PolicyPackError, match=fragment):
        reconcile_config(pack.info(), config)


def test_pack_serves_with_an_unreachable_engine_address() -> None:
    """The CLI's exact command line, with a dummy engine: the pack must still serve."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(PACK_DIR)],
        cwd=PACK_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(
                empty_pb2.Empty(), timeout=30)
        assert info.name == "ssm-fleet-guard"
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_start_failure_is_reported(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(PolicyPackError, match="did not start"):
        PolicyPackServer(tmp_path, start_timeout=30).start()


def test_pack_needs_only_its_own_requirements() -> None:
    """The CLI installs policy/requirements.txt alone: the pack may import nothing else."""
    allowed = {"pulumi_policy", "pulumi", "grpc", "google", "ssm_policies"}
    requirements = (PACK_DIR / "requirements.txt").read_text()
    assert "pulumi-policy" in requirements
    for path in PACK_DIR.rglob("*.py"):
        if "scripts" in path.parts or "venv" in path.parts:
            continue  # dev-time generator, run with the project venv
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, f"{path}: {module}"


def test_readme_table_matches_the_pack(pack: PolicyPackServer) -> None:
    """Every policy has a row whose kind, severity and levels are what the pack does."""
    rows = {}
    for line in (PACK_DIR / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:6]
    info = pack.info()
    dev = reconcile_config(info, load_config_file(PACK_DIR / "config" / "dev.json"))
    prod = reconcile_config(info, load_config_file(PACK_DIR / "config" / "prod.json"))
    assert set(rows) == {p.name for p in info.policies}
    for policy in info.policies:
        assert rows[policy.name] == [
            policy.policy_type, policy.severity, policy.enforcement_level,
            dev[policy.name].enforcement_level, prod[policy.name].enforcement_level,
        ], policy.name
