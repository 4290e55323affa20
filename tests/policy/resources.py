"""A minimal stand-in for ``fleetctl.plan.mockrun.RecordedResource`` for protocol tests that
build resources by hand (the e2e tests use real recordings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Res:
    type: str
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    custom: bool = True
    parent: str | None = "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t"
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    id: str | None = None
    provider: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @property
    def urn(self) -> str:
        return f"urn:pulumi:t::p::{self.type}::{self.name}"

    def __post_init__(self) -> None:
        if not self.outputs:
            # Under mocks outputs echo inputs; tests mostly want the same here.
            self.outputs = {**self.inputs, "id": self.id or f"{self.name}-id"}
