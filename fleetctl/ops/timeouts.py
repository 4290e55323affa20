"""Client timeouts of the fleet checks (apart from :mod:`fleetctl.ops.aws`, so that building
the command line, which shows them in ``--help``, does not import boto3). The values live in
:mod:`fleetctl.compliance.clients`, shared with the software-policy Lambda function."""

from fleetctl.compliance.clients import CONNECT_TIMEOUT, READ_TIMEOUT, TIMEOUT_ATTEMPTS

__all__ = ["CONNECT_TIMEOUT", "READ_TIMEOUT", "TIMEOUT_ATTEMPTS"]
