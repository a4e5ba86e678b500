"""hrsync: HR-driven provisioning from Flex HRM to Active Directory and applications."""

__version__ = "0.1.0"
