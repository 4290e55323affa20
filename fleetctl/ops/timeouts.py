"""Client timeouts of the fleet checks (apart from :mod:`fleetctl.ops.aws`, so that building
the command line, which shows them in ``--help``, does not import boto3)."""

# botocore's defaults are 60 s for both timeouts, and its retry modes retry timeouts like
# throttling: 11 attempts x 60 s is about 10 minutes of silence before an error (lab facts
# section 7). SSM's read APIs answer in well under a second, so these are generous.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
# A timed-out call is tried this many times in all (throttling keeps MAX_RETRIES): an
# endpoint that accepts connections and never answers costs at most
# TIMEOUT_ATTEMPTS x (connect + read timeout) + one backoff (under 2 s): 42 s by default.
TIMEOUT_ATTEMPTS = 2
