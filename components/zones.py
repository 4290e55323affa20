"""Availability zones where everything the stack launches is offered.

Not every instance type is offered in every zone (t3 is absent from us-east-1's ``use1-az3``),
and an interface endpoint service lists the zones it serves (lab facts §7): a subnet in any
other zone makes RunInstances or CreateVpcEndpoint fail. Zone *names* map to different
physical zones in each account, so offerings are matched by zone *ID*
(``DescribeInstanceTypeOfferings`` with location type ``availability-zone-id``; the endpoint
service's zone names are translated through ``DescribeAvailabilityZones``).

Among the zones that qualify, the first ``azCount`` in zone-name order are used (the order
operators see in the console), so the choice is deterministic for an account and region.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

import pulumi_aws as aws

from components.config import ConfigError


@dataclass(frozen=True, order=True)
class Zone:
    name: str
    zone_id: str

    def __str__(self) -> str:
        return f"{self.name} ({self.zone_id})"


# What a zone must offer: (kind, name), e.g. ("instance type", "t3.micro") or
# ("endpoint service", "ssm"), mapped to the IDs of the zones offering it.
Need = tuple[str, str]


def _describe_needs(needs: Sequence[Need]) -> str:
    """``instance type t3.micro and endpoint services ssm, ec2``."""
    by_kind: dict[str, list[str]] = {}
    for kind, name in needs:
        by_kind.setdefault(kind, []).append(name)
    return " and ".join(
        f"{kind}{'s' if len(names) > 1 else ''} {', '.join(names)}" for kind, names in by_kind.items()
    )


def pick_zones(
    az_count: int, zones: Sequence[Zone], offered_in: Mapping[Need, Set[str]], region: str
) -> list[Zone]:
    """The first ``az_count`` zones (by name) whose ID is in every ``offered_in`` set.

    Raises one ConfigError naming ``azCount`` and, for each zone left out, what it lacks.
    """
    zones = sorted(zones)
    names = ", ".join(z.name for z in zones)
    if len(zones) < az_count:
        raise ConfigError(
            f"ssm-inventory:azCount: {az_count} AZs requested but the region has "
            f"{len(zones)} available ({names}); use 1 to {len(zones)}"
        )
    lacking = {
        zone: [need for need, zone_ids in offered_in.items() if zone.zone_id not in zone_ids]
        for zone in zones
    }
    eligible = [zone for zone in zones if not lacking[zone]]
    if len(eligible) < az_count:
        gaps = "; ".join(
            f"{zone} lacks {_describe_needs(needs)}" for zone, needs in lacking.items() if needs
        )
        allowed = f"use 1 to {len(eligible)}" if eligible else "no zone qualifies"
        raise ConfigError(
            f"ssm-inventory:azCount: {az_count} AZs requested but only {len(eligible)} of the "
            f"{len(zones)} available in {region} offer every instance type and endpoint service "
            f"of the stack ({gaps}); {allowed}, or change fleet[].instanceType / endpoints"
        )
    return eligible[:az_count]


def _region_zones() -> list[Zone]:
    listing = aws.get_availability_zones(state="available")
    return [Zone(name, zone_id) for name, zone_id in zip(listing.names, listing.zone_ids, strict=True)]


def _instance_type_zone_ids(instance_types: Sequence[str]) -> dict[str, set[str]]:
    """Zone IDs offering each instance type (one DescribeInstanceTypeOfferings call)."""
    offerings = aws.ec2.get_instance_type_offerings(
        location_type="availability-zone-id",
        filters=[
            aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="instance-type", values=list(instance_types))
        ],
    )
    offered: dict[str, set[str]] = {t: set() for t in instance_types}
    for instance_type, zone_id in zip(offerings.instance_types, offerings.locations, strict=True):
        offered.setdefault(instance_type, set()).add(zone_id)
    return offered


def _endpoint_service_zone_ids(service_name: str, id_by_name: Mapping[str, str]) -> set[str]:
    """Zone IDs an interface endpoint service is offered in (the API lists zone names)."""
    service = aws.ec2.get_vpc_endpoint_service(service_name=service_name, service_type="Interface")
    return {id_by_name[name] for name in service.availability_zones if name in id_by_name}


def choose_zones(
    az_count: int,
    region: str,
    instance_types: Iterable[str] = (),
    endpoint_services: Mapping[str, str] | None = None,
) -> list[Zone]:
    """``az_count`` available zones of the region offering every instance type and interface
    endpoint service given (``endpoint_services``: configured name, e.g. ``ssm``, to endpoint
    service name, ``com.amazonaws.us-east-1.ssm``); a ConfigError naming ``azCount``
    otherwise. Invokes only: call it before registering anything."""
    zones = _region_zones()
    id_by_name = {zone.name: zone.zone_id for zone in zones}
    offered_in: dict[Need, Set[str]] = {}
    types = sorted(set(instance_types))
    offered_types = _instance_type_zone_ids(types) if types else {}
    for instance_type in types:
        offered_in["instance type", instance_type] = offered_types[instance_type]
    for service, service_name in (endpoint_services or {}).items():
        offered_in["endpoint service", service] = _endpoint_service_zone_ids(service_name, id_by_name)
    return pick_zones(az_count, zones, offered_in, region)
