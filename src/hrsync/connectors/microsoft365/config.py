"""The settings of one Microsoft 365 (Entra ID through Microsoft Graph) target, validated when
they are loaded."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from hrsync.connectors.microsoft365.profile import PERSON_ID
from hrsync.connectors.scim.config import is_loopback

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Microsoft365Config(BaseModel):
    """Which tenant, which app registration, and where the token endpoint and Graph are.

    `login_url` and `graph_url` default to the global cloud; national clouds and the simulator
    override them. Both must be https, except on loopback (the simulator, a local tunnel): the
    client secret and the tokens would otherwise cross the network in clear.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant_id: str = Field(description="The tenant's id or its domain (contoso.onmicrosoft.com).")
    client_id: str = Field(description="The app registration's application (client) id.")
    client_secret: SecretStr = Field(description="A client secret of the app registration.")
    login_url: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    upn_suffix: str = Field(description="The verified domain new users sign in with.")
    destination: Literal["cloud"] = Field(
        "cloud",
        description="Where the accounts live: cloud (Entra). A hybrid destination (accounts in "
        "an AD connection, Microsoft 365 only licences and groups) is not built yet.",
    )
    usage_location: str | None = Field(
        None, description="Two-letter country new users get (needed before licences)."
    )
    person_id_attribute: str = Field(
        PERSON_ID,
        pattern=r"^[a-z][A-Za-z0-9]{0,63}(\.[a-z][A-Za-z0-9]{0,63})?$",
        description="Where hrsync writes the person id on a user (a property or "
        "onPremisesExtensionAttributes.extensionAttributeN).",
    )
    tls_verify: bool = True
    timeout_seconds: float = Field(30, gt=0, le=600)
    page_size: int = Field(999, ge=1, le=999)
    max_retries: int = Field(6, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0, le=60)
    max_retry_after_seconds: float = Field(
        120, ge=0, le=3600, description="A longer Retry-After ends the change as transient."
    )

    @field_validator("login_url", "graph_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an absolute https:// URL")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or a fragment")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError(
                "must use https://: the secret and tokens would cross the network in clear "
                "(http:// is accepted only for localhost or 127.0.0.1)"
            )
        return url

    @field_validator("destination", mode="before")
    @classmethod
    def _check_destination(cls, value: object) -> object:
        if value == "hybrid":
            raise ValueError(
                "hybrid is not built yet: only cloud (accounts made in Entra) is supported"
            )
        return value

    @field_validator("tenant_id", "client_id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        value = value.strip()
        if not value or "/" in value or " " in value:
            raise ValueError("must be an id or a domain, without spaces or slashes")
        return value

    @field_validator("upn_suffix")
    @classmethod
    def _check_suffix(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not _DOMAIN.match(value):
            raise ValueError("must be a domain name, e.g. contoso.com")
        return value

    @field_validator("usage_location")
    @classmethod
    def _check_country(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().upper()
        if not _COUNTRY.match(value):
            raise ValueError("must be a two-letter ISO 3166 country code, e.g. NL or SE")
        return value

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/{self.tenant_id}/oauth2/v2.0/token"
