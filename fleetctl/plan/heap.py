"""How a plan keeps Python's garbage collector from rescanning the mock run's heap.

A mock run of N instances builds about 800 objects per instance (the SDK's ``Output``s,
tasks, futures, then the recording) and keeps nearly all of them until the plan is printed.
Python 3.11 runs a full collection each time the heap has grown by a quarter since the last
one, and each full collection scans every tracked object: over a 3,000-instance plan, 18 of
them took 18-20 s of a 50 s process to free about a thousand objects. Then the interpreter,
exiting, ran full collections over the whole heap once more (3 s), to find nothing.

Objects that have survived a full collection are the run's long-lived state: here they are
frozen (``gc.freeze``: left out of every later collection, still freed by reference counting)
so the next full collection scans only what was built since. Younger objects, where the
run's garbage cycles are (millions of them), are collected as usual.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
from collections.abc import Iterator
from typing import Any


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    # Right after a full collection the younger generations are empty: what is tracked
    # now is exactly what survived it.
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


@contextlib.contextmanager
def survivors_frozen() -> Iterator[None]:
    """Inside: each full collection's survivors are frozen. On leaving, everything is
    unfrozen again (callers that stay alive, such as tests, get their collector back)."""
    gc.callbacks.append(_freeze_survivors)
    try:
        yield
    finally:
        gc.callbacks.remove(_freeze_survivors)
        gc.unfreeze()


def freeze_at_exit() -> None:
    """When the interpreter exits, freeze the heap first: its final full collections would
    otherwise scan the whole plan's heap (3 s at 3,000 instances) for garbage that is freed
    with the process anyway. Registered once however often it is called."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
