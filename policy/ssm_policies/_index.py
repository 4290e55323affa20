"""One pass over a stack's resources, building the lookups stack policies need.

Stack policies follow references the way AWS does (an instance names its profile, the
profile names its role, an attachment names the role): by id, name or ARN. Building the
maps once keeps every stack policy linear in the number of resources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pulumi_policy import PolicyResource

from ._props import get, last_segment

# Output properties that identify a resource when others refer to it.
_REF_KEYS = ("id", "name", "arn", "bucket")


class StackIndex:
    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.by_type: dict[str, list[PolicyResource]] = defaultdict(list)
        self._refs: dict[tuple[str, str], PolicyResource] = {}
        for resource in resources:
            self.by_type[resource.resource_type].append(resource)
            for key in _REF_KEYS:
                value = get(resource.props, key)
                if isinstance(value, str) and value:
                    self._refs.setdefault((resource.resource_type, value), resource)
                    # ARNs and names both resolve: references may use either form.
                    self._refs.setdefault((resource.resource_type, last_segment(value)), resource)

    def of(self, *type_tokens: str) -> list[PolicyResource]:
        result: list[PolicyResource] = []
        for token in type_tokens:
            result.extend(self.by_type.get(token, ()))
        return result

    def find(self, ref: Any, *type_tokens: str) -> PolicyResource | None:
        """The resource of one of ``type_tokens`` that ``ref`` (id, name or ARN) names."""
        if not isinstance(ref, str) or not ref:
            return None
        for token in type_tokens:
            found = self._refs.get((token, ref)) or self._refs.get((token, last_segment(ref)))
            if found is not None:
                return found
        return None
