"""The evaluator: required/forbidden, globs, constraint boundaries, platforms, no inventory.

Entries are shaped as the agent reports them (see test_versions.py for the sources).
"""

from __future__ import annotations

from fleetctl.compliance.evaluate import DETAIL_VALUE_MAX, evaluate, evaluate_instance
from fleetctl.compliance.model import InstanceSoftware, Rule


def rpm(name: str, version: str, release: str = "1.amzn2023", epoch: str = "") -> dict[str, str]:
    return {"Name": name, "Version": version, "Release": release, "Epoch": epoch,
            "PackageId": f"{name}-{version}-{release}.src.rpm"}


def deb(name: str, version: str) -> dict[str, str]:
    return {"Name": name, "Version": version, "PackageId": f"{name}_{version}_amd64.deb"}


def linux(*apps: dict[str, str], instance_id: str = "i-0aaa") -> InstanceSoftware:
    return InstanceSoftware(instance_id, "Linux", "Amazon Linux", tuple(apps))


def item(rule: Rule, node: InstanceSoftware):
    (only,) = evaluate_instance([rule], node).items
    return only


AGENT = Rule("ssm-agent", "required", "amazon-ssm-agent", ">=3.3.40.0", severity="HIGH")


def test_required_at_the_boundary() -> None:
    assert item(AGENT, linux(rpm("amazon-ssm-agent", "3.3.40.0"))).status == "COMPLIANT"
    below = item(AGENT, linux(rpm("amazon-ssm-agent", "3.3.39.9")))
    assert below.status == "NON_COMPLIANT"
    assert below.details["Found"] == "amazon-ssm-agent 3.3.39.9-1.amzn2023"
    assert below.details["Constraint"] == ">=3.3.40.0"
    assert "no installed version satisfies" in below.details["Result"]


def test_required_and_missing() -> None:
    result = item(AGENT, linux(rpm("bash", "5.2.15")))
    assert result.status == "NON_COMPLIANT"
    assert result.details["Result"] == "amazon-ssm-agent is not installed"
    assert "Found" not in result.details


def test_required_is_met_by_any_matching_package() -> None:
    node = linux(rpm("amazon-ssm-agent", "3.2.0.0", release="1.x86_64"),
                 rpm("amazon-ssm-agent", "3.3.1142.0"))
    result = item(AGENT, node)
    assert result.status == "COMPLIANT"
    assert result.details["Found"] == ("amazon-ssm-agent 3.2.0.0-1.x86_64, "
                                       "amazon-ssm-agent 3.3.1142.0-1.amzn2023")


def test_range_constraint_is_an_and() -> None:
    rule = Rule("py", "required", "python3", ">=3.9,<3.12")
    assert item(rule, linux(rpm("python3", "3.9.16"))).status == "COMPLIANT"
    assert item(rule, linux(rpm("python3", "3.11.6"))).status == "COMPLIANT"
    assert item(rule, linux(rpm("python3", "3.12.0"))).status == "NON_COMPLIANT"
    assert item(rule, linux(rpm("python3", "3.8.20"))).status == "NON_COMPLIANT"


def test_rpm_constraint_without_release_ignores_the_installed_release() -> None:
    exact = Rule("pin", "required", "amazon-ssm-agent", "==3.3.1142.0")
    assert item(exact, linux(rpm("amazon-ssm-agent", "3.3.1142.0", "7.amzn2023"))).status == "COMPLIANT"
    with_release = Rule("pin", "required", "amazon-ssm-agent", "==3.3.1142.0-1.amzn2023")
    assert item(with_release, linux(rpm("amazon-ssm-agent", "3.3.1142.0", "7.amzn2023"))).status == (
        "NON_COMPLIANT"
    )


def test_forbidden_glob() -> None:
    rule = Rule("no-telnet", "forbidden", "telnet*", severity="CRITICAL")
    bad = item(rule, linux(rpm("telnet-server", "0.17", "85.amzn2023")))
    assert (bad.status, bad.severity) == ("NON_COMPLIANT", "CRITICAL")
    assert bad.details["Found"] == "telnet-server 0.17-85.amzn2023"
    assert item(rule, linux(rpm("openssh-server", "8.7p1"))).status == "COMPLIANT"


def test_forbidden_within_a_constraint_only() -> None:
    rule = Rule("old-openssl", "forbidden", "openssl", "<3.0")
    old = item(rule, linux(deb("openssl", "1.1.1f-1ubuntu2.23")))
    assert old.status == "NON_COMPLIANT" and old.details["Ordering"] == "deb"
    new = item(rule, linux(deb("openssl", "3.0.13-0ubuntu3.4")))
    assert new.status == "COMPLIANT"
    assert new.details["Found"] == "openssl 3.0.13-0ubuntu3.4"  # the versions found, still shown


def test_debian_tilde_at_the_boundary() -> None:
    rule = Rule("min", "required", "nginx", ">=1.24")
    assert item(rule, linux(deb("nginx", "1.24~rc1-1"))).status == "NON_COMPLIANT"
    assert item(rule, linux(deb("nginx", "1.24-1"))).status == "COMPLIANT"


def test_windows_dotted_versions() -> None:
    rule = Rule("win-agent", "required", "Amazon SSM Agent", ">=3.3.40.0", ("Windows",))
    node = InstanceSoftware("i-0win", "Windows", "Microsoft Windows Server 2022 Datacenter", (
        {"Name": "Amazon SSM Agent", "Version": "3.3.131.0", "PackageId": "{B1A3AC35-A431}"},
    ))
    result = item(rule, node)
    assert result.status == "COMPLIANT" and result.details["Ordering"] == "dotted"


def test_unreadable_versions_fail_closed() -> None:
    node = InstanceSoftware("i-0win", "Windows", None, ({"Name": "Tool", "Version": "latest"},))
    required = item(Rule("r", "required", "Tool", ">=1.0"), node)
    assert required.status == "NON_COMPLIANT"
    assert "not comparable: Tool latest" in required.details["Result"]
    forbidden = item(Rule("f", "forbidden", "Tool", "<1.0"), node)
    assert forbidden.status == "NON_COMPLIANT"


def test_rules_for_other_platforms_are_compliant_and_say_not_applicable() -> None:
    rule = Rule("win-agent", "required", "Amazon SSM Agent", platforms=("Windows",), severity="LOW")
    result = item(rule, linux(rpm("bash", "5.2.15")))
    assert (result.rule_id, result.status, result.severity) == ("win-agent", "COMPLIANT", "LOW")
    assert result.details["Result"].startswith("not applicable")


def test_a_node_of_unknown_platform_is_judged_by_every_rule() -> None:
    rule = Rule("win-agent", "required", "Amazon SSM Agent", platforms=("Windows",))
    node = InstanceSoftware("i-0", None, None, ())
    assert item(rule, node).status == "NON_COMPLIANT"


def test_nodes_without_inventory_are_never_compliant() -> None:
    rules = [AGENT, Rule("no-telnet", "forbidden", "telnet*"),
             Rule("win", "required", "x", platforms=("Windows",))]
    (verdict,) = evaluate(rules, [InstanceSoftware("i-0new", "Linux", "Amazon Linux", None)])
    assert verdict.has_inventory is False and verdict.compliant is False
    assert [i.status for i in verdict.items] == ["NON_COMPLIANT"] * 3
    assert all("no AWS:Application inventory" in i.details["Result"] for i in verdict.items)


def test_an_empty_inventory_is_an_inventory() -> None:
    (verdict,) = evaluate([Rule("no-telnet", "forbidden", "telnet*")], [linux()])
    assert verdict.has_inventory and verdict.compliant


def test_one_item_per_rule_per_node_in_order() -> None:
    rules = [AGENT, Rule("no-telnet", "forbidden", "telnet*", title="No telnet")]
    nodes = [linux(rpm("amazon-ssm-agent", "3.3.1142.0"), instance_id="i-1"),
             linux(rpm("telnet", "0.17"), instance_id="i-2")]
    verdicts = evaluate(rules, nodes)
    assert [v.instance_id for v in verdicts] == ["i-1", "i-2"]
    assert [[i.rule_id for i in v.items] for v in verdicts] == [["ssm-agent", "no-telnet"]] * 2
    assert [v.compliant for v in verdicts] == [True, False]
    assert verdicts[0].items[0].title == "required amazon-ssm-agent >=3.3.40.0"
    assert verdicts[0].items[1].title == "No telnet"


def test_details_fit_the_api_limits() -> None:
    # ComplianceItemEntry Details: values at most 4,096 characters (botocore's SSM model).
    many = [rpm(f"kernel-modules-extra-{n:04d}", "6.1.102", "111.182.amzn2023") for n in range(300)]
    result = item(Rule("no-extra", "forbidden", "kernel-modules-extra-*"), linux(*many))
    assert len(result.details["Found"]) <= DETAIL_VALUE_MAX
    assert result.details["Found"].endswith("more)")
    assert all(1 <= len(key) <= 64 and len(value) <= DETAIL_VALUE_MAX
               for key, value in result.details.items())


def test_items_do_not_depend_on_the_order_inventory_lists_packages_in() -> None:
    # PutComplianceItems' ItemContentHash only helps when unchanged software gives unchanged items.
    apps = [rpm("telnet", "0.17"), rpm("telnet-server", "0.17"), rpm("telnet", "0.17"),
            rpm("bash", "5.2.15")]
    rule = Rule("no-telnet", "forbidden", "telnet*")
    forward = item(rule, linux(*apps))
    backward = item(rule, linux(*reversed(apps)))
    assert forward == backward
    # the same package twice (two architectures) is listed once
    assert forward.details["Found"] == "telnet 0.17-1.amzn2023, telnet-server 0.17-1.amzn2023"


def test_ubuntu_agent_is_a_snap_among_dpkg_packages() -> None:
    # dataProvider_unix.go: with snapd installed the agent appends `snap list` entries (no
    # PackageId) to the dpkg-query ones; SSM Agent on Ubuntu is such a snap.
    node = InstanceSoftware("i-0ubu", "Linux", "Ubuntu", (
        deb("snapd", "2.63+24.04ubuntu0.1"),
        {"Name": "amazon-ssm-agent", "Version": "3.3.987.0", "Publisher": "aws\u2713",
         "ApplicationType": "admin", "PackageId": ""},
    ))
    result = item(AGENT, node)
    assert result.status == "COMPLIANT"
    assert (result.details["Found"], result.details["Ordering"]) == ("amazon-ssm-agent 3.3.987.0", "dotted")
