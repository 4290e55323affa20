"""``softwarePolicy``: rules judged against each node's ``AWS:Application`` inventory. The
per-field checks are fleetctl.compliance.rules' (shared with the Lambda function's policy
file); ``software_policy_problems`` adds the check across rules (unique ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from components.config._base import NAMESPACE, _Model
from components.event_schedule import validate_event_schedule
from fleetctl.compliance import rules as policy_rules
from fleetctl.compliance.model import Rule, RuleKind

if TYPE_CHECKING:
    from components.config.stack import StackConfig

class SoftwareRule(_Model):
    """One rule of ``softwarePolicy.rules``; the checks are fleetctl.compliance.rules' (the
    Lambda function's policy file is checked by the same functions)."""

    id: Annotated[str, AfterValidator(policy_rules.check_id)]
    kind: Annotated[str, AfterValidator(policy_rules.check_kind)]
    name: Annotated[str, AfterValidator(policy_rules.check_name)]
    # Before ``versions``: the versions check reads which orderings the platforms use.
    platforms: Annotated[list[str], AfterValidator(lambda v: list(policy_rules.check_platforms(v)))] = Field(
        default_factory=list
    )
    versions: str | None = None
    severity: Annotated[str, AfterValidator(policy_rules.check_severity)] = "MEDIUM"
    title: Annotated[
        str | None, AfterValidator(lambda v: v if v is None else policy_rules.check_title(v))
    ] = None

    @field_validator("versions", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        # YAML reads `versions: 3.0` as a number, and `versions: >=3.0` as a folded block.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(
                f"got the number {value}; write the constraint as a quoted string with an "
                f"operator, like \">=3.0\" or \"=={value}\" ({policy_rules.CONSTRAINT_HELP})"
            )
        return value

    @field_validator("versions")
    @classmethod
    def _constraint(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return policy_rules.check_versions(value, info.data.get("platforms") or ())

    def to_rule(self) -> Rule:
        return Rule(
            id=self.id, kind=cast(RuleKind, self.kind), name=self.name, versions=self.versions,
            platforms=tuple(self.platforms), severity=self.severity, title=self.title,
        )


class SoftwarePolicyConfig(_Model):
    """The software policy (docs/configuration.md#softwarepolicy): rules judged against each
    node's ``AWS:Application`` inventory as compliance type ``Custom:SoftwarePolicy``, by
    ``fleetctl compliance evaluate`` and, with ``schedule``, by a Lambda function on an
    EventBridge schedule."""

    rules: list[SoftwareRule]
    # An EventBridge scheduled-rule expression; unset: no function, evaluate from the CLI.
    schedule: Annotated[
        str | None, AfterValidator(lambda v: v if v is None else validate_event_schedule(v))
    ] = None

    @field_validator("rules")
    @classmethod
    def _some_rules(cls, rules: list[SoftwareRule]) -> list[SoftwareRule]:
        if not rules:
            raise ValueError(
                "is empty; list at least one rule like {id: ssm-agent, kind: required, name: "
                "amazon-ssm-agent} (remove softwarePolicy to turn the policy off)"
            )
        if len(rules) > policy_rules.MAX_RULES:
            raise ValueError(
                f"has {len(rules)} rules; at most {policy_rules.MAX_RULES} (a node's items go "
                "in one PutComplianceItems call, at most 10,000 items)"
            )
        return rules

    def to_rules(self) -> list[Rule]:
        return [rule.to_rule() for rule in self.rules]


def software_policy_problems(config: StackConfig) -> list[str]:
    """Rule ids used twice (each later rule named in full; an id is its compliance item's Id)."""
    if config.software_policy is None:
        return []
    rules = config.software_policy.rules
    return [
        f"{NAMESPACE}:softwarePolicy.rules[{index}].id: {rules[index].id!r} is already the id of "
        f"rules[{earlier}]; rule ids must be unique (each is the Id of the rule's compliance item)"
        for index, earlier in policy_rules.duplicate_ids(rule.id for rule in rules).items()
    ]
