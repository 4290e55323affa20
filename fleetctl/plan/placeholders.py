"""Which plan values the mocks made up, so the human plan shows them as computed.

Under mocks every id, ARN, account id and AMI id is a deterministic stand-in: useful for
diffable JSON, misleading in a plan a person reads (the same ``vpc-...`` in dev and prod looks
like a real VPC). ``TracingMocks`` wraps the mocks and notes each value it invents together
with where it comes from; ``Placeholders.show`` then writes ``<network-vpc.id>``,
``<getParameter: /aws/service/...>`` or ``<account-id>`` instead of the made-up value.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi

# State keys that hold a value AWS assigns at create time (ids, ARNs, generated names, IPs).
_COMPUTED_KEY = re.compile(r"(^id$|Id$|^arn$|Arn$|^name$|Name$|^bucket$|Ip$|^uniqueId$)")


class Placeholders:
    """Made-up value -> what it stands for."""

    def __init__(self) -> None:
        self.labels: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: Any, label: str) -> None:
        if isinstance(value, str) and len(value) >= 6 and value not in self.labels:
            self.labels[value] = label
            self._pattern = None

    def show(self, text: str) -> str:
        """``text`` with every made-up value (whole or inside, e.g. an ARN) replaced."""
        if not self.labels or not text:
            return text
        if text in self.labels:
            return self.labels[text]
        if self._pattern is None:
            # Longest first, so an ARN wins over the account id inside it.
            keys = sorted(self.labels, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(k) for k in keys))
        return self._pattern.sub(lambda m: self.labels[m.group(0)], text)


class TracingMocks(pulumi.runtime.Mocks):
    """Delegates to ``inner`` and records in ``placeholders`` what it invented."""

    def __init__(self, inner: pulumi.runtime.Mocks) -> None:
        self.inner = inner
        self.placeholders = Placeholders()
        self.placeholders.add(getattr(inner, "account_id", None), "<account-id>")

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        answer: Any = self.inner.call(args)
        # Mocks may answer with the outputs alone or with (outputs, failures).
        result: dict[str, Any] = answer[0] if isinstance(answer, tuple) else answer
        function = args.token.rsplit(":", 1)[-1]
        if function == "getCallerIdentity":
            self.placeholders.add(result.get("accountId"), "<account-id>")
            self.placeholders.add(result.get("userId"), "<caller-user-id>")
        elif function == "getParameter":
            parameter = str(args.args.get("name", "")).rsplit("/", 1)[-1]
            self.placeholders.add(result.get("value"), f"<{function} .../{parameter}>")
        elif function == "getAmi":
            self.placeholders.add(result.get("id"), f"<{function}: newest match>")
        return answer

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> Any:
        resource_id, state = self.inner.new_resource(args)
        # Named outputs first: an IAM role's id is its name, a policy's its ARN.
        for key, value in (state or {}).items():
            if key != "id" and key not in args.inputs and _COMPUTED_KEY.search(key):
                self.placeholders.add(value, f"<{args.name}.{key}>")
        if resource_id not in args.inputs.values():  # an id the program chose is known
            self.placeholders.add(resource_id, f"<{args.name}.id>")
        return resource_id, state
