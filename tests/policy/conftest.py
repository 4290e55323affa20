"""Fixtures for the policy tests: the pack directory on sys.path (the pack imports its
policies as the top-level package ``ssm_policies``, as it does when the CLI runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policy"
for _path in (str(ROOT), str(PACK_DIR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
