"""Version ordering the way each package manager that reported the version orders it.

What ``AWS:Application`` holds per platform (amazon-ssm-agent sources,
``agent/plugins/inventory/gatherers/application/dataProvider_unix.go`` and
``dataProvider_windows.go``):

- rpm systems (Amazon Linux, RHEL): ``rpm -qa --queryformat`` gives ``Version`` (%{VERSION}),
  ``Release`` (%{RELEASE}), ``Epoch`` (%{EPOCH}; the agent turns rpm's ``(none)`` into an
  empty string) and ``PackageId`` = %{SOURCERPM}, e.g. ``amazon-ssm-agent-3.3.1142.0-1.amzn2023.src.rpm``.
- dpkg systems (Ubuntu, Debian): ``dpkg-query -W`` gives ``Version`` = ${Version}, the whole
  Debian version ``[epoch:]upstream[-revision]``, no ``Release``/``Epoch`` attributes, and
  ``PackageId`` = ``<package>_<version>_<arch>.deb``.
- snaps: when ``snapd`` is among the dpkg packages the agent appends ``snap list`` as entries
  with ``PackageId`` empty. SSM Agent on Ubuntu is a snap, so it IS in ``AWS:Application``
  there (Name ``amazon-ssm-agent``, the snap's version such as ``3.3.1142.0``).
- Windows: the registry's Uninstall keys: ``Version`` = DisplayVersion, ``PackageId`` = the
  key name (an MSI product code ``{GUID}`` or a plain name), no ``Release``/``Epoch``.

So the ordering is picked per entry: its ``PackageId`` suffix (``.rpm``/``.deb``) first, then
the node's ``PlatformType`` (DescribeInstanceInformation: Windows, MacOS), then rpm's own
attributes (``Release``/``Epoch`` are only ever reported by rpm); whatever is left (snaps,
Distributor packages) is a dotted version. ``PlatformName`` is not needed: on Linux the
entry itself says which package manager reported it (the agent asks dpkg-query when it
exists, else rpm), which the distribution name would only guess.

Comparing an installed version with a constraint's version:

- **rpm**: epoch (missing = 0), then version, then release with ``rpmvercmp``; a constraint
  without a release compares epoch:version only, as rpm's own dependency matching does
  (rpm ``rpmio/rpmver.c``, ``rpmverOverlap``: the release counts only when both sides have
  one). ``>=3.3.0`` is met by ``3.3.0-1.amzn2023``.
- **Debian**: the whole version, as dpkg compares it (Debian Policy 5.6.12 "Version"; dpkg's
  relations compare full versions): epoch (missing = 0), upstream, revision (missing = empty,
  which sorts before any revision), with ``~`` sorting before anything, even the end of a
  part. So ``1.2-1 >= 1.2`` but ``1.2-1 != 1.2`` and ``1.0~rc1 < 1.0``.
- **dotted** (Windows, snaps): up to four numeric fields compared as numbers, missing fields
  are 0 (``1.2 == 1.2.0.0``), a ``-label`` suffix sorts before the plain version (NuGet's
  ordering of Windows-style ``major.minor.build.revision`` versions, via univers). All four
  fields count (Windows Installer compares only three to detect upgrades, but DisplayVersion
  of non-MSI installers uses the fourth). Anything else is not comparable.

The orderings come from univers (``univers.rpm``, ``univers.debian``, ``univers.nuget``), not
from hand-written comparisons. univers's own ``IntdotVersion`` is not used: it compares
digit by digit (``10.0 < 9.0``), which tests/compliance/test_versions.py pins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from univers import debian, nuget, rpm

Scheme = Literal["rpm", "deb", "dotted"]
SCHEMES: tuple[Scheme, ...] = ("rpm", "deb", "dotted")


class NotComparable(ValueError):
    """A version the scheme cannot order (e.g. ``latest`` as a Windows DisplayVersion)."""


def scheme_for(entry: Mapping[str, str], platform_type: str | None) -> Scheme:
    """The ordering of one ``AWS:Application`` entry on a node of ``platform_type``."""
    package_id = (entry.get("PackageId") or "").lower()
    if package_id.endswith(".rpm"):
        return "rpm"
    if package_id.endswith(".deb"):
        return "deb"
    if platform_type in ("Windows", "MacOS"):
        return "dotted"
    if entry.get("Release") or entry.get("Epoch"):
        return "rpm"
    return "dotted"


def _rpm_installed(entry: Mapping[str, str]) -> rpm.RpmVersion:
    epoch = (entry.get("Epoch") or "").strip()
    if epoch and not epoch.isdigit():
        raise NotComparable(f"rpm epoch {epoch!r} is not a number")
    version = (entry.get("Version") or "").strip()
    if not version:
        raise NotComparable("no version reported")
    return rpm.RpmVersion(int(epoch or 0), version, (entry.get("Release") or "").strip())


def _rpm_text(text: str) -> rpm.RpmVersion:
    try:
        epoch, version, release = rpm.from_evr(text)
    except ValueError:
        raise NotComparable(f"{text!r} is not an rpm version ([epoch:]version[-release])") from None
    if not version:
        raise NotComparable(f"{text!r} has no version")
    return rpm.RpmVersion(epoch, version, release)


def _deb(text: str) -> debian.Version:
    if not debian.Version.is_valid(text):
        raise NotComparable(f"{text!r} is not a Debian version ([epoch:]upstream[-revision])")
    return debian.Version.from_string(text)


def _dotted(text: str) -> nuget.Version:
    try:
        return nuget.Version.from_string(text)
    except (ValueError, TypeError, nuget.InvalidNuGetVersion):
        raise NotComparable(
            f"{text!r} is not a dotted version (1 to 4 numbers like 3.3.1142.0, optionally -label)"
        ) from None


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


def compare(scheme: Scheme, entry: Mapping[str, str], text: str) -> int:
    """-1, 0 or 1 as the installed version of ``entry`` is below, at or above ``text``.

    Raises NotComparable when either side cannot be read in ``scheme``.
    """
    if scheme == "rpm":
        wanted = _rpm_text(text)
        installed = _rpm_installed(entry)
        if not wanted.release:  # rpm's dependency rule: no release asked, none compared
            installed = installed._replace(release="")
        return _sign(rpm.compare_rpm_versions(installed, wanted))
    version = (entry.get("Version") or "").strip()
    if not version:
        raise NotComparable("no version reported")
    left: Any
    right: Any
    if scheme == "deb":
        left, right = _deb(version), _deb(text)
    else:
        left, right = _dotted(version), _dotted(text)
    return (left > right) - (left < right)


def check_version_text(text: str, schemes: tuple[Scheme, ...] = SCHEMES) -> str | None:
    """Why ``text`` is no version in any of ``schemes`` (None when one of them reads it)."""
    problems = []
    for scheme in schemes:
        try:
            if scheme == "rpm":
                _rpm_text(text)
            elif scheme == "deb":
                _deb(text)
            else:
                _dotted(text)
            return None
        except NotComparable as exc:
            problems.append(str(exc))
    return "; ".join(problems)


def display_version(scheme: Scheme, entry: Mapping[str, str]) -> str:
    """The installed version as its package manager prints it (rpm: ``[E:]V-R``)."""
    version = (entry.get("Version") or "").strip() or "?"
    if scheme != "rpm":
        return version
    epoch = (entry.get("Epoch") or "").strip()
    release = (entry.get("Release") or "").strip()
    text = f"{version}-{release}" if release else version
    return f"{epoch}:{text}" if epoch and epoch != "0" else text
