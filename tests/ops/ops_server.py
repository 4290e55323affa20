"""A tiny local AWS endpoint for end-to-end tests: SSM and Athena (JSON 1.1 protocol,
dispatched on ``X-Amz-Target``) and EC2 ``DescribeInstances`` (query protocol, XML). Responses are queued
per operation; an entry may be an error ``(status, code, message)``. Every request is
recorded so tests can assert on retries and parameters."""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict, deque
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[2]

# What GetInventory answers as a result type, and how it refuses the rest, word for word:
# API Reference, ResultAttribute ("Valid value: AWS:InstanceInformation"); the service's
# answer quoted in aws/aws-sdk#640 and turbot/steampipe-plugin-aws#1972. Every stand-in
# (FakeAws, ops_standin.FleetStandIn, ops_fakes' Stubber hook) refuses the same way unless a
# test opts in to the permissive old behaviour.
SUPPORTED_RESULT_TYPES = ("AWS:InstanceInformation", "AWS:PatchSummary")
UNSUPPORTED_RESULT_TYPE = "InvalidResultAttributeException"


def result_type_refusal(params: dict[str, Any]) -> str | None:
    """The service's refusal message for a GetInventory request, None when it answers."""
    for attribute in params.get("ResultAttributes") or []:
        type_name = attribute.get("TypeName")
        if type_name not in SUPPORTED_RESULT_TYPES:
            return (
                f"Result type name {type_name} is not supported. Supported type names are: "
                f"{', '.join(SUPPORTED_RESULT_TYPES)}. Default result type name is "
                f"{SUPPORTED_RESULT_TYPES[0]}."
            )
    return None


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a CLI subprocess: no AWS settings or files from the host."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in {"COLUMNS"}}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(type(value))


def ec2_instances_xml(instances: list[dict[str, Any]]) -> str:
    items = []
    for inst in instances:
        tags = "".join(
            f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>"
            for k, v in inst.get("tags", {}).items()
        )
        profile = (
            f"<iamInstanceProfile><arn>{inst['profile']}</arn><id>AIPAEXAMPLE</id></iamInstanceProfile>"
            if inst.get("profile")
            else ""
        )
        items.append(
            f"<item><instanceId>{inst['id']}</instanceId>"
            f"<instanceState><code>16</code><name>{inst.get('state', 'running')}</name>"
            "</instanceState><launchTime>2025-01-01T00:00:00.000Z</launchTime>"
            f"{profile}<tagSet>{tags}</tagSet></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        "<requestId>00000000-0000-0000-0000-000000000000</requestId><reservationSet><item>"
        "<reservationId>r-0123456789abcdef0</reservationId><ownerId>123456789012</ownerId>"
        f"<instancesSet>{''.join(items)}</instancesSet></item></reservationSet>"
        "</DescribeInstancesResponse>"
    )


class FakeAws:
    """Queued answers per operation. GetInventory with a result type the service refuses is
    answered with its refusal (the queue untouched), unless ``accept_any_result_type``."""

    def __init__(self, accept_any_result_type: bool = False) -> None:
        self.accept_any_result_type = accept_any_result_type
        self.queues: dict[str, deque[Any]] = defaultdict(deque)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                if target.startswith(("AmazonSSM.", "AmazonAthena.")):
                    op, params = target.split(".", 1)[1], json.loads(body or b"{}")
                    kind = "json"
                else:
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    op, params, kind = form.get("Action", "?"), form, "xml"
                fake.requests.append((op, params))
                refusal = None if fake.accept_any_result_type or op != "GetInventory" else (
                    result_type_refusal(params)
                )
                if refusal:
                    self._send(400, "json", {"__type": UNSUPPORTED_RESULT_TYPE, "message": refusal})
                    return
                queue = fake.queues.get(op)
                if not queue:
                    self._send(500, "json", {"__type": "InternalServerError", "message": op})
                    return
                answer = queue.popleft()
                if isinstance(answer, tuple):
                    status, code, message = answer
                    self._send(status, "json", {"__type": code, "message": message})
                else:
                    self._send(200, kind, answer)

            def _send(self, status: int, kind: str, payload: Any) -> None:
                if kind == "json":
                    data = json.dumps(payload, default=_json_default).encode()
                    ctype = "application/x-amz-json-1.1"
                else:
                    data = payload.encode()
                    ctype = "text/xml"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, operation: str, answer: Any) -> None:
        self.queues[operation].append(answer)

    def ops(self) -> list[str]:
        return [op for op, _ in self.requests]

    def __enter__(self) -> FakeAws:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
