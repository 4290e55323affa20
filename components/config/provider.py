"""Checks of the ``aws:`` provider keys in the same stack config: keys the aws provider does
not have (typos, with a suggestion) and regions pulumi-aws does not know.
"""

from __future__ import annotations

from pydantic.alias_generators import to_camel

from components.config._base import _close
from components.config._types import KNOWN_REGIONS


def _provider_config_keys() -> frozenset[str]:
    """The aws provider's config keys, asked of pulumi-aws (its ``pulumi_aws.config`` module)."""
    import pulumi_aws.config as aws_config

    _ = aws_config.region  # the SDK loads the module lazily: touch it to get its real class
    names = [n for n, v in vars(type(aws_config)).items() if isinstance(v, property)]
    return frozenset(to_camel(n) for n in names)


def _provider_problems(raw: dict[str, str]) -> list[str]:
    """``aws:`` keys the provider does not have (typos) and regions pulumi-aws does not know."""
    problems = []
    keys = _provider_config_keys()
    # The provider's own escape hatch for regions it does not list yet.
    skip_region_check = str(raw.get("aws:skipRegionValidation", "")).lower() == "true"
    for full_key, text in raw.items():
        if not full_key.startswith("aws:"):
            continue
        key = full_key.removeprefix("aws:")
        if key not in keys:
            suggestion = _close(key, keys).replace("'", "'aws:", 1)
            problems.append(f"{full_key}: is not a key of the aws provider{suggestion}")
        elif key == "region" and text not in KNOWN_REGIONS and not skip_region_check:
            problems.append(f"{full_key}: unknown region {text!r}{_close(str(text), KNOWN_REGIONS)} "
                            f"(regions pulumi-aws knows: pulumi_aws.Region)")
    return problems
