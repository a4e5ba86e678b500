"""The settings of one SCIM 2.0 target, validated when they are loaded."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

Profile = Literal["generic", "winningtemp", "flexwhere"]

CUSTOM_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class ScimConfig(BaseModel):
    """Where the SCIM service is, how hrsync proves who it is, and how hard it pushes.

    `url` is the SCIM base URL, the one `/Users` and `/ServiceProviderConfig` hang under
    (e.g. `https://scim.prod.winningtemp.com/api/scim`). It must be https: a bearer token or a
    password would otherwise cross the network in clear. Plain http is accepted only for a
    loopback host (a test server or a local tunnel), never merely because `tls_verify` is off,
    since switching verification off is about a private CA, not about sending secrets in clear.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="SCIM base URL, e.g. https://app.example.com/scim/v2")
    auth: Literal["bearer", "basic"] = "bearer"
    token: SecretStr | None = Field(None, description="The bearer token (auth = bearer).")
    username: str | None = Field(None, description="The user name (auth = basic).")
    password: SecretStr | None = Field(None, description="The password (auth = basic).")
    profile: Profile = Field(
        "generic", description="Which mapping preset the target starts from; no protocol change."
    )
    tls_verify: bool = True
    ca_file: str | None = Field(None, description="PEM file of the CA that signed the server.")
    timeout_seconds: float = Field(30, gt=0, le=600)
    page_size: int = Field(100, ge=1, le=1000)
    max_retries: int = Field(4, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0, le=60)
    attributes: list[str] = Field(
        default_factory=list,
        description="The attributes synchronised (SCIM paths); empty: all of the profile's.",
    )
    custom_fields: list[str] = Field(
        default_factory=list,
        description="HR custom fields (custom.NAME) sent as NAME in the preset's user "
        "extension (winningtemp), each as it is; for the other presets, map them instead.",
    )

    @field_validator("custom_fields")
    @classmethod
    def _check_custom_fields(cls, value: list[str]) -> list[str]:
        names = [name.strip().removeprefix("custom.") for name in value]
        bad = [name for name in names if not CUSTOM_FIELD_NAME.fullmatch(name)]
        if bad:
            raise ValueError(
                f"custom_fields: {', '.join(map(repr, bad))} cannot be a SCIM attribute name "
                "(letters, digits, _ and -, from a letter)"
            )
        return list(dict.fromkeys(names))

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                "url must be an absolute https:// URL, e.g. https://app.example/scim/v2"
            )
        if parts.query or parts.fragment:
            raise ValueError("url must not carry a query or a fragment")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError(
                "url must use https://: the token or password would cross the network in clear "
                "(http:// is accepted only for localhost or 127.0.0.1)"
            )
        return url

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"ca_file {value!r} is not a readable file")
        return value

    @model_validator(mode="after")
    def _check_credentials(self) -> Self:
        if self.auth == "bearer":
            if self.token is None or not self.token.get_secret_value().strip():
                raise ValueError("auth 'bearer' needs a token")
            if self.username or self.password:
                raise ValueError("auth 'bearer' takes a token, not a username or password")
        else:
            if not self.username or self.password is None:
                raise ValueError("auth 'basic' needs a username and a password")
            if self.token is not None:
                raise ValueError("auth 'basic' takes a username and password, not a token")
        if self.custom_fields and self.profile != "winningtemp":
            raise ValueError(
                "custom_fields go into Winningtemp's user extension (profile winningtemp); "
                "for another app, map each field to its attribute in the mapping instead"
            )
        if self.ca_file and not self.tls_verify:
            raise ValueError("ca_file is only read when tls_verify is on")
        return self


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
