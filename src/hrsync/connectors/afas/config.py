"""The settings of one AFAS Profit source, validated when they are loaded.

Connector ids and field names are customer-defined in AFAS (research/vendor-apis.md §6.1), so
both come from a preset (the HelloID standard connectors) that any setting may override.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

EnvironmentKind = Literal["production", "test", "acceptance"]
Convention = Literal["B", "P", "BP", "PB"]
"""HelloID's name conventions: B own (birth) name, P partner's, BP own then partner's, PB
partner's then own."""

HOSTS: dict[EnvironmentKind, str] = {
    "production": "rest.afas.online",
    "test": "resttest.afas.online",
    "acceptance": "restaccept.afas.online",
}

NAME_USAGE: dict[str, Convention] = {"0": "B", "1": "PB", "2": "P", "3": "BP"}
"""AFAS's code table "Naamgebruik": 0 Geboortenaam, 1 Geb. naam partner + Geboortenaam,
2 Geboortenaam partner, 3 Geboortenaam + Geb. naam partner. HelloID's training material maps it
the same way; one older public HelloID script swaps 2 and 3, hence `name_usage` is a setting."""


class AfasConnectors(BaseModel):
    """Which GetConnectors hold users, employments and organisational units."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: str = Field(min_length=1)
    employments: str = Field(min_length=1)
    organizational_units: str = Field(
        "", description="Empty: no organisation levels are read (no hierarchy)."
    )


class AfasFields(BaseModel):
    """The field id of each value hrsync reads; an empty id means the value is not read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    employee: str = Field(min_length=1, description="Users: the employee number (Medewerker).")
    person_number: str = ""
    first_name: str = ""
    nickname: str = ""
    prefix: str = ""
    family_name: str = Field(min_length=1)
    birth_name: str = ""
    partner_prefix: str = ""
    partner_name: str = ""
    name_usage: str = ""
    email: str = ""
    mobile: str = ""
    modified: str = Field("", description="Users: the modification date the window filters on.")
    employment_id: str = ""
    employment_employee: str = Field(min_length=1)
    start: str = ""
    end: str = ""
    job_code: str = ""
    job_title: str = ""
    unit: str = ""
    manager: str = ""
    employment_modified: str = ""
    unit_id: str = ""
    unit_name: str = ""
    unit_parent: str = ""


HELLOID_CONNECTORS: dict[str, str] = {
    "users": "T4E_HelloID_Users_v2",
    "employments": "T4E_HelloID_Employments_v2",
    "organizational_units": "T4E_HelloID_OrganizationalUnits_v2",
}
HELLOID_FIELDS: dict[str, str] = {
    "employee": "Medewerker",
    "person_number": "Persoonsnummer",
    "first_name": "Voornaam",
    "nickname": "Roepnaam",
    "prefix": "Voorvoegsel",
    "family_name": "Achternaam",
    "birth_name": "Geboortenaam",
    "partner_prefix": "Voorvoegsel_partner",
    "partner_name": "Geboortenaam_partner",
    "name_usage": "Naamgebruik_code",
    "email": "Email_werk",
    "mobile": "Mobiel_werk",
    "modified": "Mutatiedatum",
    "employment_id": "ExternalID",
    "employment_employee": "Medewerker",
    "start": "Begindatum",
    "end": "Einddatum",
    "job_code": "Functie_code",
    "job_title": "Functie_omschrijving",
    "unit": "Organisatorische_eenheid_code",
    "manager": "Leidinggevende_medewerker",
    "employment_modified": "Mutatiedatum",
    "unit_id": "ExternalId",
    "unit_name": "DisplayName",
    "unit_parent": "ParentExternalId",
}
PRESETS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "helloid": (HELLOID_CONNECTORS, HELLOID_FIELDS),
}


class AfasConfig(BaseModel):
    """Where AFAS is, the app connector token, and what is read from which GetConnector.

    Either `environment` (the participant number, e.g. 12345) with `environment_kind`, or a
    full base `url` ending in /ProfitRestServices (a proxy, the simulator).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment: str = Field("", description="Environment (participant) number, e.g. 12345.")
    environment_kind: EnvironmentKind = "production"
    url: str = Field("", description="A full base URL; overrides environment and its kind.")
    token: SecretStr = Field(
        description="The app connector token: its <data>, or the XML.",
        # `password` too: the app fills a source's secret under that name (wiring._with_secret),
        # so AFAS registers there like Flex HRM without a per-kind secret key.
        validation_alias=AliasChoices("token", "password"),
    )
    preset: Literal["helloid"] = "helloid"
    connectors: AfasConnectors
    fields: AfasFields
    name_usage: dict[str, Convention] = Field(default_factory=lambda: dict(NAME_USAGE))
    name_separator: str = Field(" - ", description="Between own and partner's family name.")
    primary_employment: Literal["latest_start", "earliest_start"] = "latest_start"
    organisation_levels: list[str] = Field(
        default_factory=lambda: ["Organisation", "Division", "Department", "Team"],
        description="Names of the unit hierarchy's levels from the top; deeper: 'Level N'.",
    )
    company_name: str = Field("", description="Shown as the employer; default 'AFAS {env}'.")
    modified_since_days: int = Field(30, ge=1, le=3650)
    modified_since_operator: int = Field(
        2, ge=1, le=15, description="AFAS operatortypes for 'on or after' (2 in AFAS's help)."
    )
    page_size: int = Field(1000, ge=1, le=10000, description="The take of each page.")
    timeout_seconds: float = Field(60, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0, le=60)
    time_zone: str = Field(
        "Europe/Amsterdam",
        description="Profit's dates are local: the zone of the window filter and of 'today'.",
    )
    tls_verify: bool = True

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, values: Any) -> Any:
        """The preset's connectors and fields under whatever the settings override."""
        if not isinstance(values, dict):
            return values
        connectors, fields = PRESETS.get(str(values.get("preset") or "helloid"), ({}, {}))
        return {
            **values,
            "connectors": {**connectors, **_as_dict(values.get("connectors"))},
            "fields": {**fields, **_as_dict(values.get("fields"))},
        }

    @model_validator(mode="after")
    def _check_location(self) -> AfasConfig:
        if not self.url and not self.environment:
            raise ValueError("set environment (the participant number) or a full url")
        return self

    @field_validator("environment")
    @classmethod
    def _check_environment(cls, value: str) -> str:
        value = value.strip()
        if value and not value.isalnum():
            raise ValueError("environment is the participant number, e.g. 12345")
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http:// for a local simulator)")
        if url and not url.lower().endswith("/profitrestservices"):
            raise ValueError("url must end in /ProfitRestServices")
        return url

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def base_url(self) -> str:
        """`https://{env}.rest.afas.online/ProfitRestServices` (or the test or acceptance host),
        or the configured url."""
        if self.url:
            return self.url
        return f"https://{self.environment}.{HOSTS[self.environment_kind]}/ProfitRestServices"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def employer(self) -> str:
        return self.company_name or f"AFAS {self.environment or 'Profit'}"

    def default_window_start(self, now: datetime) -> datetime:
        """The start of the default modified-since window: `modified_since_days` before `now`."""
        return now - timedelta(days=self.modified_since_days)


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else {}
