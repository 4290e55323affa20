"""The plan's hot path (issue 8's performance work) keeps its output exactly as before:
the streamed JSON is ``json.dumps(indent=2)`` text, the recorder shares plain values instead of
copying them but still converts what is not plain, and ``fleetctl plan`` loads no boto3."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from fleetctl.plan import command
from fleetctl.plan.command import json_text
from fleetctl.plan.mockrun import UNKNOWN, _plain

from .conftest import ROOT, plan_in_process

EDGE_CASES: dict[str, Any] = {
    "empty": {"dict": {}, "list": [], "nested": [{}, [], [[]]]},
    "scalars": [0, -1, 2**70, 1.0, 0.1, 1e300, -0.0, True, False, None],
    "text": ["", "plain", "quote \" backslash \\ tab \t newline \n", "Ünïcødé ☃ 𝄞", "\x00\x1f"],
    "special floats": [float("nan"), float("inf"), -float("inf")],
}


@pytest.mark.parametrize("batch", [1, 7, 4096])
def test_json_text_is_json_dumps_indent_2(batch: int) -> None:
    text = "".join(json_text(EDGE_CASES, batch=batch))
    assert text == json.dumps(EDGE_CASES, indent=2) + "\n"


def test_plan_json_is_byte_for_byte_json_dumps_of_its_document(
    dev_plan: tuple[int, dict[str, Any]],
) -> None:
    """What the CLI prints is exactly ``json.dumps(document, indent=2)`` (key order kept by
    ``json.loads``), as it was before the output was streamed."""
    code, out = plan_in_process("--stack", "prod", "--json", "--no-policy")
    assert code == 0
    assert out == json.dumps(json.loads(out), indent=2) + "\n"
    _, dev = dev_plan
    assert "".join(json_text(dev)) == json.dumps(dev, indent=2) + "\n"


def test_plain_returns_plain_values_themselves_not_copies() -> None:
    value = {"tags": {"Name": "a"}, "ids": ["x", "y"], "n": 1.0, "on": True, "none": None}
    assert _plain(value) is value
    assert _plain(value["ids"]) is value["ids"]


def test_plain_still_converts_what_is_not_json() -> None:
    shared = {"Name": "a"}
    value = {"tags": shared, "pair": ("a", "b"), "later": Unknown(), "deep": [{"x": Unknown()}]}
    plain = _plain(value)
    assert plain == {"tags": {"Name": "a"}, "pair": ["a", "b"], "later": UNKNOWN,
                     "deep": [{"x": UNKNOWN}]}
    assert plain is not value and plain["tags"] is shared  # only the changed parts are new
    assert isinstance(value["later"], Unknown)  # the input itself is left alone
    resource = pulumi.ComponentResource.__new__(pulumi.ComponentResource)
    assert _plain({"ref": resource}) == {"ref": None}


def test_plan_imports_neither_boto3_nor_rich_for_json() -> None:
    """boto3 is for the fleet checks; importing it made every plan ~0.3 s slower."""
    script = (
        "import sys\n"
        "from fleetctl.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in ('boto3', 'botocore', 'rich') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_plan_is_built_with_the_run_heap_frozen_and_leaves_it_unfrozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The critical path, policy and output run with the mock run's objects frozen (no full
    collections rescanning them); the freeze does not outlive the command, even when it fails."""
    frozen_while_reporting: list[int] = []

    def report(*args: Any) -> int:
        frozen_while_reporting.append(gc.get_freeze_count())
        raise RuntimeError("report failed")

    monkeypatch.setattr(command, "_report", report)
    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError, match="report failed"):
        plan_in_process("--stack", "dev", "--no-policy", "--json")
    assert frozen_while_reporting and frozen_while_reporting[0] > before
    assert gc.get_freeze_count() == before


def test_survivors_of_a_full_collection_are_frozen_inside_and_unfrozen_after() -> None:
    """fleetctl.plan.heap: a full collection inside the block freezes what survived it (later
    full collections skip it); leaving the block unfreezes it and removes the callback."""
    from fleetctl.plan.heap import survivors_frozen

    before = gc.get_freeze_count()
    callbacks = list(gc.callbacks)
    with survivors_frozen():
        survivor = [object()]
        gc.collect(1)
        assert gc.get_freeze_count() == before  # a younger collection freezes nothing
        assert any(o is survivor for o in gc.get_objects())
        gc.collect(2)
        assert gc.get_freeze_count() > before
        assert not any(o is survivor for o in gc.get_objects())  # frozen: out of every scan
    assert gc.get_freeze_count() == 0
    assert gc.callbacks == callbacks


def test_young_garbage_cycles_are_still_collected_inside_survivors_frozen() -> None:
    """Freezing survivors must not leak the run's garbage: cycles built after a full
    collection are freed by the next one."""
    import weakref

    from fleetctl.plan.heap import survivors_frozen

    class Node:
        pass

    with survivors_frozen():
        gc.collect(2)
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        alive = weakref.ref(node)
        del node
        gc.collect(2)
        assert alive() is None


def test_a_plan_process_exits_with_the_heap_frozen() -> None:
    """The interpreter's last full collections would scan the whole plan's heap (seconds at
    thousands of instances) for nothing: ``fleetctl plan`` freezes it at exit. An exit
    handler registered before the plan runs after the plan's own and sees the freeze."""
    script = (
        "import atexit, gc, io, contextlib\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "from fleetctl.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['plan', '--stack', 'dev', '--no-policy', '--json'])\n"
        "print('code', code, 'frozen after plan:', gc.get_freeze_count() > 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=300)
    assert proc.stdout.split("\n")[:2] == ["code 0 frozen after plan: False",
                                            "frozen at exit: True"]
