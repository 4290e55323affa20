"""Helpers for the policy unit tests.

Unit tests call a policy's ``validate`` in-process with args built the way the SDK's
analyzer builds them (props deserialized and wrapped in the unknown-checking proxy), so an
unknown value behaves as it does during ``pulumi preview``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policy"
for path in (str(ROOT), str(PACK_DIR)):
    if path not in sys.path:
        sys.path.insert(0, path)

from pulumi_policy import (  # noqa: E402
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties  # noqa: E402
from pulumi_policy.proxy import unknown_checking_proxy  # noqa: E402

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-string sentinel
UNKNOWN_OBJECT = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
UNKNOWN_ARRAY = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"


def _props(props: Mapping[str, Any]) -> Any:
    return unknown_checking_proxy(deserialize_properties(dict(props)))


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def resource_args(
    type_: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    name: str = "r",
    provider_props: Mapping[str, Any] | None = None,
) -> ResourceValidationArgs:
    provider = None
    if provider_props is not None:
        provider = PolicyProviderResource(
            "pulumi:providers:aws", _props(provider_props),
            "urn:pulumi:t::p::pulumi:providers:aws::p", "p")
    return ResourceValidationArgs(
        type_, _props(props), f"urn:pulumi:t::p::{type_}::{name}", name, _opts(), provider,
        dict(config) if config else None,
    )


def violations(
    policy: Any,
    type_: str,
    props: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    provider_props: Mapping[str, Any] | None = None,
) -> list[str]:
    """The messages a resource policy reports for one resource."""
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    args = resource_args(type_, props, config, provider_props=provider_props)
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:t::p::{type_}::{name}"


def stack_violations(
    policy: Any,
    resources: list[tuple[str, str, Mapping[str, Any]]],
    config: Mapping[str, Any] | None = None,
) -> list[tuple[str | None, str]]:
    """(urn, message) pairs a stack policy reports for (type, name, outputs) triples."""
    assert isinstance(policy, StackValidationPolicy)
    stack = [
        PolicyResource(t, _props(p), urn(t, n), n, _opts(), None, None, [], {})
        for t, n, p in resources
    ]
    found: list[tuple[str | None, str]] = []
    args = StackValidationArgs(stack, dict(config) if config else None)
    policy.validate(args, lambda message, urn=None: found.append((urn, message)))
    return found
