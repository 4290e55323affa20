"""Policies for Pulumi programs that deploy Systems Manager managed EC2 fleets.

Importable without starting a server (``PolicyPack`` blocks), so tests and tools can use
the policies directly; ``policy/__main__.py`` builds the pack from ``POLICIES``.
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import autoscaling, compute, functions, iam, inventory, network, patching, reporting, s3, tags
from ._base import PACK_NAME

POLICIES: list[Policy] = [
    *tags.POLICIES,
    *compute.POLICIES,
    *iam.POLICIES,
    *network.POLICIES,
    *inventory.POLICIES,
    *autoscaling.POLICIES,
    *s3.POLICIES,
    *patching.POLICIES,
    *reporting.POLICIES,
    *functions.POLICIES,
]

__all__ = ["PACK_NAME", "POLICIES"]
