"""The settings of one Oneflow integration, validated when they are loaded."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MY_DOCUMENT_CATEGORY_PREFIX = "Oneflow"


class OneflowConfig(BaseModel):
    """Where Oneflow is, who hrsync acts as there, and where contract PDFs go in Flex HRM."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field("https://api.oneflow.com/v1", description="API base URL, ending in /v1.")
    token: SecretStr
    user_email: str = Field(
        "__CREATOR__", description="x-oneflow-user-email: a user or __CREATOR__."
    )
    sign_key: SecretStr
    document_category: str = "Oneflow Documents"
    timeout_seconds: float = Field(30, gt=0, le=600)
    max_retries: int = Field(4, ge=0, le=20)
    backoff_seconds: float = Field(0.5, ge=0, le=60)
    pdf_attempts: int = Field(6, ge=1, le=60)
    """How often the contract PDF is asked for while Oneflow has not rendered it yet."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http:// for a local simulator)")
        return url

    @field_validator("document_category")
    @classmethod
    def _check_category(cls, value: str) -> str:
        if not value.startswith(MY_DOCUMENT_CATEGORY_PREFIX):
            raise ValueError("the document category's name must start with 'Oneflow'")
        return value
