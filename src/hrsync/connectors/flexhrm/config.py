"""The settings of one Flex HRM source, validated when they are loaded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from hrsync.connectors.flexhrm.paths import FlexHrmPaths

Dialect = Literal["camel", "pascal"]


class FlexHrmConfig(BaseModel):
    """Where Flex HRM is, who hrsync is there, and what it reads.

    Flex publishes two base URLs: the central API (`https://api.flexhrm.com/api/`, camelCase JSON)
    and the per-customer legacy one (`https://{customer}.flexhosting.se/webapi/api/`, PascalCase).
    Responses are read case-insensitively either way; `dialect` records which one this is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Base URL ending in /api/ (central) or /webapi/api/ (legacy).")
    dialect: Literal["auto", "camel", "pascal"] = "auto"
    instance: str = Field(min_length=1, description="Customer number or domain name ('Instance').")
    username: str = Field(min_length=1)
    password: SecretStr
    companies: list[str] = Field(
        default_factory=list,
        description="Company ids or company numbers; empty means every company the user sees.",
    )
    modified_since_days: int = Field(30, ge=1, le=3650)
    auth_encoding: Literal["base64", "raw", "auto"] = "auto"
    page_size: int = Field(200, ge=1, le=500)
    timeout_seconds: float = Field(30, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0, le=60)
    external_employment_types: list[str] = Field(
        default_factory=lambda: ["External Personnel", "Konsult", "Inhyrd"]
    )
    organization_levels: list[str] = Field(
        default_factory=list,
        description="Account distribution names to use as organisation levels, in this order; "
        "empty means every distribution, ordered by its level.",
    )
    time_zone: str = Field(
        "Europe/Stockholm",
        description="The zone whose calendar day decides which employment period is current.",
    )
    tls_verify: bool = True
    paths: FlexHrmPaths = Field(
        default_factory=FlexHrmPaths,
        description="Paths of the write and document resources (inferred; see paths.py).",
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip()
        if not url.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http:// for a local simulator)")
        if not url.endswith("/"):
            url += "/"
        if not url.endswith("/api/"):
            raise ValueError("url must end in /api/ (central API) or /webapi/api/ (legacy webapi)")
        return url

    @field_validator("companies", "external_employment_types", "organization_levels")
    @classmethod
    def _strip_entries(cls, values: list[str]) -> list[str]:
        return [entry.strip() for entry in values if entry.strip()]

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def resolved_dialect(self) -> Dialect:
        """The JSON casing of this API: PascalCase for the legacy webapi, camelCase otherwise."""
        if self.dialect != "auto":
            return self.dialect
        return "pascal" if "/webapi/" in self.url.lower() else "camel"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def default_window_start(self, now: datetime) -> datetime:
        """The start of the default modified-since window: `modified_since_days` before `now`."""
        return now - timedelta(days=self.modified_since_days)
