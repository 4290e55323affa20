#!/bin/bash
# Installs and starts SSM Agent on an AMI that lacks it (RHEL), from the regional agent bucket
# (reachable through the S3 gateway endpoint). Rendered by components/amis.py::agent_user_data;
# @AGENT_URL@ is replaced there.
#
# User data runs once: a blip (endpoint not ready yet, throttling) must not leave the
# instance without an agent for good. Each attempt downloads, installs and starts the agent;
# failed attempts are retried with exponential backoff, at most SSM_AGENT_INSTALL_ATTEMPTS
# times (default 6: waits of 10, 20, 40, 80, 160 s, about 5 minutes in all). When every
# attempt fails the script writes one fixed marker line to the serial console, which
# `aws ec2 get-console-output --latest` and `fleetctl check` show, and exits non-zero.
#
# The SSM_AGENT_INSTALL_* variables exist for tests (tests/test_agent_user_data.py); an
# instance never sets them, so the defaults apply.
set -uo pipefail

readonly MARKER="SSM_AGENT_INSTALL_FAILED"
agent_url="@AGENT_URL@"
attempts="${SSM_AGENT_INSTALL_ATTEMPTS:-6}"
delay="${SSM_AGENT_INSTALL_FIRST_DELAY:-10}"
consoles="${SSM_AGENT_INSTALL_CONSOLES:-/dev/console /dev/ttyS0}"
rpm="${TMPDIR:-/tmp}/amazon-ssm-agent.rpm"

log() { echo "ssm-agent-install: $*"; }

to_consoles() {
    local console
    for console in $consoles; do
        { echo "$*" >>"$console"; } 2>/dev/null || true
    done
}

install_once() {
    step="download"
    curl --fail --silent --show-error --location --connect-timeout 10 --max-time 300 \
        --output "$rpm" "$agent_url" || return 1
    # --disablerepo: without a NAT the vendor repos are unreachable, and dnf would fail on
    # their metadata before installing a package that needs none of them.
    step="install"
    dnf install -y --disablerepo='*' "$rpm" || return 1
    step="start"
    systemctl enable --now amazon-ssm-agent || return 1
}

step="download"
attempt=1
while true; do
    if install_once; then
        log "SSM Agent installed and started (attempt $attempt of $attempts)"
        exit 0
    fi
    log "attempt $attempt of $attempts failed at the $step step"
    if ((attempt >= attempts)); then
        break
    fi
    sleep "$delay"
    delay=$((delay * 2))
    attempt=$((attempt + 1))
done

line="$MARKER: the $step step failed $attempts times; SSM Agent is not running ($agent_url)"
log "$line"
to_consoles "$line"
exit 1
