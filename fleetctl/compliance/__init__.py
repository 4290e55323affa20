"""The software policy as a Systems Manager compliance type (``Custom:SoftwarePolicy``).

One code path for ``fleetctl compliance evaluate`` and the scheduled Lambda function:
:mod:`.model` (plain data), the evaluator (pure), the AWS reads and writes, the runner that
joins them. The engine modules import only the standard library, boto3/botocore and the
version-ordering library, so the stack can package them into the Lambda function as they are.
"""
