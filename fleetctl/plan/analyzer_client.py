"""Runs a CrossGuard policy pack the way the Pulumi engine does, without the CLI.

The engine starts a Python pack as ``python -u -m pulumi.policy <engine> <pack-dir>`` from
the pack's directory, reads the port the pack prints first on stdout, then speaks the
Analyzer gRPC service: ``GetAnalyzerInfo``, ``Configure`` (config reconciled with the
schema defaults), ``ConfigureStack``, ``Analyze`` per resource (inputs), ``AnalyzeStack``
once (outputs), ``Remediate`` before ``Analyze`` for remediation policies.

``PolicyPackServer`` does exactly that against a tiny in-process Engine service, so the
protocol tests, the offline plan (``check_recording``) and the benchmark all exercise the
pack as the CLI would, offline.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

# The repo's pack: this file is fleetctl/plan/analyzer_client.py, two packages below the root.
DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policy"
_MAX_MESSAGE = 400 * 1024 * 1024  # the SDK's own limit; big stacks exceed gRPC's 4 MB default
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
LEVELS = ("advisory", "mandatory", "remediate", "disabled")


class PolicyPackError(Exception):
    """The pack did not start, or its configuration is invalid."""


class AnalyzedResource(Protocol):
    """What the client needs of a resource (``fleetctl.plan.mockrun.RecordedResource`` fits)."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    id: str | None
    provider: str | None
    protect: bool
    delete_before_replace: bool
    ignore_changes: list[str]
    aliases: list[str]


@dataclass(frozen=True)
class Diagnostic:
    policy_name: str
    pack_name: str
    enforcement_level: str  # advisory | mandatory | remediate | disabled
    urn: str
    message: str
    description: str
    severity: str = ""  # low | medium | high | critical, or "" when unspecified
    pack_version: str = ""


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    policy_type: str  # resource | stack
    severity: str
    config_schema: dict[str, Any]
    required_config: list[str]
    remediation_steps: str
    url: str
    display_name: str = ""


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    display_name: str
    description: str
    supports_config: bool
    initial_config: dict[str, dict[str, Any]]
    policies: list[PolicyInfo]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)


@dataclass(frozen=True)
class Remediation:
    policy_name: str
    pack_name: str
    description: str
    properties: dict[str, Any] | None
    diagnostic: str


@dataclass
class EffectivePolicyConfig:
    enforcement_level: str
    properties: dict[str, Any] = field(default_factory=dict)


# -- config, as the engine reconciles it --------------------------------------------------------

def load_config_file(path: str | Path) -> dict[str, Any]:
    """Reads a ``--policy-pack-config`` JSON file."""
    text = Path(path).read_text(encoding="utf-8")
    data = json.loads(text) if text.strip() else {}
    if not isinstance(data, dict):
        raise PolicyPackError(f"{path}: the policy pack config must be a JSON object")
    return data


def _split_entry(key: str, value: Any) -> tuple[str | None, dict[str, Any]]:
    """A config entry is a level string or an object with an optional enforcementLevel."""
    if isinstance(value, str):
        level, props = value, {}
    elif isinstance(value, dict):
        props = dict(value)
        level = props.pop("enforcementLevel", None)
    else:
        raise PolicyPackError(f"{key}: {value!r} must be a string or an object")
    if level is not None and level not in LEVELS:
        raise PolicyPackError(f"{key}: {level!r} is not a valid enforcement level")
    return level, props


def _apply(result: dict[str, EffectivePolicyConfig], config: Mapping[str, Any]) -> None:
    all_level, _ = _split_entry("all", config["all"]) if "all" in config else (None, {})
    if all_level:
        for entry in result.values():
            entry.enforcement_level = all_level
    for key, value in config.items():
        if key == "all":
            continue
        level, props = _split_entry(key, value)
        entry = result.setdefault(key, EffectivePolicyConfig(level or "advisory"))
        if level:
            entry.enforcement_level = level
        entry.properties.update(props)


def _schema_errors(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    """A small JSON-schema subset (the keywords the pack's schemas use)."""
    kinds: dict[str, type | tuple[type, ...]] = {
        "string": str, "boolean": bool, "object": dict, "array": list, "number": (int, float)}
    kind = schema.get("type")
    if kind == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    elif kind in kinds:
        ok = isinstance(value, kinds[kind]) and not (kind == "number" and isinstance(value, bool))
    else:
        ok = True
    if not ok:
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} > maximum {schema['maximum']}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += _schema_errors(item, schema["items"], f"{where}[{i}]")
    if isinstance(value, dict):
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                errors += _schema_errors(item, sub, f"{where}.{key}")
    return errors


def reconcile_config(
    info: PackInfo, config: Mapping[str, Any] | None = None
) -> dict[str, EffectivePolicyConfig]:
    """Schema defaults, then the pack's initial config, then ``config`` (``all`` first),
    validated against each policy's schema: the engine's ``ReconcilePolicyPackConfig``."""
    result = {
        p.name: EffectivePolicyConfig(
            p.enforcement_level,
            {k: s["default"] for k, s in p.config_schema.items() if "default" in s},
        )
        for p in info.policies
    }
    _apply(result, info.initial_config)
    if config:
        _apply(result, config)
    errors: list[str] = []
    for policy in info.policies:
        props = result[policy.name].properties
        errors += [f"{policy.name}: {k} is required"
                   for k in policy.required_config if k not in props]
        schema = {"type": "object", "properties": policy.config_schema}
        errors += _schema_errors(props, schema, policy.name)
    if errors:
        raise PolicyPackError("policy pack configuration is invalid: " + "; ".join(errors))
    return result


# -- a stand-in for the engine's own gRPC service -----------------------------------------------

class _FakeEngine(engine_pb2_grpc.EngineServicer):
    """Collects what the pack logs; the real engine prints it."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.logs.append(request.message)
        return empty_pb2.Empty()


# -- protobuf conversions -----------------------------------------------------------------------

def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(dict(values))
    return result


def _level_name(value: int) -> str:
    return str(analyzer_pb2.EnforcementLevel.Name(value)).lower()


def _level_value(name: str) -> Any:
    return analyzer_pb2.EnforcementLevel.Value(name.upper())


def _severity_name(value: int) -> str:
    name = str(analyzer_pb2.PolicySeverity.Name(value))
    return "" if name.endswith("UNSPECIFIED") else name.removeprefix("POLICY_SEVERITY_").lower()


def _diagnostics(response: Any) -> list[Diagnostic]:
    return [
        Diagnostic(
            policy_name=d.policyName,
            pack_name=d.policyPackName,
            enforcement_level=_level_name(d.enforcementLevel),
            urn=d.urn,
            message=d.message,
            description=d.description,
            severity=_severity_name(d.severity),
            pack_version=d.policyPackVersion,
        )
        for d in response.diagnostics
    ]


def _options(resource: AnalyzedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=resource.delete_before_replace,
        deleteBeforeReplaceDefined=True,
        aliases=list(resource.aliases),
        parent=resource.parent or "",
    )


def _provider_urn(reference: str | None) -> str | None:
    """Provider references are ``<urn>::<id>``."""
    return reference.rsplit("::", 1)[0] if reference else None


def _stack_properties(resource: AnalyzedResource) -> dict[str, Any]:
    # Bridged AWS providers report ``id`` among the outputs; keep that if the recorder
    # kept it apart.
    outputs = dict(resource.outputs)
    if resource.id and "id" not in outputs and resource.custom:
        outputs["id"] = resource.id
    return outputs


# -- the server ---------------------------------------------------------------------------------

class PolicyPackServer:
    """A policy pack process started as the engine starts it, plus a client for it.

    Use as a context manager::

        with PolicyPackServer(config=load_config_file("policy/config/prod.json")) as pack:
            diagnostics = pack.analyze(resource)
    """

    def __init__(
        self,
        pack_dir: Path = DEFAULT_PACK_DIR,
        config: Mapping[str, Any] | None = None,
        python: str = sys.executable,
        *,
        project: str | None = None,
        stack: str | None = None,
        dry_run: bool = True,
        stack_tags: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.config = dict(config) if config else None
        self.python = python
        self.project, self.stack, self.dry_run = project, stack, dry_run
        self.stack_tags = dict(stack_tags or {})
        self.start_timeout = start_timeout
        self.effective_config: dict[str, EffectivePolicyConfig] = {}
        self._engine = _FakeEngine()
        self._engine_server: grpc.Server | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: PackInfo | None = None
        self._providers: dict[str, AnalyzedResource] = {}

    # lifecycle ---------------------------------------------------------------------------------
    def __enter__(self) -> PolicyPackServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def engine_logs(self) -> list[str]:
        return list(self._engine.logs)

    def start(self) -> None:
        self._engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine, self._engine_server)
        engine_port = self._engine_server.add_insecure_port("127.0.0.1:0")
        self._engine_server.start()

        env = dict(os.environ)
        if self.project and self.stack:
            # The engine hands packs the project/stack the way it hands them to programs.
            env.update(PULUMI_PROJECT=self.project, PULUMI_STACK=self.stack,
                       PULUMI_DRY_RUN="true" if self.dry_run else "false")
        # Lives as long as the pack process; closed in stop().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", f"127.0.0.1:{engine_port}",
             str(self.pack_dir)],
            cwd=self.pack_dir, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
        )
        try:
            port = self._read_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout)
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
            self._configure()
        except BaseException:
            self.stop()
            raise

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=self.start_timeout)
        except queue.Empty:
            raise PolicyPackError(f"the pack printed no port within {self.start_timeout}s: "
                                  f"{self.stderr_text()}") from None
        try:
            return int(first.strip())
        except ValueError:
            raise PolicyPackError(f"the pack did not start ({first!r}): "
                                  f"{self.stderr_text()}") from None

    def stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._engine_server is not None:
            self._engine_server.stop(None)
            self._engine_server = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # the Analyzer calls ------------------------------------------------------------------------
    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise PolicyPackError("the pack is not running (use `with PolicyPackServer(...)`)")
        return self._stub

    def _configure(self) -> None:
        info = self.info()
        if info.supports_config:
            self.effective_config = reconcile_config(info, self.config)
            request = analyzer_pb2.ConfigureAnalyzerRequest()
            for name, entry in self.effective_config.items():
                request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
                    enforcementLevel=_level_value(entry.enforcement_level),
                    properties=_struct(entry.properties),
                ))
            self.stub.Configure(request)
        if self.stack:
            self.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack, project=self.project or "", organization="organization",
                dry_run=self.dry_run, tags=self.stack_tags,
            ))

    def info(self) -> PackInfo:
        if self._info is None:
            raw = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
            self._info = PackInfo(
                name=raw.name,
                version=raw.version,
                display_name=raw.displayName,
                description=raw.description,
                supports_config=raw.supportsConfig,
                initial_config={
                    k: {**json_format.MessageToDict(v.properties),
                        "enforcementLevel": _level_name(v.enforcementLevel)}
                    for k, v in raw.initialConfig.items()
                },
                policies=[
                    PolicyInfo(
                        name=p.name,
                        description=p.description,
                        enforcement_level=_level_name(p.enforcementLevel),
                        policy_type="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK
                        else "resource",
                        severity=_severity_name(p.severity),
                        config_schema=json_format.MessageToDict(p.configSchema.properties),
                        required_config=list(p.configSchema.required),
                        remediation_steps=p.remediation_steps,
                        url=p.url,
                        display_name=p.displayName,
                    )
                    for p in raw.policies
                ],
            )
        return self._info

    def register_providers(self, resources: Iterable[AnalyzedResource]) -> None:
        """Makes provider resources known, so ``analyze`` can send a resource's provider."""
        for resource in resources:
            if resource.type.startswith("pulumi:providers:"):
                self._providers[resource.urn] = resource

    def _analyze_request(self, resource: AnalyzedResource,
                         properties: Mapping[str, Any] | None) -> analyzer_pb2.AnalyzeRequest:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type,
            properties=_struct(resource.inputs if properties is None else properties),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
        )
        provider = self._providers.get(_provider_urn(resource.provider) or "")
        if provider is not None:
            request.provider.CopyFrom(analyzer_pb2.AnalyzerProviderResource(
                type=provider.type, properties=_struct(provider.inputs),
                urn=provider.urn, name=provider.name,
            ))
        return request

    def analyze(self, resource: AnalyzedResource,
                properties: Mapping[str, Any] | None = None) -> list[Diagnostic]:
        """``Analyze`` with the resource's inputs (or ``properties`` instead).

        Resource policies report without a URN on the wire; the engine attributes them to
        the resource analyzed, and so does this (the URN is filled in when empty).
        """
        found = _diagnostics(self.stub.Analyze(self._analyze_request(resource, properties)))
        return [d if d.urn else _with_urn(d, resource.urn) for d in found]

    def remediate(self, resource: AnalyzedResource,
                  properties: Mapping[str, Any] | None = None) -> list[Remediation]:
        response = self.stub.Remediate(self._analyze_request(resource, properties))
        return [
            Remediation(
                policy_name=r.policyName,
                pack_name=r.policyPackName,
                description=r.description,
                properties=json_format.MessageToDict(r.properties) if r.HasField("properties")
                else None,
                diagnostic=r.diagnostic,
            )
            for r in response.remediations
        ]

    def analyze_stack(self, resources: Sequence[AnalyzedResource]) -> list[Diagnostic]:
        """``AnalyzeStack`` with every resource's outputs, parents and dependencies."""
        request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            entry = request.resources.add(
                type=resource.type,
                properties=_struct(_stack_properties(resource)),
                urn=resource.urn,
                name=resource.name,
                options=_options(resource),
                parent=resource.parent or "",
                dependencies=list(resource.dependencies),
            )
            for key, urns in resource.property_dependencies.items():
                entry.propertyDependencies[key].urns.extend(urns)
            provider = self._providers.get(_provider_urn(resource.provider) or "")
            if provider is not None:
                entry.provider.CopyFrom(analyzer_pb2.AnalyzerProviderResource(
                    type=provider.type, properties=_struct(provider.inputs),
                    urn=provider.urn, name=provider.name,
                ))
        return _diagnostics(self.stub.AnalyzeStack(request))

    def check(self, resources: Sequence[AnalyzedResource]) -> list[Diagnostic]:
        """What a ``pulumi preview`` with this pack reports, in engine order.

        For each custom, non-provider resource: ``Remediate`` first when some policy is at
        level ``remediate`` (each applied remediation is returned as a diagnostic of level
        ``remediate``), then ``Analyze`` on the remediated inputs. Then ``AnalyzeStack``
        once, on the recorded outputs (which a real update would derive from the
        remediated inputs; offline they stay as recorded).
        """
        self.register_providers(resources)
        remediating = any(e.enforcement_level == "remediate"
                          for e in self.effective_config.values())
        diagnostics: list[Diagnostic] = []
        for resource in resources:
            if not resource.custom or resource.type.startswith("pulumi:providers:"):
                continue
            properties: dict[str, Any] | None = None
            for fix in self.remediate(resource) if remediating else []:
                if fix.properties is not None:
                    properties = fix.properties
                diagnostics.append(Diagnostic(
                    policy_name=fix.policy_name,
                    pack_name=fix.pack_name,
                    enforcement_level="remediate",
                    urn=resource.urn,
                    message=fix.diagnostic or f"remediated: {fix.description}",
                    description=fix.description,
                ))
            diagnostics += self.analyze(resource, properties)
        diagnostics += self.analyze_stack(resources)
        return diagnostics


def _with_urn(diagnostic: Diagnostic, urn: str) -> Diagnostic:
    return Diagnostic(**{**diagnostic.__dict__, "urn": urn})


class _Recording(Protocol):
    @property
    def resources(self) -> Sequence[AnalyzedResource]: ...


def check_recording(
    recording: _Recording,
    config: Mapping[str, Any] | None = None,
    *,
    pack_dir: Path = DEFAULT_PACK_DIR,
    python: str = sys.executable,
    server: PolicyPackServer | None = None,
) -> list[Diagnostic]:
    """Runs the pack over a mock-run recording: ``Analyze`` per custom resource, then
    ``AnalyzeStack``. Pass ``server`` to reuse a running pack (``config`` is then ignored)."""
    if server is not None:
        return server.check(recording.resources)
    project = getattr(recording, "project", None)
    stack = getattr(recording, "stack", None)
    with PolicyPackServer(pack_dir, config, python, project=project, stack=stack) as pack:
        return pack.check(recording.resources)


def mandatory(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that fail a ``pulumi preview``/``up``."""
    return [d for d in diagnostics if d.enforcement_level == "mandatory"]


__all__ = [
    "DEFAULT_PACK_DIR",
    "AnalyzedResource",
    "Diagnostic",
    "EffectivePolicyConfig",
    "PackInfo",
    "PolicyInfo",
    "PolicyPackError",
    "PolicyPackServer",
    "Remediation",
    "check_recording",
    "load_config_file",
    "mandatory",
    "reconcile_config",
]
