"""Benchmark of ``fleetctl plan``: time and peak memory against the floor, for growing fleets.

For fleets of 4, 100 and 1,000 instances (the dev stack with its fleet overridden to two
groups of N/2), measures in this one run:

* plan: what ``fleetctl plan --stack dev --no-policy --json`` does (run ``__main__.py`` under
  the mocks, record, critical path, JSON document), minus writing it out;
* floor: the same number of bare ``aws.ec2.Instance`` registrations (no components, no
  policies) under the same mocks and recorder;
* policy: the policy pack over the plan's recording (pack start-up, ``Analyze`` per resource,
  ``AnalyzeStack``), reported separately.

Each measurement runs in a fresh interpreter (clean peak memory, no state shared), after a
small warm-up in that interpreter (imports and first-use costs are not counted); the time
is the best of ``--repeat`` processes, plan and floor interleaved (background load hits
both alike). Memory is the process peak RSS growth over the
warmed-up baseline (``VmHWM - VmRSS`` before the run).

Targets: plan at most 1.25x the floor at 1,000 instances; linear growth (the plan's time per
instance at 1,000 within 1.5x of that at 100). ``--check`` exits 1 when a target is missed.
``--smoke`` (CI) runs 4 and 100 instances once, without targets.

    .venv/bin/python benchmarks/plan_bench.py [--sizes 4,100,1000] [--repeat 3] [--check]

``--modes N`` compares the fleet modes instead: one group of N planned as ``instances`` and
as ``autoscaling`` (a launch template and an Auto Scaling group), resources and time each.

    .venv/bin/python benchmarks/plan_bench.py --modes 1000 [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PLAN_TARGET = 1.25
LINEAR_TOLERANCE = 1.5


def _fleet(n: int) -> list[dict[str, Any]]:
    half = n // 2
    return [{"role": "WebServer", "count": n - half}, {"role": "AppServer", "count": half}]


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _plan_once(n: int) -> Any:
    from fleetctl.critical_path import critical_path
    from fleetctl.mockrun import run_program
    from fleetctl.plan import build_document, plan_nodes, skipped_policy

    recording = run_program("dev", overrides={"fleet": _fleet(n)})
    path = critical_path(plan_nodes(recording))
    json.dumps(build_document(recording, path, skipped_policy()))
    return recording


def _floor_once(n: int) -> Any:
    import pulumi_aws as aws

    from fleetctl.mockrun import record
    from fleetctl.project import load_stack_settings

    settings = load_stack_settings("dev")

    def program() -> None:
        for i in range(n):
            aws.ec2.Instance(f"instance-{i}", ami="ami-0123456789abcdef0", instance_type="t3.micro")

    return record(program, settings)


def _policy_once(recording: Any) -> tuple[float, float]:
    from fleetctl import analyzer_client
    from fleetctl.plan import DEFAULT_PACK_DIR, default_policy_config, load_policy_config

    config_path = default_policy_config(DEFAULT_PACK_DIR, "dev")
    config = load_policy_config(config_path) if config_path else None
    start = time.perf_counter()
    with analyzer_client.PolicyPackServer(DEFAULT_PACK_DIR, config, project=recording.project,
                                          stack=recording.stack) as server:
        started = time.perf_counter()
        diagnostics = analyzer_client.check_recording(recording, server=server)
        done = time.perf_counter()
    if analyzer_client.mandatory(diagnostics):
        failed = analyzer_client.mandatory(diagnostics)[:3]
        raise SystemExit(f"policy failed on the benchmark fleet: {failed}")
    return started - start, done - started


def child(kind: str, n: int, with_policy: bool) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    once = _plan_once if kind == "plan" else _floor_once
    once(4)  # warm-up: imports, first-use caches, runtime set-up
    gc.collect()
    baseline = _rss_kib("VmRSS")
    start = time.perf_counter()
    recording = once(n)
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {
        "kind": kind, "n": n, "seconds": seconds,
        "peak_mib": (_rss_kib("VmHWM") - baseline) / 1024,
        "resources": len(recording.resources),
    }
    if with_policy:
        result["policy_start"], result["policy_check"] = _policy_once(recording)
    return result


def _run_child(kind: str, n: int, with_policy: bool) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, str(n)]
    if with_policy:
        cmd.append("--with-policy")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} n={n} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


# -- fleet mode comparison (--modes N): one group of N as instances vs as an Auto Scaling group

MODES = ("instances", "autoscaling")


def _plan_mode_once(n: int, mode: str) -> Any:
    from fleetctl.critical_path import critical_path
    from fleetctl.mockrun import run_program
    from fleetctl.plan import build_document, plan_nodes, skipped_policy

    group: dict[str, Any] = {"role": "WebServer", "count": n, "mode": mode}
    recording = run_program("dev", overrides={"fleet": [group]})
    path = critical_path(plan_nodes(recording))
    json.dumps(build_document(recording, path, skipped_policy()))
    return recording


def mode_child(mode: str, n: int) -> dict[str, Any]:
    """One plan of a group of ``n`` in ``mode``, in this (fresh, warmed-up) process."""
    _plan_mode_once(4, mode)
    gc.collect()
    baseline = _rss_kib("VmRSS")
    start = time.perf_counter()
    recording = _plan_mode_once(n, mode)
    return {"mode": mode, "n": n, "seconds": time.perf_counter() - start,
            "peak_mib": (_rss_kib("VmHWM") - baseline) / 1024,
            "resources": len(recording.resources)}


def compare_modes(n: int, repeat: int) -> list[dict[str, Any]]:
    """Best of ``repeat`` fresh processes per mode (interleaved), printed as a table."""
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for _ in range(repeat):
        for mode in MODES:
            cmd = [sys.executable, __file__, "--mode-child", mode, str(n)]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{mode} n={n} failed:\n{proc.stderr[-3000:]}")
            runs[mode].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    rows = [{"mode": mode, "resources": found[0]["resources"],
             "seconds": min(r["seconds"] for r in found),
             "peak_mib": max(r["peak_mib"] for r in found)} for mode, found in runs.items()]
    print(f"fleet modes: one group of {n} (dev stack, best of {repeat} fresh process(es))")
    header = f"{'mode':>12} {'resources':>9} {'plan s':>8} {'plan MiB':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['mode']:>12} {r['resources']:>9} {r['seconds']:>8.3f} {r['peak_mib']:>9.1f}")
    speedup = rows[0]["seconds"] / rows[1]["seconds"]
    print(f"autoscaling plans {speedup:.1f}x faster, with "
          f"{rows[0]['resources'] - rows[1]['resources']} fewer resources")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="4,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="CI: 4 and 100 instances, once, no targets")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--no-policy", action="store_true", help="skip the policy share")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--with-policy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--modes", type=int, metavar="N",
                        help="compare fleet modes instead: one group of N as instances and "
                        "as an Auto Scaling group")
    parser.add_argument("--mode-child", nargs=2, metavar=("MODE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.mode_child:
        print(json.dumps(mode_child(args.mode_child[0], int(args.mode_child[1]))))
        return 0
    if args.modes:
        compare_modes(args.modes, max(1, args.repeat))
        return 0

    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.with_policy)))
        return 0

    sizes = [4, 100] if args.smoke else [int(s) for s in args.sizes.split(",")]
    repeat = 1 if args.smoke else max(1, args.repeat)
    rows = []
    for n in sizes:
        plans: list[dict[str, Any]] = []
        floors: list[dict[str, Any]] = []
        for i in range(repeat):  # interleaved, so background load hits both sides alike
            plans.append(_run_child("plan", n, with_policy=not args.no_policy and i == 0))
            floors.append(_run_child("floor", n, with_policy=False))
        plan_s = min(p["seconds"] for p in plans)
        floor_s = min(f["seconds"] for f in floors)
        rows.append({
            "n": n, "resources": plans[0]["resources"], "plan_s": plan_s, "floor_s": floor_s,
            "ratio": plan_s / floor_s,
            "plan_mib": max(p["peak_mib"] for p in plans), "floor_mib": max(f["peak_mib"] for f in floors),
            "policy_start": plans[0].get("policy_start"), "policy_check": plans[0].get("policy_check"),
        })

    print(f"fleetctl plan benchmark (best of {repeat} fresh process(es), interleaved; "
          "memory = peak RSS growth)")
    header = (f"{'instances':>9} {'resources':>9} {'plan s':>8} {'floor s':>8} {'plan/floor':>10} "
              f"{'plan MiB':>9} {'floor MiB':>9} {'ms/inst':>8} {'policy s':>9} {'(start)':>8} "
              f"{'policy share':>12}")
    print(header)
    print("-" * len(header))
    for r in rows:
        policy = ""
        if r["policy_check"] is not None:
            total = r["policy_start"] + r["policy_check"]
            share = total / (total + r["plan_s"])
            policy = f"{total:>9.2f} {r['policy_start']:>8.2f} {share:>11.0%}"
        print(f"{r['n']:>9} {r['resources']:>9} {r['plan_s']:>8.3f} {r['floor_s']:>8.3f} {r['ratio']:>9.2f}x "
              f"{r['plan_mib']:>9.1f} {r['floor_mib']:>9.1f} {1000 * r['plan_s'] / r['n']:>8.2f} {policy}")

    if args.smoke:
        return 0
    failures = []
    by_n = {r["n"]: r for r in rows}
    if 1000 in by_n:
        ratio = by_n[1000]["ratio"]
        verdict = "ok" if ratio <= PLAN_TARGET else "MISSED"
        print(f"target plan <= {PLAN_TARGET}x floor at 1000 instances: {ratio:.2f}x {verdict}")
        if ratio > PLAN_TARGET:
            failures.append("ratio")
    if 100 in by_n and 1000 in by_n:
        per_100 = by_n[100]["plan_s"] / 100
        per_1000 = by_n[1000]["plan_s"] / 1000
        growth = per_1000 / per_100
        verdict = "ok" if growth <= LINEAR_TOLERANCE else "MISSED"
        print(f"target linear growth: time/instance at 1000 = {growth:.2f}x that at 100 "
              f"(<= {LINEAR_TOLERANCE}x) {verdict}")
        if growth > LINEAR_TOLERANCE:
            failures.append("linear")
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
