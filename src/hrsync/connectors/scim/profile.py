"""SCIM 2.0 as target profiles: the User attributes hrsync keeps (SCIM paths), capabilities,
correlation keys and unique names, with the mapping presets an admin starts from: `generic`,
`winningtemp` (its user extension) and `flexwhere`. A preset is data; an admin overrides any
of its rules in the connection's mapping and picks the attributes synchronised."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from hrsync.connectors.scim.patch import ENTERPRISE_USER_URN, MANAGER_PATH
from hrsync.domain.profile import AttributeSpec, Capabilities, CorrelationKey, TargetProfile

WINNINGTEMP_USER_URN = "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User"
"""Winningtemp's user extension as hrsync assumes it (nothing public names it): gender,
birthday and excludeFromSurveys. A server whose /Schemas lacks it gets none of the three."""
WORK_EMAIL = 'emails[type eq "work"].value'
WORK_PHONE = 'phoneNumbers[type eq "work"].value'
MOBILE = 'phoneNumbers[type eq "mobile"].value'
DEPARTMENT = f"{ENTERPRISE_USER_URN}:department"
EMPLOYEE_NUMBER = f"{ENTERPRISE_USER_URN}:employeeNumber"
ORGANIZATION = f"{ENTERPRISE_USER_URN}:organization"
GENDER = f"{WINNINGTEMP_USER_URN}:gender"
BIRTHDAY = f"{WINNINGTEMP_USER_URN}:birthday"
EXCLUDE_FROM_SURVEYS = f"{WINNINGTEMP_USER_URN}:excludeFromSurveys"

_ATTRIBUTES = (
    AttributeSpec("userName", "User name", is_required=True, is_unique=True, max_length=256),
    AttributeSpec("externalId", "External ID"),
    AttributeSpec("name.givenName", "First name", max_length=256),
    AttributeSpec("name.familyName", "Last name", max_length=256),
    AttributeSpec("displayName", "Display name", max_length=256),
    AttributeSpec("title", "Title", max_length=256),
    AttributeSpec(WORK_EMAIL, "Work e-mail", max_length=256),
    AttributeSpec(WORK_PHONE, "Work phone", max_length=64),
    AttributeSpec(MOBILE, "Mobile", max_length=64),
    AttributeSpec(EMPLOYEE_NUMBER, "Employee number", max_length=64),
    AttributeSpec(DEPARTMENT, "Department", max_length=256),
    AttributeSpec(ORGANIZATION, "Organisation", max_length=256),
    AttributeSpec(MANAGER_PATH, "Manager"),
    AttributeSpec(GENDER, "Gender", allowed="^(male|female)$"),
    AttributeSpec(BIRTHDAY, "Birthday", allowed=r"^\d{4}-\d{2}-\d{2}$"),
    AttributeSpec(EXCLUDE_FROM_SURVEYS, "Exclude from surveys", allowed="^(true|false)$"),
)


def custom_field_path(name: str) -> str:
    """Where an HR custom field goes in Winningtemp's user extension: its name, as it is."""
    return f"{WINNINGTEMP_USER_URN}:{name}"


BOOLEAN_PATHS = frozenset({EXCLUDE_FROM_SURVEYS})

_NAMES = {
    "userName": "[email]",
    "name.givenName": "[given_name]",
    "name.familyName": "[family_name]",
}
PRESETS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "generic": MappingProxyType(
            _NAMES
            | {
                "displayName": 'Trim(Join(" ", [given_name], [family_name]))',
                WORK_EMAIL: "[email]",
                "title": "[title]",
                WORK_PHONE: "[phone]",
                MOBILE: "[mobile]",
                EMPLOYEE_NUMBER: "[employee_number]",
                DEPARTMENT: "[org.Department]",
                ORGANIZATION: "[company_name]",
            }
        ),
        # Winningtemp: externalId, userName and the e-mail, names, gender, birthday, the
        # manager and "exclude from surveys" for External Personnel (seed 001).
        "winningtemp": MappingProxyType(
            _NAMES
            | {
                WORK_EMAIL: "[email]",
                GENDER: "[custom.gender]",  # Flex 1 / 2 → male / female, _ or 0 → not set
                BIRTHDAY: "[birth_date]",
                EXCLUDE_FROM_SURVEYS: (
                    'IIF([employment_type] = "External Personnel", "true", "false")'
                ),
            }
        ),
        # Flexwhere: user name, names, display name, title, phones, department, e-mail, each
        # one switchable (seed 004: "configurable which attributes are synchronised").
        "flexwhere": MappingProxyType(
            _NAMES
            | {
                "displayName": 'Trim(Join(" ", [given_name], [family_name]))',
                "title": "[title]",
                WORK_PHONE: "[phone]",
                MOBILE: "[mobile]",
                DEPARTMENT: "[org.Department]",
                WORK_EMAIL: "[email]",
            }
        ),
    }
)
PRESET_LABELS = {
    "generic": "SCIM app",
    "winningtemp": "Winningtemp (SCIM)",
    "flexwhere": "Flexwhere (SCIM)",
}
"""How a connection to each preset's app is named on tickets and in the console."""
SET_BY_HRSYNC = frozenset({"id", "externalId", "active", "meta", "schemas", MANAGER_PATH})


def scim_profile(preset: str = "generic") -> TargetProfile:
    """The SCIM profile with one preset's default mapping."""
    return TargetProfile(
        kind="scim",
        label=PRESET_LABELS[preset],
        attributes=_ATTRIBUTES,
        capabilities=Capabilities(
            hierarchy=False,
            rename=False,
            groups=True,
            manager=True,
            disable=True,
            delete=True,
            batch=True,  # creates go by /Bulk where the app supports it (ScimTarget.batch_size)
        ),
        # After the link and externalId: a user made by hand in the app is linked by its
        # userName or work e-mail, not duplicated.
        correlation=(
            CorrelationKey("userName", "email"),
            CorrelationKey(WORK_EMAIL, "email"),
        ),
        default_mapping=PRESETS[preset],
        unique_names=("userName",),
        owner_attribute="externalId",
        naming_attribute=None,
        manager_attribute=MANAGER_PATH,
        ref_label="SCIM id",
        where_label="SCIM URL",
        username_attribute="userName",
        mappable=r"^(urn:[A-Za-z0-9:._-]+:)?[A-Za-z][A-Za-z0-9_$-]*(\[type eq \"[A-Za-z]+\"\])?"
        r"(\.[A-Za-z][A-Za-z0-9_$-]*)?$",
        mappable_described="a SCIM attribute path (userName, name.givenName, "
        'emails[type eq "work"].value, urn:…:User:department)',
        set_by_hrsync=SET_BY_HRSYNC,
    )
