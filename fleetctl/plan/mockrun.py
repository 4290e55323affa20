"""Runs the Pulumi program under the mock runtime and records every registration.

The stock ``MockMonitor`` keeps only URN, id and state. Plans and policy checks need what the
engine sees: parent, dependencies, property dependencies, protect/retain flags, the inputs as
sent (engine names) and the stack outputs. ``RecordingMonitor`` captures those from the
``RegisterResourceRequest`` itself, then defers to the stock monitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import runpy
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import empty_pb2
from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.proto import engine_pb2
from pulumi.runtime.stack import run_in_stack

from fleetctl.plan.mocks import AwsMocks
from fleetctl.project import PROJECT_ROOT, StackSettings, load_stack_settings, region_of

STACK_TYPE = "pulumi:pulumi:Stack"
# How the engine encodes a value not known until apply (pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = rpc.UNKNOWN


@dataclass(slots=True)  # thousands per large fleet: no per-instance __dict__
class RecordedResource:
    """One ``RegisterResource`` call as the engine received it, plus the mock's outputs."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    provider: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


@dataclass
class Recording:
    project: str
    stack: str
    config: dict[str, str]
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    # What the program logged with pulumi.log.warn (the engine would print it).
    warnings: list[str] = field(default_factory=list)

    def by_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def by_urn(self) -> dict[str, RecordedResource]:
        return {r.urn: r for r in self.resources}

    def one(self, type_token: str, name: str) -> RecordedResource:
        matches = [r for r in self.by_type(type_token) if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources of {type_token} named {name}")
        return matches[0]

    @property
    def stack_urn(self) -> str:
        return self.resources[0].urn

    @property
    def region(self) -> str:
        return region_of(self.config)


def _plain(value: Any) -> Any:
    """Makes deserialized property values JSON-friendly.

    Unknowns (only in preview runs) become the engine's wire sentinel ``UNKNOWN``, so that a
    policy pack sees them exactly as ``pulumi preview`` would send them.

    A value that is already plain (dicts, lists and scalars only: nearly every value) comes
    back as the same object, not a copy, so the recording and the stock monitor share it:
    copying every resource's inputs and outputs would double what a large fleet keeps in
    memory and give the garbage collector that much more to scan.
    """
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            plain = _plain(item)
            if plain is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = plain
        return value if changed is None else changed
    if isinstance(value, list):
        items = [_plain(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, pulumi.Resource):
        return None
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return _asset_summary(value)
    return str(value)


def _asset_bytes(asset: pulumi.Asset | pulumi.Archive) -> bytes:
    if isinstance(asset, pulumi.StringAsset):
        return asset.text.encode()
    if isinstance(asset, pulumi.FileAsset | pulumi.FileArchive):
        path = Path(asset.path)
        return path.read_bytes() if path.is_file() else asset.path.encode()
    if isinstance(asset, pulumi.AssetArchive):
        return repr(_asset_summary(asset)).encode()
    return str(getattr(asset, "uri", "")).encode()


def _asset_summary(asset: pulumi.Asset | pulumi.Archive) -> dict[str, Any]:
    """An asset or archive (a Lambda function's code) as a plan can show it and compare it
    between runs: its entries' names and a digest of their contents, not an object repr."""
    if isinstance(asset, pulumi.AssetArchive):
        digest = hashlib.sha256()
        for name in sorted(asset.assets):
            digest.update(name.encode() + b"\0" + _asset_bytes(asset.assets[name]) + b"\0")
        return {"archive": {"entries": len(asset.assets), "sha256": digest.hexdigest()}}
    return {"asset": {"sha256": hashlib.sha256(_asset_bytes(asset)).hexdigest()}}


class _InputCapture(pulumi.runtime.Mocks):
    """Passes the mocks' work on to ``mocks``, keeping each resource's inputs as the stock
    monitor deserialized them for ``new_resource`` (per thread: registrations arrive from
    worker threads), so the recorder need not deserialize every request a second time."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        self.mocks = mocks
        self.last = threading.local()

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.last.inputs = args.inputs
        return self.mocks.new_resource(args)

    def call(self, args: pulumi_mocks.MockCallArgs) -> Any:
        return self.mocks.call(args)

    def register_transform(self, transform: Any) -> None:
        self.mocks.register_transform(transform)

    def register_invoke_transform(self, transform: Any) -> None:
        self.mocks.register_invoke_transform(transform)

    def take_inputs(self) -> dict[str, Any]:
        inputs: dict[str, Any] = getattr(self.last, "inputs", None) or {}
        self.last.inputs = None
        return inputs


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        self.capture = _InputCapture(mocks)
        super().__init__(self.capture)
        self.recorded: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        # The stock monitor gives each worker thread its own event loop and never closes it.
        self._worker_loops: set[asyncio.AbstractEventLoop] = set()

    def _track_worker_loop(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            with contextlib.suppress(RuntimeError):
                self._worker_loops.add(asyncio.get_event_loop())

    def close_worker_loops(self) -> None:
        for loop in self._worker_loops:
            if not loop.is_running() and not loop.is_closed():
                loop.close()
        self._worker_loops.clear()

    def Invoke(self, request: Any) -> Any:
        response = super().Invoke(request)
        self._track_worker_loop()
        return response

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the full parent type chain, the root stack left out.

        (The stock mock keeps only the parent's last type and prefixes the root stack's, so
        its URNs would not match a real stack's and the URN snapshot would be dishonest.)
        """
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        self._track_worker_loop()
        # The stock monitor answers the stack without consulting the mocks: it has no inputs.
        inputs = self.capture.take_inputs() if request.type != STACK_TYPE else {}
        registration = self.resources.get(response.urn)
        # URNs and property names repeat across thousands of resources; protobuf hands out a
        # new string on every read, so keep one copy of each.
        self.recorded.append(
            RecordedResource(
                urn=sys.intern(response.urn),
                type=sys.intern(request.type),
                name=request.name,
                custom=bool(request.custom),
                parent=sys.intern(request.parent) if request.parent else None,
                dependencies=[sys.intern(u) for u in request.dependencies],
                property_dependencies={
                    sys.intern(key): [sys.intern(u) for u in deps.urns]
                    for key, deps in request.propertyDependencies.items()
                },
                inputs=_plain(inputs),
                outputs=_plain(registration.state) if registration else {},
                id=registration.id if registration else None,
                provider=request.provider or None,
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=list(request.ignoreChanges),
                aliases=[a.urn for a in request.aliases if a.urn],
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == STACK_TYPE:  # the root stack's exports
            self.stack_outputs = _plain(rpc.deserialize_properties(request.outputs))
        return empty_pb2.Empty()


class RecordingEngine(pulumi_mocks.MockEngine):
    """The mock engine, keeping the program's warnings for the plan instead of logging them."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fleetctl.engine"))
        self.warnings: list[str] = []

    def Log(self, request: Any) -> None:
        if request.severity == engine_pb2.WARNING:
            self.warnings.append(request.message)
        else:
            super().Log(request)


def _configure_runtime(stack: StackSettings, monitor: RecordingMonitor, preview: bool,
                       engine: RecordingEngine) -> None:
    settings.ROOT.set(None)
    monitor_features = set(monitor.GetDeploymentInfo(empty_pb2.Empty()).supportedFeatures)
    settings.configure(
        pulumi_mocks.MockSettings(
            monitor=monitor,
            monitor_features=monitor_features,
            engine=engine,
            project=stack.project,
            stack=stack.stack,
            dry_run=preview,
            organization="organization",
            callbacks=None,
        )
    )
    set_all_config(dict(stack.config), stack.secret_keys)


def record(
    program: Callable[[], object],
    stack: StackSettings,
    mocks: pulumi.runtime.Mocks | None = None,
    preview: bool = False,
) -> Recording:
    """Runs ``program`` as a Pulumi program of ``stack`` under mocks and records it.

    ``preview=True`` runs as ``pulumi preview`` does: outputs the mocks leave out stay
    unknown and ``apply`` callbacks on them do not run.

    An exception raised by the program propagates once the runtime has drained, carrying
    what was registered before it as ``exc.partial_recording`` (see ``partial_recording``).
    """
    monitor = RecordingMonitor(mocks or AwsMocks(region=stack.region))
    engine = RecordingEngine()
    _configure_runtime(stack, monitor, preview, engine)

    def recording() -> Recording:
        # Registrations arrive from worker threads in no fixed order; sort (root stack first,
        # then by URN) so that two runs of one stack give identical plans.
        resources = sorted(monitor.recorded, key=lambda r: (r.type != STACK_TYPE, r.urn))
        return Recording(
            project=stack.project,
            stack=stack.stack,
            config=dict(stack.config),
            resources=resources,
            outputs=monitor.stack_outputs,
            warnings=list(engine.warnings),
        )

    # One event loop per run, closed with its worker threads and their loops at the end:
    # left to interpreter shutdown, such loops can die noisily ("Exception ignored in
    # BaseEventLoop.__del__") after the CLI has printed its result.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(program))  # type: ignore[arg-type]
    except BaseException as exc:
        exc.partial_recording = recording()  # type: ignore[attr-defined]
        raise
    finally:
        settings.ROOT.set(None)
        loop.run_until_complete(loop.shutdown_default_executor())
        monitor.close_worker_loops()  # their threads have ended: no one reuses them
        loop.close()
        asyncio.set_event_loop(None)
    return recording()


def partial_recording(exc: BaseException) -> Recording | None:
    """What a failed run registered before it failed (None if it never started)."""
    return getattr(exc, "partial_recording", None)


def run_program(
    stack: str | StackSettings,
    project_dir: Path = PROJECT_ROOT,
    overrides: dict[str, Any] | None = None,
    mocks: pulumi.runtime.Mocks | None = None,
    preview: bool = False,
) -> Recording:
    """Runs ``project_dir/__main__.py`` for ``stack`` under mocks; returns what it registered.

    ``overrides`` replace stack config keys (``None`` removes a key).
    """
    stack_settings = (
        stack if isinstance(stack, StackSettings)
        else load_stack_settings(stack, project_dir, overrides)
    )
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    main = str(project_dir / "__main__.py")
    return record(
        lambda: runpy.run_path(main, run_name="__main__"), stack_settings, mocks, preview
    )


__all__ = [
    "UNKNOWN",
    "RecordedResource",
    "Recording",
    "RecordingMonitor",
    "partial_recording",
    "record",
    "run_program",
]
