"""The config package's shape: every name the repository imports from ``components.config``
is re-exported by the package, and each module says what it holds.

Importers write ``from components.config import X`` whatever module of the package defines X;
this keeps a name moved between modules (or a new importer) from breaking an import that the
other tests would only reach by chance.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import components.config

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("components", "fleetctl", "policy", "tests", "benchmarks", "examples")


def _imported_names() -> dict[str, set[str]]:
    """Name -> files that import it from ``components.config`` (ast, so comments do not count)."""
    files = [ROOT / "__main__.py"]
    for folder in SOURCE_DIRS:
        files += [p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts]
    names: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "components.config":
                for alias in node.names:
                    names.setdefault(alias.name, set()).add(str(path.relative_to(ROOT)))
    return names


def test_every_imported_name_is_reexported() -> None:
    names = _imported_names()
    # The program, fleetctl and the tests all import from the package.
    assert {"ConfigError", "parse_stack_config", "load_stack_config", "FleetGroup"} <= names.keys()
    missing = {name: files for name, files in names.items() if name not in components.config.__all__}
    assert not missing
    for name in names:
        assert getattr(components.config, name) is not None


def test_all_names_exist() -> None:
    for name in components.config.__all__:
        assert hasattr(components.config, name), name


def test_every_module_has_a_docstring() -> None:
    for info in pkgutil.iter_modules(components.config.__path__):
        module = importlib.import_module(f"components.config.{info.name}")
        assert module.__doc__ and module.__doc__.strip(), info.name
