"""Microsoft 365 (Entra ID users through Microsoft Graph) as a target profile: the user
properties hrsync keeps, with Graph's length limits, capabilities, correlation keys, unique
names and the default mapping, as data."""

from __future__ import annotations

from types import MappingProxyType

from hrsync.domain.profile import AttributeSpec, Capabilities, CorrelationKey, TargetProfile

UPN = "userPrincipalName"
MAIL_NICKNAME = "mailNickname"
MAIL = "mail"
USAGE_LOCATION = "usageLocation"
EXTENSIONS = "onPremisesExtensionAttributes"
PERSON_ID = f"{EXTENSIONS}.extensionAttribute15"
"""Where hrsync writes the person id: Graph users have no externalId, and the fifteen
extension attributes are writable on cloud-only users; the last one is the least likely to
be in use already. A connection may name another (`person_id_attribute`)."""
MANAGER = "manager"

_ATTRIBUTES = (
    AttributeSpec(UPN, "User principal name", is_required=True, is_unique=True, max_length=113),
    AttributeSpec(MAIL_NICKNAME, "Mail nickname", is_required=True, is_unique=True, max_length=64),
    AttributeSpec("displayName", "Display name", is_required=True, max_length=256),
    AttributeSpec("givenName", "First name", max_length=64),
    AttributeSpec("surname", "Last name", max_length=64),
    AttributeSpec(MAIL, "E-mail", max_length=256),
    AttributeSpec("jobTitle", "Job title", max_length=128),
    AttributeSpec("department", "Department", max_length=64),
    AttributeSpec("companyName", "Company", max_length=64),
    AttributeSpec("employeeId", "Employee ID", max_length=16),
    AttributeSpec("employeeType", "Employee type", max_length=64),
    AttributeSpec("employeeHireDate", "Hire date"),
    AttributeSpec("employeeLeaveDateTime", "Leave date"),
    AttributeSpec("officeLocation", "Office", max_length=128),
    AttributeSpec("mobilePhone", "Mobile", max_length=64),
    AttributeSpec(USAGE_LOCATION, "Usage location", max_length=2, allowed="^[A-Z]{2}$"),
    AttributeSpec(PERSON_ID, "hrsync person id", max_length=1024),
    AttributeSpec(MANAGER, "Manager"),
)

DEFAULT_MAPPING = MappingProxyType(
    {
        "displayName": 'Trim(Join(" ", [given_name], [family_name]))',
        "givenName": "[given_name]",
        "surname": "[family_name]",
        MAIL: "[email]",
        "jobTitle": "[title]",
        "department": "[org.Department]",
        "companyName": "[company_name]",
        "employeeId": "[employee_number]",
        "employeeType": "[employment_type]",
        # Graph keeps both as DateTimeOffset and answers them as written here (UTC, seconds).
        "employeeHireDate": 'IIF(IsPresent([start_date]), Append([start_date], "T00:00:00Z"), "")',
        "employeeLeaveDateTime": (
            'IIF(IsPresent([end_date]), Append([end_date], "T23:59:59Z"), "")'
        ),
        "officeLocation": "[org.Office]",
        "mobilePhone": "[mobile]",
    }
)
"""userPrincipalName and mailNickname are not here: they are given once, unique in the
tenant, when the user is created (hrsync.connectors.microsoft365.policy)."""
SET_BY_HRSYNC = frozenset(
    {"id", "accountEnabled", "passwordProfile", UPN, MAIL_NICKNAME, MANAGER, PERSON_ID}
)

MICROSOFT365_PROFILE = TargetProfile(
    kind="microsoft365",
    label="Microsoft 365",
    attributes=_ATTRIBUTES,
    capabilities=Capabilities(
        hierarchy=False,
        rename=False,
        groups=True,
        manager=True,
        disable=True,
        delete=True,
        incremental_read=False,
        batch=True,
    ),
    # After the link and the person id hrsync wrote: users made by hand or by Entra's own HR
    # provisioning carry the employee id, else sign in with or receive mail at the address HR has.
    correlation=(
        CorrelationKey("employeeId", "employee_number"),
        CorrelationKey(UPN, "email"),
        CorrelationKey(MAIL, "email"),
    ),
    default_mapping=DEFAULT_MAPPING,
    unique_names=(UPN, MAIL_NICKNAME),
    owner_attribute=PERSON_ID,
    manager_attribute=MANAGER,
    ref_label="Object id",
    where_label="Tenant",
    username_attribute=UPN,
    mappable=r"^[a-z][A-Za-z0-9]{0,63}(\.[a-z][A-Za-z0-9]{0,63})?$",
    mappable_described="a Graph user property (jobTitle, officeLocation, "
    "onPremisesExtensionAttributes.extensionAttribute1)",
    set_by_hrsync=SET_BY_HRSYNC,
)
