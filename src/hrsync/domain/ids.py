"""Identifier types, distinct so one kind of id cannot be passed where another is expected."""

from typing import NewType

PersonId = NewType("PersonId", str)
"""The source's stable id for a person (Flex HRM: the employee UUID)."""

EmployeeNumber = NewType("EmployeeNumber", str)
"""The human-facing employee number (Flex HRM: `employment[].employmentNumber`)."""

AccountId = NewType("AccountId", str)
"""A target's immutable id for an account (AD: objectGUID as text)."""

GroupId = NewType("GroupId", str)
"""hrsync's stable id for a group synthesised from organisation levels (hrsync.engine.groups)."""

SourceKey = NewType("SourceKey", str)
ConnectionKey = NewType("ConnectionKey", str)
