"""Benchmark of ``fleetctl compliance evaluate --put`` at fleet scale: calls and wall time.

Runs the real CLI (``python -m fleetctl compliance evaluate --workload Test --policy FILE
--put --json``) as a whole process against the local stand-in (``tests/ops/ops_standin.py``)
speaking SSM's JSON protocol, reached through ``AWS_ENDPOINT_URL_SSM``. Every answer is
delayed by ``--latency`` (20 ms) and ``--throttle`` (10 %) of them are a
``ThrottlingException``, retried by botocore's standard retry mode.

The fleet: N Linux managed nodes with the SSM agent and ``--packages`` packages in all in
their ``AWS:Application`` inventory (default 2; Amazon Linux 2023 reports a few hundred);
1 % with an old agent and telnet-server installed (non-compliant), 1 % without inventory
yet. The policy is dev's example (agent >= 3.3.40.0 on Linux, no telnet-server).

The stand-in answers as the service does: GetInventory refuses ``AWS:Application`` as a
result type (API Reference, ResultAttribute: "Valid value: AWS:InstanceInformation"), so
``evaluate`` reads each node with ``ListInventoryEntries`` (50 entries a page).
``--batched-standin`` makes the stand-in answer ``AWS:Application`` in GetInventory, which
the service does not, to measure the batched path the issue asked for.

Targets: reads (DescribeInstanceInformation + GetInventory + ListInventoryEntries) at most
ceil(N/50) + 1 + N * ceil(packages/50) requests (batched stand-in: ceil(N/50) + ceil(N/40)
plus pages), writes at most N PutComplianceItems requests (one per node), every node
written; 1,000 nodes in under 60 s. Throttled answers are counted apart (each is retried:
the calls sent are requests + throttled answers). ``--check`` exits 1 when one is missed;
``--smoke`` (CI) runs 100 nodes.

    .venv/bin/python benchmarks/compliance_bench.py [--sizes 100,1000] [--check] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ops"))

from ops_standin import FleetModel, FleetStandIn  # noqa: E402

POLICY = {
    "rules": [
        {
            "id": "ssm-agent-minimum",
            "kind": "required",
            "name": "amazon-ssm-agent",
            "versions": ">=3.3.40.0",
            "platforms": ["Linux"],
            "severity": "HIGH",
        },
        {"id": "no-telnet-server", "kind": "forbidden", "name": "telnet-server", "severity": "CRITICAL"},
    ]
}
READ_OPERATIONS = ("DescribeInstanceInformation", "GetInventory", "ListInventoryEntries")


def fleet_of(size: int, packages: int) -> FleetModel:
    model = FleetModel.healthy(size)
    others = [
        {"Name": f"package-{k:03d}", "Version": "1.0", "Release": "1.amzn2023"}
        for k in range(max(packages - 1, 0))
    ]
    for n, inst in enumerate(model.instances):
        inst.applications = [
            {"Name": "amazon-ssm-agent", "Version": "3.3.987.0", "Release": "1.amzn2023"},
            *others,
        ]
        if n % 100 == 37:
            inst.applications = [
                {"Name": "amazon-ssm-agent", "Version": "3.2.582.0", "Release": "1"},
                {"Name": "telnet-server", "Version": "0.17", "Release": "85.amzn2023", "Epoch": "1"},
            ]
        if n % 100 == 73:
            inst.inventory = False
    return model


def read_budget(size: int, packages: int, batched: bool) -> int:
    """Read requests allowed: the fleet 50 a page, then 40 nodes per GetInventory (batched
    stand-in) or one refused GetInventory and every node's ListInventoryEntries pages."""
    if batched:
        return math.ceil(size / 50) + math.ceil(size / 40)
    return math.ceil(size / 50) + 1 + size * math.ceil(max(packages, 1) / 50)


def run_evaluate(
    size: int, latency: float, throttle: float, batched: bool, packages: int
) -> dict[str, Any]:
    stand_in = FleetStandIn(fleet_of(size, packages), latency=latency, throttle=throttle)
    stand_in.accept_any_result_type = batched
    with stand_in as aws, tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.json"
        policy.write_text(json.dumps(POLICY))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=str(Path(tmp) / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(tmp) / "none"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_ENDPOINT_URL_SSM=aws.url,
            PYTHONPATH=str(ROOT),
        )
        command = [
            sys.executable,
            "-m",
            "fleetctl",
            "compliance",
            "evaluate",
            "--workload",
            "Test",
            "--policy",
            str(policy),
            "--put",
            "--json",
        ]
        started = time.perf_counter()
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False
        )
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"compliance evaluate failed at {size}: {done.stderr.strip()}")
        report = json.loads(done.stdout)
        if len(report["instances"]) != size or len(aws.compliance) != size:
            raise SystemExit(
                f"{size} nodes: {len(report['instances'])} judged, {len(aws.compliance)} written"
            )

        def requests(op: str) -> int:  # answered requests, throttled answers excluded
            return aws.calls[op] - aws.throttled[op]

        return {
            "size": size,
            "wall_seconds": wall,
            "inventory_source": report["inventory_source"],
            "reads": sum(requests(op) for op in READ_OPERATIONS),
            "read_budget": read_budget(size, packages, batched),
            "writes": requests("PutComplianceItems"),
            "throttled": sum(aws.throttled.values()),
            "calls": dict(sorted(aws.calls.items())),
            "non_compliant": sum(1 for i in report["instances"] if not i["compliant"]),
            "without_inventory": len(report["without_inventory"]),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer (0.02)")
    parser.add_argument("--throttle", type=float, default=0.10, help="share of throttled answers (0.10)")
    parser.add_argument(
        "--batched-standin",
        action="store_true",
        help="the stand-in answers AWS:Application in GetInventory (the service refuses it)",
    )
    parser.add_argument(
        "--packages", type=int, default=2, help="AWS:Application entries per node (2)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--smoke", action="store_true", help="100 nodes only (CI)")
    args = parser.parse_args(argv)
    sizes = [100] if args.smoke else [int(s) for s in args.sizes.split(",")]

    missed = []
    print(f"{args.packages} packages per node, stand-in "
          + ("answering AWS:Application in GetInventory (the service does not)" if args.batched_standin
             else "refusing AWS:Application in GetInventory, as the service does"))
    for size in sizes:
        r = run_evaluate(size, args.latency, args.throttle, args.batched_standin, args.packages)
        per_op = ", ".join(f"{op} {n}" for op, n in r["calls"].items())
        print(
            f"{size:>6} nodes: {r['wall_seconds']:6.1f} s; "
            f"reads {r['reads']} requests via {r['inventory_source']} "
            f"(budget {r['read_budget']}), writes {r['writes']} (N = {size}); "
            f"{r['throttled']} throttled answers retried; {r['non_compliant']} non-compliant, "
            f"{r['without_inventory']} without inventory"
        )
        print(f"        calls sent (throttled included): {per_op}")
        if r["reads"] > r["read_budget"]:
            missed.append(f"{size} nodes: {r['reads']} read requests > {r['read_budget']}")
        if r["writes"] > size:
            missed.append(f"{size} nodes: {r['writes']} PutComplianceItems requests > {size}")
        if size >= 1000 and r["wall_seconds"] >= 60 * size / 1000:
            missed.append(f"{size} nodes: {r['wall_seconds']:.1f} s >= {60 * size / 1000:.0f} s")
    for line in missed:
        print(f"TARGET MISSED: {line}")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
