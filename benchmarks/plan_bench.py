"""Benchmark of ``fleetctl plan`` against the floor: whole processes, time and peak memory.

For each fleet size N, measured in this one run, each measurement a fresh process:

* plan: ``fleetctl plan --stack dev --no-policy --json > /dev/null``, the real CLI, with the
  fleet overridden to N instances (``--config fleet=...``: groups of at most 1,000, the
  per-group limit of ``components/config/fleet.py``; two groups of N/2 up to 2,000);
* floor: a process that registers the same N ``aws.ec2.Instance``s with the same inputs as
  the program gives them (names, tags, metadata options, root block device, user data, AMI,
  subnet, security group, instance profile) under plain ``pulumi.runtime.set_mocks`` with a
  minimal ``Mocks`` class: no components, no config, no CLI, no recorder. The inputs are
  taken from a small plan of the same stack, and the floor checks that it sent exactly the
  plan's inputs for its first instance of each group.

Time is the wall-clock time of the whole process (start-up and imports included), best of
``--repeat`` runs with plan and floor interleaved (background load hits both alike). Memory
is the process peak RSS (``ru_maxrss`` from ``wait4``), best of the runs.

Target (issue 8): plan within 1.15x of the floor in time AND in peak memory at 1,000 and at
5,000 instances. ``--check`` exits 1 when it is missed. ``--smoke`` (CI) runs 100 and 500
instances once, without the target.

    .venv/bin/python benchmarks/plan_bench.py [--sizes 1000,5000] [--repeat 3] [--check]

``--modes N`` compares the fleet modes instead: one group of N planned by the CLI as
``instances`` and as ``autoscaling`` (a launch template and an Auto Scaling group), with
resources, wall time and peak memory of each.

    .venv/bin/python benchmarks/plan_bench.py --modes 1000 [--repeat 3]
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
STACK = "dev"
TARGET = 1.15
GROUP_LIMIT = 1000  # FleetGroup.count's maximum in components/config/fleet.py
ROLES = ("WebServer", "AppServer", "DbServer", "CacheServer", "BatchServer", "QueueServer",
         "SearchServer", "MailServer", "FileServer", "BuildServer")
INSTANCE_TYPE = "aws:ec2/instance:Instance"


def fleet(n: int) -> list[dict[str, Any]]:
    """N instances in the fewest groups of at most GROUP_LIMIT (at least two), sizes even."""
    groups = max(2, math.ceil(n / GROUP_LIMIT))
    if groups > len(ROLES):
        raise SystemExit(f"at most {len(ROLES) * GROUP_LIMIT} instances")
    base, extra = divmod(n, groups)
    return [{"role": ROLES[i], "count": base + (1 if i < extra else 0)} for i in range(groups)]


def plan_command(
    groups: list[dict[str, Any]], *, policy: bool = False, source: Path | None = None
) -> list[str]:
    """The CLI; with ``source``, that checkout's fleetctl (run with ``PYTHONPATH=source``)."""
    script = Path(sys.executable).parent / "fleetctl"
    cli = [str(script)] if script.exists() and source is None else [sys.executable, "-m", "fleetctl"]
    return [*cli, "plan", "--stack", STACK, *([] if policy else ["--no-policy"]), "--json",
            "--config", f"fleet={json.dumps(groups)}"]


# -- the floor (runs in its own process: --floor N TEMPLATES) ------------------------------

def floor_process(n: int, templates_path: Path) -> None:
    """Registers N instances with the plan's inputs under stock mocks; prints the first
    instance's inputs of each group as the mock received them."""
    import pulumi
    import pulumi_aws as aws

    templates: list[dict[str, Any]] = json.loads(templates_path.read_text())
    firsts = {t["name"] for t in templates}
    seen: dict[str, dict[str, Any]] = {}

    class FloorMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            if args.name in firsts:
                seen[args.name] = args.inputs
            return f"{args.name}-id", args.inputs

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
            return {}

    pulumi.runtime.set_mocks(FloorMocks(), project="ssm-inventory", stack=STACK, preview=False)

    @pulumi.runtime.test
    def program() -> pulumi.Output[list[str]]:
        ids = []
        for group, template in zip(fleet(n), templates, strict=True):
            inputs = template["inputs"]
            metadata, root = inputs["metadataOptions"], inputs["rootBlockDevice"]
            for number in range(1, group["count"] + 1):
                subnets = template["subnetIds"]
                instance = aws.ec2.Instance(
                    f"{template['namePrefix']}{number}",
                    aws.ec2.InstanceArgs(
                        ami=inputs["ami"],
                        instance_type=inputs["instanceType"],
                        subnet_id=subnets[(number - 1) % len(subnets)],
                        vpc_security_group_ids=inputs["vpcSecurityGroupIds"],
                        iam_instance_profile=inputs["iamInstanceProfile"],
                        associate_public_ip_address=inputs["associatePublicIpAddress"],
                        metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                            http_endpoint=metadata["httpEndpoint"],
                            http_tokens=metadata["httpTokens"],
                            http_put_response_hop_limit=int(metadata["httpPutResponseHopLimit"]),
                        ),
                        root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                            encrypted=root["encrypted"],
                            volume_type=root["volumeType"],
                            volume_size=root.get("volumeSize"),
                            delete_on_termination=root["deleteOnTermination"],
                            tags=root["tags"],
                        ),
                        user_data=inputs.get("userData"),
                        tags={**inputs["tags"], "Name": f"{template['tagNamePrefix']}{number}"},
                    ),
                )
                ids.append(instance.id)
        return pulumi.Output.all(*ids)

    program()
    print(json.dumps(seen))


def floor_templates(n: int, workdir: Path) -> Path:
    """The inputs the program gives the first instance of each group (from a plan of 2 per
    group), and each group's subnet rotation: what the floor registers."""
    small = [{**g, "count": 2} for g in fleet(n)]
    proc = subprocess.run(plan_command(small), capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"template plan failed:\n{proc.stderr[-3000:]}")
    instances = [r for r in json.loads(proc.stdout)["resources"] if r["type"] == INSTANCE_TYPE]
    templates = []
    for group in small:
        members = [r for r in instances if r["inputs"]["tags"]["InstanceRole"] == group["role"]]
        first = next(r for r in members if r["name"].endswith("1"))
        tag_name = first["inputs"]["tags"]["Name"]
        templates.append({
            "name": first["name"],
            "namePrefix": first["name"].removesuffix("1"),
            "tagNamePrefix": tag_name.removesuffix("1"),
            "subnetIds": [r["inputs"]["subnetId"] for r in sorted(members, key=lambda r: r["name"])],
            "inputs": first["inputs"],
        })
    path = workdir / f"floor-{n}.json"
    path.write_text(json.dumps(templates))
    return path


def check_floor_inputs(templates_path: Path, floor_stdout: str) -> None:
    """The floor must have sent what the plan sent, or the comparison means nothing."""
    seen = json.loads(floor_stdout.strip().splitlines()[-1])
    for template in json.loads(templates_path.read_text()):
        got = seen.get(template["name"])
        if got != template["inputs"]:
            raise SystemExit(f"floor inputs of {template['name']} differ from the plan's:\n"
                             f"plan:  {template['inputs']}\nfloor: {got}")


# -- measuring -----------------------------------------------------------------------------

def measure(cmd: list[str], source: Path | None = None) -> tuple[float, float, float, str]:
    """Runs ``cmd`` as a fresh process (in ``source`` when given): wall seconds, CPU seconds
    (user + system), peak RSS MiB, and its stdout when it is the floor."""
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=source or ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):  # 1: a mandatory violation, still a full plan
            err.seek(0)
            raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}):\n"
                             f"{err.read().decode()[-3000:]}")
        out.seek(0)
        stdout = out.read().decode() if len(cmd) > 1 and "--floor" in cmd else ""
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout


def bench(n: int, repeat: int, workdir: Path, policy: bool, before: Path | None) -> dict[str, Any]:
    templates = floor_templates(n, workdir)
    floor_cmd = [sys.executable, __file__, "--floor", str(n), str(templates)]
    plans, floors, befores = [], [], []
    for _ in range(repeat):  # interleaved, so background load hits all sides alike
        plans.append(measure(plan_command(fleet(n)))[:3])
        *floor, stdout = measure(floor_cmd)
        check_floor_inputs(templates, stdout)
        floors.append(tuple(floor))
        if before:
            befores.append(measure(plan_command(fleet(n), source=before), before)[:3])
    row: dict[str, Any] = {"n": n, "groups": len(fleet(n))}
    for side, runs in (("plan", plans), ("floor", floors), ("before", befores)):
        if not runs:
            continue
        row[f"{side}_s"] = min(r[0] for r in runs)
        row[f"{side}_cpu"] = min(r[1] for r in runs)
        row[f"{side}_mib"] = min(r[2] for r in runs)
    row["time_ratio"] = row["plan_s"] / row["floor_s"]
    row["cpu_ratio"] = row["plan_cpu"] / row["floor_cpu"]
    row["mem_ratio"] = row["plan_mib"] / row["floor_mib"]
    if before:
        row["before_time_ratio"] = row["before_s"] / row["floor_s"]
        row["before_mem_ratio"] = row["before_mib"] / row["floor_mib"]
    row["policy_s"] = measure(plan_command(fleet(n), policy=True))[0] if policy else None
    return row


# -- fleet modes -----------------------------------------------------------------------

MODES = ("instances", "autoscaling")


def compare_modes(n: int, repeat: int) -> None:
    """One group of ``n`` in each mode, best of ``repeat`` fresh CLI processes (interleaved)."""
    runs: dict[str, list[tuple[float, float, float, str]]] = {mode: [] for mode in MODES}
    for _ in range(repeat):
        for mode in MODES:
            runs[mode].append(measure(plan_command([{"role": "WebServer", "count": n, "mode": mode}])))
    counts = {mode: _resource_count(n, mode) for mode in MODES}
    print(f"fleet modes: one group of {n}, stack {STACK} (whole processes, best of {repeat})")
    header = f"{'mode':>12} {'resources':>9} {'plan s':>7} {'plan MiB':>8}"
    print(header)
    print("-" * len(header))
    for mode, found in runs.items():
        print(f"{mode:>12} {counts[mode]:>9} {min(r[0] for r in found):>7.2f} "
              f"{min(r[2] for r in found):>8.0f}")


def _resource_count(n: int, mode: str) -> int:
    cmd = plan_command([{"role": "WebServer", "count": n, "mode": mode}])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{mode} n={n} failed:\n{proc.stderr[-3000:]}")
    return len(json.loads(proc.stdout)["resources"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="CI: 100 and 500 instances, once")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--policy", action="store_true",
                        help="also time one plan with the policy pack (whole process)")
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="also measure the plan of another checkout (e.g. `git worktree "
                             "add DIR <commit>`), interleaved: a before/after comparison")
    parser.add_argument("--modes", type=int, metavar="N",
                        help="compare fleet modes instead: one group of N as instances and as "
                             "an Auto Scaling group")
    parser.add_argument("--floor", nargs=2, metavar=("N", "TEMPLATES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.modes:
        compare_modes(args.modes, max(1, args.repeat))
        return 0

    if args.floor:
        floor_process(int(args.floor[0]), Path(args.floor[1]))
        return 0

    sizes = [100, 500] if args.smoke else [int(s) for s in args.sizes.split(",")]
    repeat = 1 if args.smoke else max(1, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(n, repeat, Path(tmp), args.policy, args.before) for n in sizes]

    print(f"fleetctl plan vs floor, stack {STACK} (whole processes, best of {repeat}, "
          "interleaved; wall and CPU seconds, peak RSS)")
    header = (f"{'instances':>9} {'groups':>6} {'plan s':>7} {'floor s':>7} {'time':>6} "
              f"{'plan cpu':>8} {'floor cpu':>9} {'cpu':>6} "
              f"{'plan MiB':>8} {'floor MiB':>9} {'memory':>6}"
              + (f" {'with policy s':>13}" if args.policy else ""))
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['n']:>9} {r['groups']:>6} {r['plan_s']:>7.2f} {r['floor_s']:>7.2f} "
              f"{r['time_ratio']:>5.2f}x {r['plan_cpu']:>8.2f} {r['floor_cpu']:>9.2f} "
              f"{r['cpu_ratio']:>5.2f}x {r['plan_mib']:>8.0f} {r['floor_mib']:>9.0f} "
              f"{r['mem_ratio']:>5.2f}x"
              + (f" {r['policy_s']:>13.2f}" if args.policy else ""))
    if args.before:
        print(f"before ({args.before}):")
        for r in rows:
            print(f"{r['n']:>9} {r['groups']:>6} {r['before_s']:>7.2f} {r['floor_s']:>7.2f} "
                  f"{r['before_time_ratio']:>5.2f}x {r['before_cpu']:>8.2f} {r['floor_cpu']:>9.2f} "
                  f"{r['before_cpu'] / r['floor_cpu']:>5.2f}x {r['before_mib']:>8.0f} "
                  f"{r['floor_mib']:>9.0f} {r['before_mem_ratio']:>5.2f}x")
    print(f"plan: {' '.join(plan_command([])[:6])} --config fleet=... > /dev/null")
    if args.smoke:
        return 0
    missed = [r["n"] for r in rows if max(r["time_ratio"], r["mem_ratio"]) > TARGET]
    verdict = "MISSED at " + ", ".join(map(str, missed)) if missed else "ok"
    print(f"target: plan <= {TARGET}x floor in time and in peak memory: {verdict}")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
