"""The program under preview semantics: computed outputs unknown, as in a first `pulumi preview`.

Assertion tests run in update mode (every output resolves); this one makes sure nothing in the
program needs a computed value to be known to register its resources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from fleetctl.plan.analyzer_client import check_recording, load_config_file, mandatory
from fleetctl.plan.mockrun import UNKNOWN, Recording, run_program
from fleetctl.plan.mocks import AwsMocks


class UnknownOutputsMocks(AwsMocks):
    """What a first preview plans: the inputs echoed back, the id and every computed output
    (ARNs, names, prefix lists) unknown."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return "", dict(args.inputs)


def preview_of(stack: str) -> Recording:
    return run_program(stack, mocks=UnknownOutputsMocks(region="us-east-1"), preview=True)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_program_previews_with_unknown_outputs(stack: str, request: pytest.FixtureRequest) -> None:
    full: Recording = request.getfixturevalue(stack)
    preview = preview_of(stack)
    # Same resources, same URNs, same parents: nothing is skipped or moved in a preview.
    assert [(r.urn, r.parent) for r in preview.resources] == [(r.urn, r.parent) for r in full.resources]
    # Inputs built from computed values are unknown rather than wrong.
    instance = preview.by_type("aws:ec2/instance:Instance")[0]
    assert instance.inputs["iamInstanceProfile"] == UNKNOWN
    assert instance.inputs["metadataOptions"]["httpTokens"] == "required"


def test_preview_passes_the_prod_policy_pack() -> None:
    """Unknown values during preview are not violations (the pack cannot tell yet)."""
    config = load_config_file(Path(__file__).parent.parent / "policy" / "config" / "prod.json")
    diagnostics = check_recording(preview_of("prod"), config)
    assert mandatory(diagnostics) == [], [(d.policy_name, d.urn, d.message) for d in diagnostics]


def test_runs_leave_no_open_worker_event_loops() -> None:
    """Worker-thread loops of the mock runtime are closed after each run, not left to
    interpreter shutdown (where their finalizers could print tracebacks after the CLI's
    result)."""
    import asyncio
    import gc

    run_program("dev")
    gc.collect()
    loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
    assert [loop for loop in loops if not loop.is_closed()] == []
