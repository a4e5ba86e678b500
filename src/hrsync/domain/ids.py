"""Identifier types, distinct so one kind of id cannot be passed where another is expected."""

from typing import NewType

PersonId = NewType("PersonId", str)
"""The source's stable id for a person (Flex HRM: the employee UUID)."""

EmployeeNumber = NewType("EmployeeNumber", str)
"""The human-facing employee number (Flex HRM: `employment[].employmentNumber`)."""

AccountId = NewType("AccountId", str)
"""A target's immutable id for an account (AD: objectGUID as text)."""

SourceKey = NewType("SourceKey", str)
ConnectionKey = NewType("ConnectionKey", str)
