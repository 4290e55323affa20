"""Pulumi components of the ssm-inventory program (type tokens ``ssm-inventory:<module>:<Name>``)."""
