"""The settings of one Active Directory target, validated when they are loaded."""

from __future__ import annotations

import re

import ldap.dn
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hrsync.connectors.active_directory.escaping import is_within

_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


class ActiveDirectoryConfig(BaseModel):
    """Where the domain controller is, who hrsync binds as, and which part of the tree it manages.

    `users_ou` is either a full DN inside `base_dn` or a DN relative to it ("OU=Staff,OU=HR");
    so is `leavers_ou`, where leavers' disabled accounts are moved (none: they stay in place).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="ldaps://dc.example.com (or ldap:// with start_tls).")
    tls_verify: bool = True
    ca_file: str | None = Field(None, description="PEM bundle of the CAs to trust for the DC.")
    start_tls: bool = False
    bind_dn: str = Field(min_length=1, description="A DN or user@domain (UPN) to bind as.")
    password: SecretStr
    base_dn: str = Field(min_length=1)
    users_ou: str = Field(min_length=1)
    upn_suffix: str = Field(min_length=1)
    leavers_ou: str | None = None
    person_id_attribute: str = "employeeNumber"
    page_size: int = Field(500, ge=1, le=1000)  # AD's default MaxPageSize is 1000
    timeout_seconds: float = Field(30, gt=0, le=600)
    create_missing_ou: bool = True

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.lower().startswith(("ldaps://", "ldap://")):
            raise ValueError("url must start with ldaps:// (or ldap:// with start_tls)")
        return url

    @field_validator("base_dn", "users_ou")
    @classmethod
    def _check_dn(cls, value: str) -> str:
        if not ldap.dn.is_dn(value.strip()):
            raise ValueError(f"{value!r} is not a distinguished name")
        return value.strip()

    @field_validator("leavers_ou")
    @classmethod
    def _check_optional_dn(cls, value: str | None) -> str | None:
        return cls._check_dn(value) if value and value.strip() else None

    @field_validator("person_id_attribute")
    @classmethod
    def _check_attribute_name(cls, value: str) -> str:
        if not _ATTRIBUTE_NAME.match(value):
            raise ValueError(f"{value!r} is not an LDAP attribute name")
        return value

    @field_validator("upn_suffix")
    @classmethod
    def _strip_at(cls, value: str) -> str:
        return value.strip().lstrip("@")

    @model_validator(mode="after")
    def _check_transport(self) -> ActiveDirectoryConfig:
        if self.start_tls and self.is_ldaps:
            raise ValueError("start_tls applies to ldap:// URLs; ldaps:// is already encrypted")
        return self

    @property
    def is_ldaps(self) -> bool:
        return self.url.lower().startswith("ldaps://")

    @property
    def is_encrypted(self) -> bool:
        """True when traffic is encrypted: AD accepts passwords (unicodePwd) only then."""
        return self.is_ldaps or self.start_tls

    @property
    def users_ou_dn(self) -> str:
        """The users OU as a full DN."""
        if is_within(self.users_ou, self.base_dn):
            return self.users_ou
        return f"{self.users_ou},{self.base_dn}"

    @property
    def leavers_ou_dn(self) -> str | None:
        """The leavers OU as a full DN, or None when leavers stay where they are."""
        if self.leavers_ou is None or is_within(self.leavers_ou, self.base_dn):
            return self.leavers_ou
        return f"{self.leavers_ou},{self.base_dn}"
