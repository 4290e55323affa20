"""Version ordering per package manager, and which ordering an inventory entry gets.

Sources: amazon-ssm-agent ``agent/plugins/inventory/gatherers/application/dataProvider_unix.go``
(rpm query: Version/Release/Epoch, PackageId = %{SOURCERPM}; dpkg-query: Version = the whole
Debian version, PackageId = <package>_<version>_<arch>.deb; snap list entries with an empty
PackageId) and ``dataProvider_windows.go`` (registry DisplayVersion, PackageId = key name);
rpm ``rpmio/rpmver.c`` (rpmverOverlap: the release counts only when both sides have one; a
missing epoch is 0); Debian Policy 5.6.12 "Version" (``~`` sorts before anything, even the
end of a part; a missing revision is empty).
"""

from __future__ import annotations

import pytest
from univers import intdot

from fleetctl.compliance.versions import (
    NotComparable,
    check_version_text,
    compare,
    display_version,
    scheme_for,
)

AL2023_AGENT = {
    "Name": "amazon-ssm-agent", "Version": "3.3.1142.0", "Release": "1.amzn2023", "Epoch": "",
    "PackageId": "amazon-ssm-agent-3.3.1142.0-1.amzn2023.src.rpm",
}
UBUNTU_OPENSSL = {
    "Name": "openssl", "Version": "3.0.13-0ubuntu3.4",
    "PackageId": "openssl_3.0.13-0ubuntu3.4_amd64.deb",
}
UBUNTU_AGENT_SNAP = {"Name": "amazon-ssm-agent", "Version": "3.3.1142.0", "PackageId": "",
                     "ApplicationType": "admin"}
WINDOWS_AGENT = {"Name": "Amazon SSM Agent", "Version": "3.3.1142.0",
                 "PackageId": "{B1A3AC35-A431-4C8C-9D21-E2CA92047F76}"}


@pytest.mark.parametrize(
    ("entry", "platform", "scheme"),
    [
        (AL2023_AGENT, "Linux", "rpm"),
        (UBUNTU_OPENSSL, "Linux", "deb"),
        (UBUNTU_AGENT_SNAP, "Linux", "dotted"),  # a snap: no package manager ordering
        (WINDOWS_AGENT, "Windows", "dotted"),
        # rpm's attributes decide when the PackageId says nothing (e.g. a trimmed entry)
        ({"Name": "x", "Version": "1.0", "Release": "2.el9"}, "Linux", "rpm"),
        # the PackageId suffix wins over the platform
        (AL2023_AGENT, None, "rpm"),
        ({"Name": "x", "Version": "1.0"}, "MacOS", "dotted"),
    ],
)
def test_each_entry_gets_its_package_managers_ordering(entry, platform, scheme) -> None:
    assert scheme_for(entry, platform) == scheme


def _rpm(version: str, release: str = "1", epoch: str = "") -> dict[str, str]:
    return {"Version": version, "Release": release, "Epoch": epoch}


@pytest.mark.parametrize(
    ("installed", "wanted", "order"),
    [
        # a constraint without a release compares epoch:version only (rpm's dependency rule)
        (_rpm("3.3.1142.0", "1.amzn2023"), "3.3.1142.0", 0),
        (_rpm("3.3.1142.0", "1.amzn2023"), "3.3.1142.0-2", -1),
        (_rpm("3.3.1142.0", "10.amzn2023"), "3.3.1142.0-9.amzn2023", 1),  # release numerically
        (_rpm("3.3.1142.0"), "3.3.40.0", 1),  # fields numerically, not as text
        (_rpm("1.0", epoch="1"), "2.0", 1),  # epoch first; a missing epoch is 0
        (_rpm("2.0"), "1:1.0", -1),
        (_rpm("1.0~rc1"), "1.0", -1),  # rpm's tilde: a pre-release sorts before the release
        (_rpm("1.0^git1"), "1.0", 1),  # rpm's caret: a post-release snapshot sorts after
        (_rpm("1.0a"), "1.0", 1),
    ],
)
def test_rpm_ordering(installed, wanted, order) -> None:
    assert compare("rpm", installed, wanted) == order


@pytest.mark.parametrize(
    ("installed", "wanted", "order"),
    [
        ("1.2-1", "1.2", 1),  # dpkg compares whole versions: an absent revision sorts first
        ("1.2-1", "1.2-1", 0),
        ("1.0~rc1", "1.0", -1),  # '~' before anything, even the end of the version
        ("1.0~~", "1.0~", -1),
        ("1:0.9", "2.0", 1),  # epoch first
        ("3.0.13-0ubuntu3.4", "3.0.13-0ubuntu3.10", -1),  # digit runs compare as numbers
        ("1.0+dfsg", "1.0", 1),
    ],
)
def test_debian_ordering(installed, wanted, order) -> None:
    assert compare("deb", {"Version": installed}, wanted) == order


@pytest.mark.parametrize(
    ("installed", "wanted", "order"),
    [
        ("10.0", "9.0", 1),
        ("1.10", "1.9", 1),
        ("1.2", "1.2.0.0", 0),  # missing fields are 0
        ("3.3.1142.0", "3.3.40.0", 1),
        ("10.0.17763.1", "10.0.17763.0", 1),  # the fourth field counts
        ("1.0.0-beta", "1.0", -1),  # a -label sorts before the plain version
    ],
)
def test_dotted_ordering(installed, wanted, order) -> None:
    assert compare("dotted", {"Version": installed}, wanted) == order


def test_the_three_orderings_disagree_where_the_package_managers_do() -> None:
    # '1.0~rc1' vs '1.0': rpm and dpkg put the tilde first; not a dotted version at all.
    assert compare("rpm", _rpm("1.0~rc1"), "1.0") == -1
    assert compare("deb", {"Version": "1.0~rc1"}, "1.0") == -1
    with pytest.raises(NotComparable):
        compare("dotted", {"Version": "1.0~rc1"}, "1.0")
    # '1.2-1' vs '1.2': rpm ignores the release the constraint does not give, dpkg does not.
    assert compare("rpm", _rpm("1.2", "1"), "1.2") == 0
    assert compare("deb", {"Version": "1.2-1"}, "1.2") == 1
    # '1.2' vs '1.2.0': dotted pads with zeros; rpm and dpkg say the longer one is newer.
    assert compare("dotted", {"Version": "1.2"}, "1.2.0") == 0
    assert compare("rpm", _rpm("1.2"), "1.2.0") == -1
    assert compare("deb", {"Version": "1.2"}, "1.2.0") == -1


def test_univers_intdot_is_not_used_for_windows_because_it_compares_digits() -> None:
    # Why versions.py orders dotted versions with univers.nuget, not univers.intdot.
    assert not intdot.IntdotVersion("10.0") > intdot.IntdotVersion("9.0")
    assert compare("dotted", {"Version": "10.0"}, "9.0") == 1


@pytest.mark.parametrize(
    ("scheme", "entry", "wanted"),
    [
        ("dotted", {"Version": "latest"}, "1.0"),
        ("dotted", {"Version": "1.2.3.4.5"}, "1.0"),  # more than four fields
        ("rpm", {"Version": "1.0", "Epoch": "x"}, "1.0"),
        ("rpm", {"Version": ""}, "1.0"),
        ("deb", {"Version": "1.0"}, "a:1.0"),
    ],
)
def test_unreadable_versions_are_reported_not_guessed(scheme, entry, wanted) -> None:
    with pytest.raises(NotComparable):
        compare(scheme, entry, wanted)


def test_version_text_is_checked_against_the_orderings_asked_for() -> None:
    assert check_version_text("1:2.0-3") is None  # rpm and dpkg read it
    assert check_version_text("1:2.0-3", ("dotted",)) is not None  # Windows does not
    assert check_version_text("3.3.40.0", ("dotted",)) is None


def test_versions_are_shown_as_the_package_manager_prints_them() -> None:
    assert display_version("rpm", AL2023_AGENT) == "3.3.1142.0-1.amzn2023"
    assert display_version("rpm", {"Version": "3.0.8", "Release": "1.amzn2023", "Epoch": "1"}) == (
        "1:3.0.8-1.amzn2023"
    )
    assert display_version("deb", UBUNTU_OPENSSL) == "3.0.13-0ubuntu3.4"


# Versions in ascending order as each package manager sorts them; every pair must compare
# the way their positions do (a total order, consistent in both directions).
ASCENDING = {
    "rpm": ["0.9", "1.0~rc1", "1.0", "1.0^git1", "1.0a", "1.0.1", "1.1", "1.10", "2.0", "1:0.1"],
    "deb": ["0.9", "1.0~~", "1.0~", "1.0", "1.0-1", "1.0-1ubuntu1", "1.0+b1", "1.0.1", "1.10",
            "1:0.1"],
    "dotted": ["0.9", "1.0.0-alpha", "1.0.0-beta", "1.0", "1.0.0.1", "1.2", "1.10", "9.0", "10.0"],
}


def _installed(scheme: str, text: str) -> dict[str, str]:
    if scheme != "rpm":
        return {"Version": text}
    epoch, _, rest = text.rpartition(":")
    version, _, release = rest.partition("-")
    return {"Version": version, "Release": release, "Epoch": epoch}


@pytest.mark.parametrize("scheme", sorted(ASCENDING))
def test_orderings_are_total_and_match_the_package_manager(scheme) -> None:
    versions = ASCENDING[scheme]
    for i, left in enumerate(versions):
        for j, right in enumerate(versions):
            expected = (i > j) - (i < j)
            assert compare(scheme, _installed(scheme, left), right) == expected, (left, right)
