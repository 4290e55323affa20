"""A stateful local stand-in for a whole fleet: SSM (JSON 1.1, on ``X-Amz-Target``) for
every call ``fleetctl check`` makes, and EC2 ``DescribeInstances`` / ``GetConsoleOutput``
(query protocol, XML). Unlike :class:`ops_server.FakeAws` (queued answers), it answers from
a model of N instances, pages like the service (50 per page, GetInventory's 40 ids per
filter honoured), can add latency and throttle a share of answers, and counts calls per
operation. Tests change the model while the CLI polls (``--wait``); the benchmark
(``benchmarks/check_bench.py``) runs ``fleetctl check`` against it at 100..10,000 instances.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

try:  # on sys.path as tests/ops (its tests, the benchmarks) or as the package tests.ops
    from ops_server import UNSUPPORTED_RESULT_TYPE, result_type_refusal
except ModuleNotFoundError:
    from tests.ops.ops_server import UNSUPPORTED_RESULT_TYPE, result_type_refusal

ASSOCIATION_ID = "8dfe3659-4309-493a-8755-0123456789ab"
EXECUTION_ID = "1a2b3c4d-1111-2222-3333-444455556666"
PROFILE_ARN = "arn:aws:iam::123456789012:instance-profile/fleet"
PAGE = 50
EC2_PAGE = 1000


def _capture(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Instance:
    instance_id: str
    name: str
    online: bool = True
    association: str | None = "Success"  # None: not a target of the latest execution yet
    inventory: bool = True
    compliant: bool = True
    # AWS:Application entries (None: the agent alone); platform as DescribeInstanceInformation says
    applications: list[dict[str, str]] | None = None
    platform: str = "Linux"


@dataclass
class FleetModel:
    environment: str = "OELabIPM"
    workload: str = "Test"
    association_name: str = "InventoryAllInstances-Test"
    instances: list[Instance] = field(default_factory=list)

    @classmethod
    def healthy(cls, count: int, **kwargs: Any) -> FleetModel:
        model = cls(**kwargs)
        model.instances = [
            Instance(f"i-{n:017x}", f"{model.workload}-Web{n + 1}") for n in range(count)
        ]
        return model


def _instances_xml(instances: list[Instance], tags: dict[str, str], token: str | None) -> str:
    items = []
    for inst in instances:
        all_tags = {**tags, "Name": inst.name}
        tag_xml = "".join(
            f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>" for k, v in all_tags.items()
        )
        items.append(
            f"<item><instanceId>{inst.instance_id}</instanceId>"
            "<instanceState><code>16</code><name>running</name></instanceState>"
            "<launchTime>2025-01-01T00:00:00.000Z</launchTime>"
            f"<iamInstanceProfile><arn>{PROFILE_ARN}</arn><id>AIPAEXAMPLE</id></iamInstanceProfile>"
            f"<tagSet>{tag_xml}</tagSet></item>"
        )
    next_token = f"<nextToken>{token}</nextToken>" if token else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        "<requestId>00000000-0000-0000-0000-000000000000</requestId><reservationSet><item>"
        "<reservationId>r-0123456789abcdef0</reservationId><ownerId>123456789012</ownerId>"
        f"<instancesSet>{''.join(items)}</instancesSet></item></reservationSet>{next_token}"
        "</DescribeInstancesResponse>"
    )


@dataclass(frozen=True)
class _Refusal:
    """An error answer from an operation handler (status, JSON body)."""

    status: int
    body: dict[str, Any]


def _page(items: list[Any], params: dict[str, Any], limit: int = PAGE) -> tuple[list[Any], str | None]:
    start = int(params.get("NextToken") or 0)
    size = min(int(params.get("MaxResults") or limit), limit)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


class FleetStandIn:
    """``with FleetStandIn(model, latency=0.02, throttle=0.1) as aws: aws.url``."""

    def __init__(self, model: FleetModel, latency: float = 0.0, throttle: float = 0.0, seed: int = 7) -> None:
        self.model = model
        self.latency = latency
        self.throttle = throttle
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.now = datetime.now(UTC)
        # PutComplianceItems bodies by resource id (last one wins, as COMPLETE uploads do)
        self.compliance: dict[str, dict[str, Any]] = {}
        # GetInventory refuses every result type but AWS:InstanceInformation and
        # AWS:PatchSummary, as the service does (ops_server.result_type_refusal); True: the
        # old, permissive stand-in that answers AWS:Application too.
        self.accept_any_result_type = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                if target.startswith("AmazonSSM."):
                    op, params, kind = target.split(".", 1)[1], json.loads(body or b"{}"), "json"
                else:
                    form = {k: v for k, v in parse_qs(body.decode()).items()}
                    op, kind = form.get("Action", ["?"])[0], "xml"
                    params = form
                status, payload = stand_in.answer(op, params, kind)
                data = (json.dumps(payload) if kind == "json" else payload).encode()
                self.send_response(status)
                ctype = "application/x-amz-json-1.1" if kind == "json" else "text/xml"
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def ssm_calls(self) -> int:
        return sum(n for op, n in self.calls.items() if op not in {"DescribeInstances", "GetConsoleOutput"})

    def __enter__(self) -> FleetStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answers -------------------------------------------------------------------------

    def answer(self, op: str, params: dict[str, Any], kind: str) -> tuple[int, Any]:
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            self.calls[op] += 1
            throttled = self.throttle and self.random.random() < self.throttle
            if throttled:
                self.throttled[op] += 1
        if throttled:
            if kind == "xml":
                return 503, (
                    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
                    "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                    "</Error></Errors><RequestID>0</RequestID></Response>"
                )
            return 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        handler = getattr(self, f"_{op}", None)
        if handler is None:
            return 400, {"__type": "InvalidAction", "message": f"stand-in does not answer {op}"}
        with self.lock:
            payload = handler(params)
        if isinstance(payload, _Refusal):
            return payload.status, payload.body
        return 200, payload

    def _tags(self) -> dict[str, str]:
        return {"Environment": self.model.environment, "Workload": self.model.workload}

    def _DescribeInstances(self, form: dict[str, list[str]]) -> str:
        start = int(form.get("NextToken", ["0"])[0])
        end = start + EC2_PAGE
        items = self.model.instances
        return _instances_xml(items[start:end], self._tags(), str(end) if end < len(items) else None)

    def _GetConsoleOutput(self, form: dict[str, list[str]]) -> str:
        instance_id = form.get("InstanceId", ["?"])[0]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<GetConsoleOutputResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>0</requestId><instanceId>{instance_id}</instanceId>"
            "<timestamp>2025-01-01T00:00:00.000Z</timestamp><output></output>"
            "</GetConsoleOutputResponse>"
        )

    def _DescribeInstanceInformation(self, params: dict[str, Any]) -> dict[str, Any]:
        online = [i for i in self.model.instances if i.online]
        page, token = _page(online, params)
        ping = (self.now - timedelta(minutes=2)).timestamp()
        result: dict[str, Any] = {
            "InstanceInformationList": [
                {
                    "InstanceId": i.instance_id,
                    "PingStatus": "Online",
                    "LastPingDateTime": ping,
                    "AgentVersion": "3.3.987.0",
                    "IsLatestVersion": True,
                    "PlatformType": i.platform,
                    "PlatformName": "Amazon Linux" if i.platform == "Linux" else i.platform,
                    "PlatformVersion": "2023",
                    "ResourceType": "EC2Instance",
                    "AssociationStatus": i.association or "Pending",
                }
                for i in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def _ListAssociations(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = params["AssociationFilterList"][0]["value"]
        if wanted != self.model.association_name:
            return {"Associations": []}
        return {"Associations": [{"AssociationId": ASSOCIATION_ID, "AssociationName": wanted}]}

    def _DescribeAssociation(self, params: dict[str, Any]) -> dict[str, Any]:
        counts = Counter(i.association for i in self.model.instances if i.association)
        status = "Failed" if counts.get("Failed") else ("Success" if counts else "Pending")
        return {
            "AssociationDescription": {
                "Name": "AWS-GatherSoftwareInventory",
                "AssociationId": ASSOCIATION_ID,
                "AssociationName": self.model.association_name,
                "Overview": {
                    "Status": status,
                    "DetailedStatus": status,
                    "AssociationStatusAggregatedCount": dict(counts),
                },
                "Targets": [
                    {"Key": "tag:Environment", "Values": [self.model.environment]},
                    {"Key": "tag:Workload", "Values": [self.model.workload]},
                ],
                "ScheduleExpression": "rate(30 minutes)",
            }
        }

    def _DescribeAssociationExecutions(self, params: dict[str, Any]) -> dict[str, Any]:
        if not any(i.association for i in self.model.instances):
            return {"AssociationExecutions": []}
        failed = any(i.association == "Failed" for i in self.model.instances)
        return {
            "AssociationExecutions": [
                {
                    "AssociationId": ASSOCIATION_ID,
                    "ExecutionId": EXECUTION_ID,
                    "Status": "Failed" if failed else "Success",
                    "DetailedStatus": "Failed" if failed else "Success",
                    "CreatedTime": (self.now - timedelta(minutes=20)).timestamp(),
                }
            ]
        }

    def _DescribeAssociationExecutionTargets(self, params: dict[str, Any]) -> dict[str, Any]:
        targets = [i for i in self.model.instances if i.association and i.online]
        page, token = _page(targets, params)
        result: dict[str, Any] = {
            "AssociationExecutionTargets": [
                {
                    "AssociationId": ASSOCIATION_ID,
                    "ExecutionId": EXECUTION_ID,
                    "ResourceId": i.instance_id,
                    "ResourceType": "ManagedInstance",
                    "Status": i.association,
                    "DetailedStatus": i.association,
                }
                for i in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def _DescribeInstanceAssociationsStatus(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "InstanceAssociationStatusInfos": [
                {
                    "AssociationId": ASSOCIATION_ID,
                    "InstanceId": params["InstanceId"],
                    "Status": "Failed",
                    "DetailedStatus": "Failed",
                    "ExecutionSummary": "1 out of 1 plugin processed, 0 success, 1 failed",
                    "ErrorCode": "1",
                }
            ]
        }

    def _GetInventory(self, params: dict[str, Any]) -> Any:
        refusal = None if self.accept_any_result_type else result_type_refusal(params)
        if refusal:
            return _Refusal(400, {"__type": UNSUPPORTED_RESULT_TYPE, "message": refusal})
        type_name = (params.get("ResultAttributes") or [{}])[0].get("TypeName", "AWS:InstanceInformation")
        filters = params.get("Filters") or []
        if len(filters) > 5 or any(len(f["Values"]) > 40 for f in filters):
            raise AssertionError("GetInventory with more than 5 filters or 40 values in one")
        ids = {v for f in filters if f["Key"] == "AWS:InstanceInformation.InstanceId" for v in f["Values"]}
        wanted = [f for f in filters if f["Key"] != "AWS:InstanceInformation.InstanceId"]
        # Every managed node has AWS:InstanceInformation; a filter on another type's attribute
        # keeps the nodes with at least one matching entry (the console's inventory filter).
        matching = [
            i
            for i in self.model.instances
            if i.instance_id in ids
            and i.online
            and all(self._has_match(i, f) for f in wanted)
            and (type_name == "AWS:InstanceInformation" or i.inventory)
        ]
        page, token = _page(matching, params)
        result: dict[str, Any] = {
            "Entities": [
                {
                    "Id": i.instance_id,
                    "Data": {
                        type_name: {
                            "TypeName": type_name,
                            "SchemaVersion": "1.0",
                            "CaptureTime": _capture(self.now - timedelta(minutes=18)),
                            "Content": self._content(i, type_name),
                        }
                    },
                }
                for i in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def _content(self, inst: Instance, type_name: str) -> list[dict[str, str]]:
        if type_name == "AWS:Application":
            return self._applications(inst)
        if type_name == "AWS:InstanceInformation":
            return [
                {"InstanceId": inst.instance_id, "PlatformType": inst.platform, "InstanceStatus": "Active"}
            ]
        return []

    def _has_match(self, inst: Instance, flt: dict[str, Any]) -> bool:
        """Whether one of the node's AWS:Application entries passes ``flt`` (Equal or
        BeginWith on ``AWS:Application.<attribute>``); other types are not modelled."""
        type_name, _, attribute = flt["Key"].rpartition(".")
        if type_name not in ("AWS:Application", "") or not inst.inventory:
            return False
        begin = flt.get("Type", "Equal") == "BeginWith"
        return any(
            (str(entry.get(attribute, "")).startswith(tuple(flt["Values"])) if begin
             else str(entry.get(attribute, "")) in flt["Values"])
            for entry in self._applications(inst)
        )

    @staticmethod
    def _applications(inst: Instance) -> list[dict[str, str]]:
        if inst.applications is not None:
            return inst.applications
        return [{"Name": "amazon-ssm-agent", "Version": "3.3.987.0"}]

    def _ListInventoryEntries(self, params: dict[str, Any]) -> dict[str, Any]:
        inst = next((i for i in self.model.instances if i.instance_id == params["InstanceId"]), None)
        empty = {"InstanceId": params["InstanceId"], "TypeName": params["TypeName"], "Entries": []}
        if inst is None or not inst.inventory or params["TypeName"] != "AWS:Application":
            return empty
        filters = params.get("Filters") or []
        if len(filters) > 5:
            raise AssertionError("ListInventoryEntries with more than 5 filters")
        kept = [
            entry
            for entry in self._applications(inst)
            if all(self._has_match(Instance(inst.instance_id, "", applications=[entry]), f) for f in filters)
        ]
        entries, token = _page(kept, params)
        result: dict[str, Any] = {
            "InstanceId": inst.instance_id,
            "TypeName": params["TypeName"],
            "SchemaVersion": "1.1",
            "CaptureTime": _capture(self.now - timedelta(minutes=18)),
            "Entries": entries,
        }
        if token:
            result["NextToken"] = token
        return result

    def _PutComplianceItems(self, params: dict[str, Any]) -> dict[str, Any]:
        if len(params["Items"]) > 10_000:
            raise AssertionError("PutComplianceItems with more than 10,000 items")
        self.compliance[params["ResourceId"]] = params
        return {}

    def _ListResourceComplianceSummaries(self, params: dict[str, Any]) -> dict[str, Any]:
        reported = [i for i in self.model.instances if i.online and i.association]
        page, token = _page(reported, params)
        result: dict[str, Any] = {
            "ResourceComplianceSummaryItems": [
                {
                    "ComplianceType": "Association",
                    "ResourceType": "ManagedInstance",
                    "ResourceId": i.instance_id,
                    "Status": "COMPLIANT" if i.compliant else "NON_COMPLIANT",
                    "OverallSeverity": "UNSPECIFIED" if i.compliant else "CRITICAL",
                    "CompliantSummary": {"CompliantCount": 1 if i.compliant else 0},
                    "NonCompliantSummary": {"NonCompliantCount": 0 if i.compliant else 1},
                }
                for i in page
            ]
        }
        if token:
            result["NextToken"] = token
        return result

    def _ListComplianceItems(self, params: dict[str, Any]) -> dict[str, Any]:
        (resource_id,) = params["ResourceIds"]
        return {
            "ComplianceItems": [
                {
                    "ComplianceType": "Association",
                    "ResourceType": "ManagedInstance",
                    "ResourceId": resource_id,
                    "Id": ASSOCIATION_ID,
                    "Title": "AWS-GatherSoftwareInventory",
                    "Status": "NON_COMPLIANT",
                    "Severity": "CRITICAL",
                }
            ]
        }
