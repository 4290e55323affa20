"""URN snapshots: a refactor that renames or re-parents a resource replaces it in AWS.

If this fails after a refactor, add ``aliases`` to the moved resources so the old URNs map
to the new ones, or (for a deliberate replacement) regenerate the snapshot with
``UPDATE_URN_SNAPSHOTS=1 pytest tests/test_urn_snapshot.py`` and say why in the commit.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fleetctl.plan.mockrun import Recording

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_urns_match_snapshot(stack: str, request: pytest.FixtureRequest) -> None:
    rec: Recording = request.getfixturevalue(stack)
    # A resource whose aliases cover an old URN keeps that URN's identity.
    current = {r.urn for r in rec.resources} | {a for r in rec.resources for a in r.aliases}
    path = SNAPSHOTS / f"urns-{stack}.txt"
    if os.environ.get("UPDATE_URN_SNAPSHOTS") == "1":
        path.write_text("".join(f"{urn}\n" for urn in sorted(r.urn for r in rec.resources)))
    expected = set(path.read_text().split())
    missing = sorted(expected - current)
    assert not missing, "resources would be replaced (add aliases):\n" + "\n".join(missing)
    added = sorted({r.urn for r in rec.resources} - expected)
    assert not added, "new resources: regenerate the snapshot if intended:\n" + "\n".join(added)
