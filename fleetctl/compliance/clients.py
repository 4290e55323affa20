"""AWS client settings shared by the fleet checks (:mod:`fleetctl.ops.aws`) and the software
policy (:mod:`fleetctl.compliance.aws`, packaged into the Lambda function): timeouts, retries,
one-line error descriptions, chunking.

Standard library at import time (botocore is imported where a client is configured or an
error described), so building the command line, which shows the timeouts in ``--help``, does
not pay for botocore, and the Lambda package needs nothing of :mod:`fleetctl.ops`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from botocore.config import Config

# botocore's defaults are 60 s for both timeouts, and its retry modes retry timeouts like
# throttling: 11 attempts x 60 s is about 10 minutes of silence before an error (lab facts
# section 7). SSM's read APIs answer in well under a second, so these are generous.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
# A timed-out call is tried this many times in all (throttling keeps MAX_RETRIES): an
# endpoint that accepts connections and never answers costs at most
# TIMEOUT_ATTEMPTS x (connect + read timeout) + one backoff (under 2 s): 42 s by default.
TIMEOUT_ATTEMPTS = 2

# Standard mode: exponential backoff with jitter on throttling and transient errors, a retry
# quota against retry storms. Not adaptive: the AWS SDKs call it experimental ("might change
# behavior in the future"), and its client-side rate limiter halved the throughput of the
# batched sweep under random throttling (benchmarks/check_bench.py: 35 s against 18 s at
# 1,000 instances, when the sweep made about N/10 calls; it now makes about N + N/10, one
# AWS:Application read per instance, at most eight in flight).
# botocore counts max_attempts here as retries after the first call (total_max_attempts = 11).
MAX_RETRIES = 10

# Operations called on EC2; everything else is SSM. Used to name the IAM action on errors.
EC2_OPERATIONS = frozenset({"DescribeInstances", "GetConsoleOutput"})

_ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
_BAD_CREDENTIALS = frozenset({
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "AuthFailure",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
})

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def client_config(read_timeout: float = READ_TIMEOUT, connect_timeout: float = CONNECT_TIMEOUT) -> Config:
    """Standard retries (:data:`MAX_RETRIES`) with these timeouts."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": MAX_RETRIES},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def _stop_retrying_timeouts(caught_exception: Exception | None = None, attempts: int = 1, **_: Any) -> None:
    """``needs-retry`` hook, registered before botocore's retry handler: a call that timed
    out :data:`TIMEOUT_ATTEMPTS` times is not retried further (raising here ends the call
    with that error; throttling and 5xx answers still get every retry)."""
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    if isinstance(caught_exception, ConnectTimeoutError | ReadTimeoutError) and attempts >= TIMEOUT_ATTEMPTS:
        raise caught_exception


def bound_timeouts(client: Any) -> Any:
    """Installs :func:`_stop_retrying_timeouts` on ``client`` (returned for chaining)."""
    client.meta.events.register_first("needs-retry", _stop_retrying_timeouts)
    return client


def describe_aws_error(exc: Exception) -> str:
    """One clear line for an AWS failure (no traceback), naming the IAM action on a denial."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            "no usable AWS credentials: configure a profile (--profile), environment variables or SSO login"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region or set AWS_DEFAULT_REGION"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return (
            f"the AWS endpoint did not answer in time ({exc}); tried {TIMEOUT_ATTEMPTS} times: "
            "check the network path or proxy to the endpoint, or raise --read-timeout"
        )
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach the AWS endpoint: {exc}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message", "")
        operation = exc.operation_name
        action = f"{'ec2' if operation in EC2_OPERATIONS else 'ssm'}:{operation}"
        if code in _ACCESS_DENIED:
            return f"access denied: the caller is not allowed {action} ({message})".rstrip()
        if code in _BAD_CREDENTIALS:
            return f"AWS rejected the credentials on {action}: {code} {message}".rstrip()
        return f"{action} failed: {code} {message}".rstrip()
    if isinstance(exc, BotoCoreError):
        return f"AWS client error: {exc}"
    return f"unexpected error: {type(exc).__name__}: {exc}"


def chunked(items: Sequence[_Item], size: int) -> Iterator[list[_Item]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def bounded(work: Callable[[_Item], _Result], keys: Sequence[_Item], workers: int) -> list[_Result]:
    """``work`` over ``keys`` on at most ``workers`` threads (boto3 clients are thread-safe),
    results in the order of ``keys``."""
    if not keys:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(keys)))) as pool:
        return list(pool.map(work, keys))
