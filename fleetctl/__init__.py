"""fleetctl: offline plans, policy gates and operator checks for the ssm-inventory program."""

__all__ = ["__version__"]
__version__ = "0.1.0"
