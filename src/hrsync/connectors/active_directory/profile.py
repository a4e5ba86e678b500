"""Active Directory as a target profile: its user attributes (with AD's rangeUpper limits),
capabilities, correlation keys, default mapping and unique names, as data."""

from __future__ import annotations

from hrsync.connectors.active_directory.dn import first_rdn_value, normalise_dn, parent_of
from hrsync.connectors.active_directory.rules import DEFAULT_RULES, ENGINE_ATTRIBUTES
from hrsync.domain.profile import AttributeSpec, Capabilities, CorrelationKey, TargetProfile

_ATTRIBUTES = (
    AttributeSpec("cn", "Name (CN)", is_required=True, max_length=64),
    AttributeSpec("sAMAccountName", "Logon name (pre-Windows 2000)", max_length=20, is_unique=True),
    AttributeSpec("userPrincipalName", "User logon name (UPN)", max_length=1024, is_unique=True),
    AttributeSpec("givenName", "First name", max_length=64),
    AttributeSpec("sn", "Last name", max_length=64),
    AttributeSpec("displayName", "Display name", max_length=256),
    AttributeSpec("mail", "E-mail", max_length=256),
    AttributeSpec("employeeID", "Employee ID", max_length=16),
    AttributeSpec("employeeNumber", "Employee number", max_length=512),
    AttributeSpec("title", "Job title", max_length=128),
    AttributeSpec("department", "Department", max_length=64),
    AttributeSpec("company", "Company", max_length=64),
    AttributeSpec("telephoneNumber", "Telephone number", max_length=64),
    AttributeSpec("mobile", "Mobile", max_length=64),
    AttributeSpec("streetAddress", "Street", max_length=1024),
    AttributeSpec("postalCode", "Postal code", max_length=40),
    AttributeSpec("l", "City", max_length=128),
    AttributeSpec("physicalDeliveryOfficeName", "Office", max_length=128),
    AttributeSpec("manager", "Manager"),
)

AD_PROFILE = TargetProfile(
    kind="active_directory",
    label="Active Directory",
    attributes=_ATTRIBUTES,
    capabilities=Capabilities(
        hierarchy=True, rename=True, groups=True, manager=True, disable=True, delete=True
    ),
    # After the link and the person id hrsync wrote: accounts made by hand or by an earlier tool.
    correlation=(
        CorrelationKey("employeeID", "employee_number"),
        CorrelationKey("mail", "email"),
    ),
    default_mapping=DEFAULT_RULES,
    unique_names=("sAMAccountName", "userPrincipalName"),
    owner_attribute="employeeNumber",
    naming_attribute="cn",
    manager_attribute="manager",
    ref_label="Distinguished name",
    where_label="Base DN",
    container_label="OU",
    naming_rules=True,
    username_attribute="sAMAccountName",
    ref_key=normalise_dn,
    split_ref=lambda dn: (first_rdn_value(dn), parent_of(dn)),
    set_by_hrsync=ENGINE_ATTRIBUTES,
)
