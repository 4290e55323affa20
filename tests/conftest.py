"""Shared fixtures: the dev and prod stacks recorded once per session under mocks."""

from __future__ import annotations

import importlib
import keyword
from typing import Any

import pytest

from fleetctl.plan.mockrun import RecordedResource, Recording, run_program


@pytest.fixture(scope="session")
def dev() -> Recording:
    return run_program("dev")


@pytest.fixture(scope="session")
def prod() -> Recording:
    return run_program("prod")


def resource_class(type_token: str) -> type | None:
    """The pulumi_aws class for an engine type token (``aws:ec2/vpc:Vpc`` -> ``aws.ec2.Vpc``)."""
    package, rest = type_token.split(":", 1)
    if package != "aws":
        return None
    module_path, class_name = rest.split(":")
    module_name = module_path.split("/")[0]
    # Modules named after a Python keyword take a trailing underscore (pulumi_aws.lambda_).
    suffix = "_" if keyword.iskeyword(module_name) else ""
    module = importlib.import_module(f"pulumi_aws.{module_name}{suffix}")
    return getattr(module, class_name, None)


def is_taggable(resource: RecordedResource) -> bool:
    """True when the resource type accepts a ``tags`` input (asked of the SDK, not a list)."""
    cls = resource_class(resource.type)
    return cls is not None and isinstance(getattr(cls, "tags", None), property)


def tags_of(resource: RecordedResource) -> dict[str, Any]:
    return dict(resource.inputs.get("tags") or {})
