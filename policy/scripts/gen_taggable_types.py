"""Regenerates ``ssm_policies/aws_taggable.py`` from an installed ``pulumi_aws``.

A resource counts as taggable when the provider gives it a ``tags`` map and a computed
``tagsAll`` (the provider's own marker for resources that take ``default_tags``). Policies
cannot tell "untagged" from "untaggable" by looking at props, so they need this list.

Run from the repo root with a venv that has pulumi-aws:
    .venv/bin/python policy/scripts/gen_taggable_types.py
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pulumi_aws

_TOKEN = re.compile(r"super\(\w+, __self__\).__init__\(\s*'(aws:[^']+)'")
_TAGS_ALL = '__props__.__dict__["tags_all"] = None'
_TAGS = '__props__.__dict__["tags"] = tags'

OUT = Path(__file__).resolve().parent.parent / "ssm_policies" / "aws_taggable.py"


def main() -> None:
    root = Path(pulumi_aws.__file__).parent
    tokens: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if _TAGS not in text or _TAGS_ALL not in text:
            continue
        tokens.update(_TOKEN.findall(text))
    version = metadata.version("pulumi-aws")
    lines = [
        f'"""AWS resource types with a ``tags`` map (generated from pulumi-aws {version}).',
        "",
        "Do not edit: regenerate with ``policy/scripts/gen_taggable_types.py``.",
        '"""',
        "",
        "TAGGABLE_TYPES: frozenset[str] = frozenset(",
        "    {",
        *[f'        "{t}",' for t in sorted(tokens)],
        "    }",
        ")",
        "",
    ]
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(tokens)} taggable types -> {OUT}")


if __name__ == "__main__":
    main()
