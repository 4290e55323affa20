"""``patching`` config: every bad input gets one message naming its key, nothing registered.

Limits and sources: approveAfterDays 0-360, durationHours 1-24, cutoffHours 0-23 and the
MaxConcurrency / MaxErrors patterns from botocore's SSM service model (shapes
ApproveAfterDays, MaintenanceWindowDurationHours, MaintenanceWindowCutoff, MaxConcurrency
``^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$``, MaxErrors
``^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$``); cutoff below duration
(CreateMaintenanceWindow); scan schedules as associations take them and window schedules as
maintenance windows take them (user guide, "Reference: Cron and rate expressions for
Systems Manager"); IANA time zones ("Maintenance window scheduling and active period
options"); RebootOption RebootIfNeeded|NoReboot (AWS-RunPatchBaseline parameters).
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig, parse_stack_config
from components.window_schedule import window_schedule_problem
from fleetctl.plan.mockrun import partial_recording, run_program

P = "ssm-inventory:patching"
UBUNTU = [{"role": "WebServer", "count": 1, "os": "ubuntu-24.04"}]


def _patching(**changes: Any) -> dict[str, Any]:
    return {"patching": {"enabled": True, **changes}}


def _window(**changes: Any) -> dict[str, Any]:
    return _patching(installWindow={"enabled": True, **changes})


BAD_INPUTS = [
    pytest.param(_patching(scanSchedule="rate(10 minutes)"), f"{P}.scanSchedule",
                 "more often than every 30 minutes", id="scan-too-often"),
    pytest.param(_patching(scanSchedule="cron(0 2 1 * ? *)"), f"{P}.scanSchedule",
                 "day-of-month '1' is not supported", id="scan-day-of-month"),
    pytest.param(_patching(approveAfterDays=-1), f"{P}.approveAfterDays",
                 "greater than or equal to 0", id="days-negative"),
    pytest.param(_patching(approveAfterDays=361), f"{P}.approveAfterDays",
                 "less than or equal to 360", id="days-over-360"),
    pytest.param(_patching(enabled="sometimes"), f"{P}.enabled", "valid boolean", id="enabled-not-bool"),
    pytest.param(_patching(scanEvery="daily"), f"{P}.scanEvery", "not a known key", id="unknown-key"),
    pytest.param(_window(schedule="cron(0 2 * * * *)"), f"{P}.installWindow.schedule",
                 "exactly one of day-of-month and day-of-week must be '?'", id="window-both-days"),
    pytest.param(_window(schedule="cron(0 2 ? *)"), f"{P}.installWindow.schedule",
                 "a cron needs six fields", id="window-short-cron"),
    pytest.param(_window(schedule="rate(1 hours)"), f"{P}.installWindow.schedule",
                 "singular unit for 1", id="window-rate-plural"),
    pytest.param(_window(schedule="every night"), f"{P}.installWindow.schedule",
                 "not a valid maintenance window schedule", id="window-garbage"),
    pytest.param(_window(schedule="at(2026-13-40T00:00:00)"), f"{P}.installWindow.schedule",
                 "not a timestamp", id="window-bad-at"),
    pytest.param(_window(scheduleTimezone="Mars/Olympus"), f"{P}.installWindow.scheduleTimezone",
                 "not an IANA time zone", id="timezone-unknown"),
    pytest.param(_window(scheduleTimezone="+09:00"), f"{P}.installWindow.scheduleTimezone",
                 "not an IANA time zone", id="timezone-offset"),
    pytest.param(_window(durationHours=0), f"{P}.installWindow.durationHours",
                 "greater than or equal to 1", id="duration-zero"),
    pytest.param(_window(durationHours=25), f"{P}.installWindow.durationHours",
                 "less than or equal to 24", id="duration-25"),
    pytest.param(_window(cutoffHours=3), f"{P}.installWindow.cutoffHours",
                 "not less than durationHours (3 h)", id="cutoff-equals-duration"),
    pytest.param(_window(durationHours=2, cutoffHours=5), f"{P}.installWindow.cutoffHours",
                 "not less than durationHours (2 h)", id="cutoff-over-duration"),
    pytest.param(_window(roles=["DbServer"]), f"{P}.installWindow.roles",
                 "DbServer is not a role of the fleet", id="unknown-role"),
    pytest.param(_window(roles=[]), f"{P}.installWindow.roles", "at least 1 item", id="no-roles"),
    pytest.param(_window(roles=["Web Server"]), f"{P}.installWindow.roles[0]",
                 "must be a fleet role", id="role-malformed"),
    pytest.param(_window(maxConcurrency="0"), f"{P}.installWindow.maxConcurrency",
                 "number of instances like 1 or 10, or a percentage", id="concurrency-zero"),
    pytest.param(_window(maxConcurrency="101%"), f"{P}.installWindow.maxConcurrency",
                 "percentage from 1% to 100%", id="concurrency-over-100"),
    pytest.param(_window(maxConcurrency="half"), f"{P}.installWindow.maxConcurrency",
                 "number of instances", id="concurrency-word"),
    pytest.param(_window(maxErrors="-1"), f"{P}.installWindow.maxErrors",
                 "number of errors like 0 or 1", id="errors-negative"),
    pytest.param(_window(maxErrors="1.5"), f"{P}.installWindow.maxErrors",
                 "number of errors", id="errors-fraction"),
    pytest.param(_window(rebootOption="Always"), f"{P}.installWindow.rebootOption",
                 "'RebootIfNeeded' or 'NoReboot'", id="reboot-option"),
    pytest.param(_patching(alerts={"enabled": True, "emails": ["ops@"]}), f"{P}.alerts.emails[0]",
                 "not a valid email address", id="email-malformed"),
    pytest.param(_patching(alerts={"enabled": True, "emails": ["ops at example.com"]}),
                 f"{P}.alerts.emails[0]", "not a valid email address", id="email-no-at"),
    pytest.param(_patching(alerts={"enabled": True, "emails": ["a@example.com", "a@example.com"]}),
                 f"{P}.alerts.emails", "more than once", id="email-twice"),
    pytest.param(_patching(alerts={"enabled": True}), f"{P}.alerts.emails",
                 "no address is listed", id="alerts-without-emails"),
    pytest.param({**_patching(), "fleet": UBUNTU}, "ssm-inventory:natGateway",
                 "ssm-inventory:patching.enabled is true and the fleet runs ubuntu-24.04",
                 id="ubuntu-without-nat"),
    pytest.param({**_patching(alerts={"enabled": True, "emails": ["a@example.com"]}),
                  "fleet": [{"role": "WebServer", "count": 0}]}, f"{P}.alerts.enabled",
                 "the fleet has no instances to watch", id="alerts-without-instances"),
    pytest.param({"patching": "[true]"}, P, "expected an object like",
                 id="patching-not-a-mapping"),
]


@pytest.mark.parametrize(("overrides", "key", "fragment"), BAD_INPUTS)
def test_bad_patching_config_fails_before_anything_is_registered(
    overrides: dict[str, Any], key: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides=overrides)
    message = str(caught.value)
    assert f"{key}:" in message, message
    assert fragment in message, message
    recording = partial_recording(caught.value)
    assert recording is not None
    assert [r.type for r in recording.resources] == ["pulumi:pulumi:Stack"]


@pytest.mark.parametrize("os", ["ubuntu-22.04", "rhel-9", "windows-2022"])
def test_internet_updating_os_without_nat_names_both_keys(os: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_program("dev", overrides={"fleet": [{"role": "WebServer", "count": 1, "os": os}]})
    (line,) = [line for line in str(caught.value).splitlines() if "natGateway" in line]
    assert line.strip().startswith("ssm-inventory:natGateway:")
    assert "ssm-inventory:patching.enabled" in line and os in line


def test_internet_updating_os_is_fine_with_nat_or_without_patching() -> None:
    run_program("dev", overrides={"fleet": UBUNTU, "natGateway": True})
    run_program("dev", overrides={"fleet": UBUNTU, "patching": {"enabled": False}})
    # A group without instances brings no OS into the fleet.
    run_program("dev", overrides={"fleet": [{"role": "WebServer", "count": 1},
                                            {"role": "AppServer", "count": 0, "os": "rhel-9"}]})


def test_defaults() -> None:
    patching = StackConfig.model_validate({"workload": "Test"}).patching
    assert not patching.enabled
    assert (patching.scan_schedule, patching.approve_after_days) == ("rate(1 day)", 7)
    window = patching.install_window
    assert not window.enabled
    assert (window.schedule, window.schedule_timezone) == ("cron(0 2 ? * * *)", "UTC")
    assert (window.duration_hours, window.cutoff_hours) == (3, 1)  # the lab's window
    assert window.roles == ["WebServer"]
    assert (window.max_concurrency, window.max_errors) == ("1", "1")  # the lab's task
    assert window.reboot_option == "RebootIfNeeded"
    assert not patching.alerts.enabled and patching.alerts.emails == []


def test_stack_files_dev_scans_prod_installs_and_alerts(dev: Any, prod: Any) -> None:
    dev_config = parse_stack_config(dev.config).patching
    prod_config = parse_stack_config(prod.config).patching
    assert dev_config.enabled and dev_config.approve_after_days == 0
    assert not dev_config.install_window.enabled and not dev_config.alerts.enabled
    assert prod_config.enabled and prod_config.approve_after_days == 7
    assert prod_config.install_window.enabled and prod_config.alerts.enabled
    assert prod_config.alerts.emails == ["platform-team@example.com"]


@pytest.mark.parametrize(
    "schedule",
    [
        # The user guide's maintenance window examples.
        "cron(30 09 ? * * *)", "cron(24 30 09 ? * * *)", "cron(0 2 ? * THU#3 *)",
        "cron(15 10 ? * * *)", "cron(15 10 ? * MON-FRI *)", "cron(0 2 L * ? *)",
        "cron(15 10 ? * 6L *)", "rate(30 minutes)", "rate(1 hour)", "rate(5 hours)",
        "rate(25 days)", "at(2021-07-07T13:15:30)", "cron(0 16 ? * TUE *)", "rate(7 days)",
    ],
)
def test_documented_window_schedules_pass(schedule: str) -> None:
    assert window_schedule_problem(schedule) is None


@pytest.mark.parametrize(
    ("concurrency", "errors"), [("1", "0"), ("10%", "0%"), ("100%", "100%"), ("25", "5%")])
def test_concurrency_and_errors_take_numbers_and_percentages(concurrency: str, errors: str) -> None:
    config = StackConfig.model_validate({"workload": "Test", "patching": {
        "installWindow": {"maxConcurrency": concurrency, "maxErrors": errors}}})
    assert config.patching.install_window.max_concurrency == concurrency
    assert config.patching.install_window.max_errors == errors
