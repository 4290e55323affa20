"""How long the policy pack takes on large stacks, through the real protocol.

Builds stacks of 100, 1,000 and 5,000 resources by replicating the dev stack's recording
(every copy gets its own ids, names and URNs, references rewritten alike, and its own
inventory target set), starts the pack as the engine does, then times ``Analyze`` for every
custom resource and one ``AnalyzeStack``. Stack policies index the stack once, so the
``AnalyzeStack`` time per resource should stay flat as the stack grows. (Most of that time
is the SDK's: it deserializes the whole stack again for each stack policy.)

    .venv/bin/python benchmarks/policy_bench.py [--sizes 100 1000 5000] [--config prod]
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fleetctl.plan.analyzer_client import (  # noqa: E402
    PolicyPackServer,
    load_config_file,
    mandatory,
)
from fleetctl.plan.mockrun import RecordedResource, run_program  # noqa: E402

STACK = "pulumi:pulumi:Stack"


def _tokens(resources: list[RecordedResource]) -> list[str]:
    """Strings other resources use to refer to these: URNs, ids, names, bucket names."""
    found: set[str] = set()
    for r in resources:
        if r.type == STACK:
            continue
        found.add(r.urn)
        for value in (r.id, r.outputs.get("name"), r.outputs.get("bucket")):
            if isinstance(value, str) and len(value) > 3:
                found.add(value)
    return sorted(found, key=len, reverse=True)


def replicate(template: list[RecordedResource], size: int) -> list[RecordedResource]:
    """At least ``size`` resources: the template, then renamed whole copies of it (root stack
    once). Whole copies only: a copy cut short would lose, say, the instance profile its
    instances need, and fail policies the real stack passes."""
    root, body = template[0], [r for r in template if r.type != STACK]
    pattern = re.compile("|".join(re.escape(t) for t in _tokens(body)))
    text = json.dumps([asdict(r) for r in body])
    result = [root]
    copy_no = 0
    while len(result) < size:
        suffix = f"-c{copy_no}"
        # One pass, so equal strings stay equal and references still resolve.
        rewritten = pattern.sub(lambda m, s=suffix: m.group(0) + s, text)  # type: ignore[misc]
        for data in json.loads(rewritten):
            resource = RecordedResource(**data)
            if resource.type == "aws:ssm/association:Association":
                for props in (resource.inputs, resource.outputs):
                    props["targets"] = [*props.get("targets", []),
                                        {"key": "tag:Copy", "values": [str(copy_no)]}]
            result.append(resource)
        copy_no += 1
    return copy.deepcopy(result)


def measure(pack: PolicyPackServer, resources: list[RecordedResource]) -> dict[str, float]:
    pack.register_providers(resources)
    custom = [r for r in resources if r.custom and not r.type.startswith("pulumi:providers:")]
    started = time.perf_counter()
    diagnostics = [d for r in custom for d in pack.analyze(r)]
    analyze = time.perf_counter() - started
    started = time.perf_counter()
    diagnostics += pack.analyze_stack(resources)
    stack = time.perf_counter() - started
    return {"resources": len(resources), "analyzed": len(custom), "analyze_s": analyze,
            "stack_s": stack, "mandatory": len(mandatory(diagnostics))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--config", default="prod", help="policy/config/<name>.json")
    args = parser.parse_args()

    template = run_program("dev").resources
    config = load_config_file(ROOT / "policy" / "config" / f"{args.config}.json")
    rows = []
    with PolicyPackServer(ROOT / "policy", config) as pack:
        print(f"pack ready: {len(pack.info().policies)} policies, config {args.config}.json")
        for size in args.sizes:
            rows.append(measure(pack, replicate(template, size)))

    print(f"\n{'resources':>9} {'Analyze calls':>13} {'Analyze total':>13} {'per call':>9} "
          f"{'AnalyzeStack':>12} {'per 1k res':>10} {'mandatory':>9}")
    for row in rows:
        print(f"{row['resources']:>9} {row['analyzed']:>13} {row['analyze_s']:>12.2f}s "
              f"{1000 * row['analyze_s'] / row['analyzed']:>7.2f}ms {row['stack_s']:>11.2f}s "
              f"{1000 * row['stack_s'] / row['resources']:>8.2f}s {row['mandatory']:>9}")
    if len(rows) > 1:
        small, large = rows[-2], rows[-1]
        growth = (large["stack_s"] / large["resources"]) / (small["stack_s"] / small["resources"])
        print(f"\nAnalyzeStack time per resource, {large['resources']} vs {small['resources']}: "
              f"x{growth:.2f} ({'linear' if growth < 1.5 else 'SUPERLINEAR'})")


if __name__ == "__main__":
    main()
