"""``patching``: Patch Manager for the fleet (scan schedule, approval delay), its install
window and e-mail alerts, and ``patching_problems``: what patching asks of the rest of the
stack (NAT for internet-updating OSes, window roles the fleet has, someone to alert), checked
once the whole StackConfig is valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints, ValidationInfo, field_validator

from components.amis import SUPPORTED_OS
from components.config._base import NAMESPACE, _Model, _repeated
from components.schedule import validate_schedule
from components.window_schedule import validate_timezone, validate_window_schedule

if TYPE_CHECKING:
    from components.config.stack import StackConfig

# Run Command's concurrency and error limits as the SSM API accepts them (botocore's SSM
# model, shapes MaxConcurrency and MaxErrors): a count or a percentage; errors may be 0.
MAX_CONCURRENCY = Annotated[str, StringConstraints(pattern=r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$",
                                                   max_length=7)]
MAX_ERRORS = Annotated[str, StringConstraints(pattern=r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$",
                                              max_length=7)]
ROLE = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,31}$")]


class InstallWindowConfig(_Model):
    """The lab's ``PatchTestWorkloadWebServers`` maintenance window: installs patches on the
    instances of ``roles`` (off unless enabled; prod enables it)."""

    enabled: bool = False
    schedule: str = "cron(0 2 ? * * *)"  # daily 02:00 in schedule_timezone
    schedule_timezone: str = "UTC"
    # SSM API (botocore, MaintenanceWindowDurationHours 1-24, MaintenanceWindowCutoff 0-23).
    duration_hours: Annotated[int, Field(ge=1, le=24)] = 3
    cutoff_hours: Annotated[int, Field(ge=0, le=23)] = 1
    # A window target's tag values: at most 50 (Target Values, SSM API reference).
    roles: Annotated[list[ROLE], Field(min_length=1, max_length=50)] = Field(
        default_factory=lambda: ["WebServer"])
    max_concurrency: MAX_CONCURRENCY = "1"
    max_errors: MAX_ERRORS = "1"
    reboot_option: Literal["RebootIfNeeded", "NoReboot"] = "RebootIfNeeded"

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_window_schedule(value)

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @field_validator("cutoff_hours")
    @classmethod
    def _cutoff_inside_duration(cls, value: int, info: ValidationInfo) -> int:
        # "The cutoff must be less than the duration" (CreateMaintenanceWindow: no task
        # could start otherwise).
        duration = info.data.get("duration_hours")
        if duration is not None and value >= duration:
            raise ValueError(
                f"{value} h is not less than durationHours ({duration} h): no task could start"
            )
        return value


class AlertsConfig(_Model):
    """E-mail alerts (SNS through EventBridge) on patch non-compliance and failed associations."""

    enabled: bool = False
    emails: list[EmailStr] = Field(default_factory=list)

    @field_validator("emails")
    @classmethod
    def _emails_once(cls, value: list[str]) -> list[str]:
        twice = _repeated(value)
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return value


class PatchingConfig(_Model):
    """Patch Manager for the fleet: baselines, patch groups, ONE scan method, optionally an
    install window and alerts (components/patching.py, components/alerts.py)."""

    enabled: bool = False
    # The scan association's schedule: association rules (components/schedule.py).
    scan_schedule: str = "rate(1 day)"
    # SSM API (botocore, ApproveAfterDays 0-360).
    approve_after_days: Annotated[int, Field(ge=0, le=360)] = 7
    install_window: InstallWindowConfig = InstallWindowConfig()
    alerts: AlertsConfig = AlertsConfig()

    @field_validator("scan_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)


def patching_problems(config: StackConfig) -> list[str]:
    """What ``patching`` asks that the rest of the stack cannot give (keys named in full)."""
    patching = config.patching
    if not patching.enabled:
        return []
    problems = []
    present = [group for group in config.fleet if group.count]
    online = sorted({group.os for group in present if SUPPORTED_OS[group.os].updates_from_internet})
    if online and not config.nat_gateway:
        problems.append(
            f"{NAMESPACE}:natGateway: is false, but {NAMESPACE}:patching.enabled is true and the "
            f"fleet runs {', '.join(online)}, which updates from the internet (only Amazon "
            "Linux updates from S3 in the region); set natGateway: true, or patching.enabled: false"
        )
    window = patching.install_window
    if window.enabled:
        roles = {group.role for group in present}
        unknown = [role for role in window.roles if role not in roles]
        if unknown:
            problems.append(
                f"{NAMESPACE}:patching.installWindow.roles: {', '.join(unknown)} "
                f"{'is not a role' if len(unknown) == 1 else 'are not roles'} of the fleet "
                f"(roles with instances: {', '.join(sorted(roles)) or 'none'})"
            )
    alerts = patching.alerts
    if alerts.enabled and not present:
        # The compliance rule matches the fleet's instance ids; EventBridge refuses an empty list.
        problems.append(
            f"{NAMESPACE}:patching.alerts.enabled: the fleet has no instances to watch "
            "(every group has count 0); set alerts.enabled: false"
        )
    if alerts.enabled and not alerts.emails:
        problems.append(
            f"{NAMESPACE}:patching.alerts.emails: alerts are enabled but no address is listed; "
            "add at least one e-mail address (or set alerts.enabled: false)"
        )
    return problems
