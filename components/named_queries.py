"""The fleet reports: one Athena (Trino) SQL file per report in components/queries/.

Each file starts with comment lines ``-- description: ...`` and ``-- param NAME: DEFAULT``; a
parameter appears in the SQL only inside a string literal as ``'${NAME}'``, so a value is
always data (its quotes doubled), never SQL. The Athena named query is the text with the
defaults; ``fleetctl report run --param`` renders other values; ``--local`` translates the
rendered text for DuckDB with sqlglot. One text per report, no second copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

QUERY_DIR = Path(__file__).parent / "queries"
_HEADER = re.compile(r"^--\s*(description|param)\s*(\w*)\s*:\s?(.*)$")
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


class QueryParameterError(ValueError):
    pass


@dataclass(frozen=True)
class ReportQuery:
    name: str
    description: str
    defaults: dict[str, str]
    sql: str  # the file's text, placeholders included

    def render(self, values: dict[str, str] | None = None) -> str:
        """The SQL with each ``${name}`` replaced by its value (or default), quotes doubled."""
        values = values or {}
        unknown = sorted(set(values) - set(self.defaults))
        if unknown:
            allowed = ", ".join(self.defaults) or "none"
            raise QueryParameterError(
                f"report {self.name!r} has no parameter {', '.join(unknown)}; allowed: {allowed}"
            )
        merged = {**self.defaults, **values}
        return _PLACEHOLDER.sub(lambda m: merged[m.group(1)].replace("'", "''"), self.sql)


def parse_query(name: str, text: str) -> ReportQuery:
    description, defaults = "", {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if not match:
            continue
        kind, param, value = match.groups()
        if kind == "description":
            description = value.strip()
        else:
            defaults[param] = value.strip()
    used = set(_PLACEHOLDER.findall(text))
    if used - set(defaults):
        raise QueryParameterError(f"{name}.sql uses undeclared parameters {sorted(used - set(defaults))}")
    return ReportQuery(name, description, defaults, text)


def load_queries(directory: Path = QUERY_DIR) -> dict[str, ReportQuery]:
    return {
        path.stem: parse_query(path.stem, path.read_text())
        for path in sorted(directory.glob("*.sql"))
    }
