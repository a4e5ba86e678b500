"""What the columns of an HR list in a CSV file mean: each column read into a person field, with
the rules a value must keep, and the presets an admin starts from (`flexwhere`, the seed 004
template; `ad_export`, what `csvde` and PowerShell `Get-ADUser | Export-Csv` write)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from hrsync.connectors.csv.formats import FLEXWHERE

Kind = Literal["text", "email", "phone", "date", "flag", "dn"]

PERSON_FIELDS = frozenset(
    {
        "username",
        "employee_number",
        "given_name",
        "family_name",
        "email",
        "phone",
        "mobile",
        "street",
        "postal_code",
        "city",
        "country",
        "birth_date",
        "manager_id",
        "manager_dn",
        "distinguished_name",
        "company_name",
        "title",
        "employment_type",
        "start_date",
        "end_date",
    }
)
"""The fields a column may fill, besides `org.LEVEL` and `custom.NAME`. `username` is kept as
`custom.username`; `manager_dn` and `distinguished_name` let an AD export name a manager by DN."""

KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "email": "email",
        "phone": "phone",
        "mobile": "phone",
        "birth_date": "date",
        "start_date": "date",
        "end_date": "date",
        "manager_dn": "dn",
        "distinguished_name": "dn",
    }
)


def kind_of(field: str) -> Kind:
    return KINDS.get(field, "text")


def is_known_field(field: str) -> bool:
    """True for a field a column may fill: a person field, `org.LEVEL` or `custom.NAME`."""
    prefix, _, rest = field.partition(".")
    return field in PERSON_FIELDS or (prefix in ("org", "custom") and bool(rest.strip()))


@dataclass(frozen=True, slots=True)
class SourceColumn:
    """One column of the file: its header (and other spellings accepted for it), the person
    field it fills, and whether the header and a value in every row are required."""

    name: str
    field: str
    is_mandatory: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    """The only values allowed (Flexwhere's EHBO: 1 or 0); empty: any."""
    is_key: bool = False
    """Its value is the person id (set by `SourceFormat.keyed`)."""

    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """A kind of HR list: its columns and which one names the person (`key`)."""

    name: str
    label: str
    columns: tuple[SourceColumn, ...]
    key: str

    def keyed(self) -> SourceFormat:
        """The format with its key column marked, and made mandatory: a row without a person
        id cannot be a person."""
        columns = tuple(
            dataclasses.replace(c, is_key=True, is_mandatory=True) if c.name == self.key else c
            for c in self.columns
        )
        return dataclasses.replace(self, columns=columns)

    def column(self, name: str) -> SourceColumn | None:
        wanted = name.casefold()
        return next(
            (c for c in self.columns if wanted in (s.casefold() for s in c.spellings())), None
        )


_FLEXWHERE_FIELDS = {
    "CSV_USERNAME": "username",
    "CSV_FIRSTNAME": "given_name",
    "CSV_SURNAME": "family_name",
    "CSV_DISPLAYNAME": "custom.display_name",
    "CSV_TITLE": "title",
    "CSV_PHONE": "phone",
    "CSV_MOBILE": "mobile",
    "CSV_DEPARTMENT": "org.Department",
    "CSV_EMAIL": "email",
    "CSV_EHBO": "custom.ehbo",
    "CSV_BHV": "custom.bhv",
    "CSV_PROFILEPHOTO": "custom.profile_photo",
}


def _flexwhere_column(name: str, field: str) -> SourceColumn:
    """The target's column rules say which columns are mandatory and which take 1/0."""
    rules = FLEXWHERE.column(name)
    return SourceColumn(
        name,
        field,
        is_mandatory=bool(rules and rules.is_mandatory),
        values=rules.values if rules else (),
    )


FLEXWHERE_SOURCE = SourceFormat(
    name="flexwhere",
    label="Flexwhere user list",
    key="CSV_USERNAME",
    columns=tuple(_flexwhere_column(name, field) for name, field in _FLEXWHERE_FIELDS.items()),
)

AD_EXPORT = SourceFormat(
    name="ad_export",
    label="Active Directory export (csvde, Export-Csv)",
    key="sAMAccountName",
    # LDAP names as csvde writes them, then the names Get-ADUser's properties have; headers
    # are matched without regard to case.
    columns=(
        SourceColumn("sAMAccountName", "username", is_mandatory=True),
        SourceColumn("givenName", "given_name", is_mandatory=True),
        SourceColumn("sn", "family_name", is_mandatory=True, aliases=("Surname",)),
        SourceColumn("mail", "email", aliases=("EmailAddress",)),
        SourceColumn("title", "title"),
        SourceColumn("department", "org.Department"),
        SourceColumn("company", "company_name"),
        SourceColumn("telephoneNumber", "phone", aliases=("OfficePhone",)),
        SourceColumn("mobile", "mobile", aliases=("MobilePhone",)),
        SourceColumn("employeeID", "employee_number"),
        SourceColumn("employeeNumber", "custom.employee_number"),
        SourceColumn("manager", "manager_dn"),
        SourceColumn("DN", "distinguished_name", aliases=("DistinguishedName",)),
        SourceColumn("streetAddress", "street", aliases=("StreetAddress",)),
        SourceColumn("postalCode", "postal_code", aliases=("PostalCode",)),
        SourceColumn("l", "city", aliases=("City",)),
        SourceColumn("co", "country", aliases=("Country", "c")),
        SourceColumn("physicalDeliveryOfficeName", "org.Office", aliases=("Office",)),
        SourceColumn("userPrincipalName", "custom.upn", aliases=("UserPrincipalName",)),
    ),
)

SOURCE_FORMATS: Mapping[str, SourceFormat] = MappingProxyType(
    {FLEXWHERE_SOURCE.name: FLEXWHERE_SOURCE, AD_EXPORT.name: AD_EXPORT}
)


def declared_format(columns: Mapping[str, str], key: str) -> SourceFormat:
    """A format from a `[sources.X.columns]` table (CSV column → person field). The key
    column is mandatory; so are the name columns, which every person has."""
    mandatory = {key, *(c for c, f in columns.items() if f in ("given_name", "family_name"))}
    return SourceFormat(
        name="columns",
        label="declared columns",
        key=key,
        columns=tuple(
            SourceColumn(name, field, is_mandatory=name in mandatory)
            for name, field in columns.items()
        ),
    )
