"""Benchmark of ``fleetctl check`` at fleet scale: AWS calls per operation and wall time.

Runs the real CLI (``python -m fleetctl check --workload Test --json``) as a whole process
against a local stand-in (``tests/ops/ops_standin.py``) that speaks SSM's JSON protocol for
every call ``check`` makes and answers EC2 ``DescribeInstances``, reached through the
standard ``AWS_ENDPOINT_URL_SSM`` / ``AWS_ENDPOINT_URL_EC2`` variables. Every answer is
delayed by ``--latency`` (20 ms) and ``--throttle`` (10 %) of them are a
``ThrottlingException``, retried by botocore's standard retry mode.

The modelled fleet is the lab's after deployment: every instance Online, the association
run, inventory present; 1 % of instances with a failed association run and 1 % NON_COMPLIANT
(the instances "in trouble" that get per-instance look-ups). The stand-in refuses
``AWS:Application`` as a GetInventory result type, as the service does, so the inventory
step reads each registered instance with ListInventoryEntries (MaxResults 1, eight at a time).

Targets: at 1,000 instances at most N + N/10 + 30 answered SSM requests (N inventory reads,
one per instance; N/10 + 30 for the pages and the capped look-ups; throttled answers are
counted apart, each was retried) and under 60 s; calls grow linearly (calls per instance at
the largest size within 1.25x of that at 1,000). ``--check`` exits 1 when one is missed.
``--smoke`` (CI) runs 100 instances.

    .venv/bin/python benchmarks/check_bench.py [--sizes 100,1000,10000] [--check] [--smoke]
"""

from __future__ import annotations

import argparse
import json
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

EC2_OPERATIONS = {"DescribeInstances", "GetConsoleOutput"}
WALL_TARGET_SECONDS = 60


def budget(size: int) -> int:
    """Answered SSM requests allowed: one inventory read per instance, N/10 + 30 for the rest."""
    return size + size // 10 + 30


def fleet_of(size: int) -> FleetModel:
    model = FleetModel.healthy(size)
    for n, inst in enumerate(model.instances):
        if n % 100 == 37:
            inst.association = "Failed"
        if n % 100 == 73:
            inst.compliant = False
    return model


def run_check(size: int, latency: float, throttle: float) -> dict[str, Any]:
    stand_in = FleetStandIn(fleet_of(size), latency=latency, throttle=throttle)
    with stand_in as aws, tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=str(Path(tmp) / "none"),
            AWS_SHARED_CREDENTIALS_FILE=str(Path(tmp) / "none"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_ENDPOINT_URL_SSM=aws.url,
            AWS_ENDPOINT_URL_EC2=aws.url,
            PYTHONPATH=str(ROOT),
        )
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "fleetctl", "check", "--workload", "Test", "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False,
        )
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"fleetctl check failed at {size}: {done.stderr.strip()}")
        report = json.loads(done.stdout)
        if len(report["instances"]) != size:
            raise SystemExit(f"fleetctl check saw {len(report['instances'])} of {size} instances")
        ec2_throttled = sum(n for op, n in aws.throttled.items() if op in EC2_OPERATIONS)
        return {
            "size": size,
            "wall_seconds": wall,
            # answered SSM requests: the throttled answers are counted apart
            "ssm_calls": aws.ssm_calls() - (sum(aws.throttled.values()) - ec2_throttled),
            "calls": dict(sorted(aws.calls.items())),
            "throttled": sum(aws.throttled.values()),
            "problems": sum(1 for f in report["findings"] if f["level"] == "problem"),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per answer (0.02)")
    parser.add_argument("--throttle", type=float, default=0.10, help="share of throttled answers (0.10)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--smoke", action="store_true", help="100 instances only (CI)")
    args = parser.parse_args(argv)
    sizes = [100] if args.smoke else [int(s) for s in args.sizes.split(",")]

    results = []
    for size in sizes:
        result = run_check(size, args.latency, args.throttle)
        results.append(result)
        per_op = ", ".join(f"{op} {n}" for op, n in result["calls"].items())
        print(
            f"{size:>6} instances: {result['wall_seconds']:6.1f} s, {result['ssm_calls']:>5} SSM requests "
            f"answered (budget {budget(size)}; {result['throttled']} throttled answers retried), "
            f"{result['problems']} problems found"
        )
        print(f"        {per_op}")

    missed = []
    by_size = {r["size"]: r for r in results}
    if 1000 in by_size:
        r = by_size[1000]
        if r["ssm_calls"] > budget(1000):
            missed.append(f"1,000 instances: {r['ssm_calls']} SSM requests > {budget(1000)}")
        if r["wall_seconds"] >= WALL_TARGET_SECONDS:
            missed.append(f"1,000 instances: {r['wall_seconds']:.1f} s >= {WALL_TARGET_SECONDS} s")
        largest = max(by_size)
        if largest > 1000:
            ratio = (by_size[largest]["ssm_calls"] / largest) / (r["ssm_calls"] / 1000)
            print(f"calls per instance at {largest:,} vs 1,000: {ratio:.2f}x")
            if ratio > 1.25:
                missed.append(f"calls grow faster than linearly ({ratio:.2f}x per instance)")
    for line in missed:
        print(f"TARGET MISSED: {line}")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
