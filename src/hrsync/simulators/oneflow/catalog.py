"""What a fresh Oneflow account holds in the simulator: users, one workspace, the Flex HRM
template type with its 15 data fields, and the "Employment contract" template.

`available_options` drive validation of participants (research §2.3, §2.8): a participant's
delivery channel, sign method and two-step method must be offered, and the channel's and the
method's required participant attributes must be present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonObject = dict[str, Any]

WORKSPACE_ID = 1
TEMPLATE_TYPE_ID = 100
TEMPLATE_ID = 200

FLEX_DATA_FIELDS: tuple[tuple[str, str], ...] = (
    ("employee_number", "Employee number"),
    ("first_name", "First name"),
    ("surname", "Surname"),
    ("national_id_number", "National ID number"),
    ("co_address", "C/O address"),
    ("street_address", "Street address"),
    ("postal_code", "Postal code"),
    ("city", "City"),
    ("country", "Country"),
    ("email_work", "Email work"),
    ("mobile_phone_private", "Mobile phone private"),
    ("immediate_manager", "Immediate manager"),
    ("position", "Position"),
    ("start_of_employment", "Start of employment"),
    ("end_of_employment", "End of employment"),
)
"""The seed's mapping table: (custom id, name), in its order."""

DELIVERY_CHANNELS: dict[str, list[str]] = {
    "email": ["email"],
    "sms": ["phone_number"],
    # Not in the connector's enum (research §2.4) but in the Flex HRM guide's rules (seed 002).
    "email_and_sms": ["email", "phone_number"],
    "same_device": [],
    "none": [],
}
TWO_STEP_METHODS: dict[str, list[str]] = {"none": [], "email": ["email"], "sms": ["phone_number"]}
SIGN_METHODS = ("standard_esign", "sms", "swedish_bankid")


@dataclass(frozen=True, slots=True)
class TemplateOptions:
    """Which delivery channel and two-step method a template prefers (all are offered)."""

    delivery_channel: str = "email"
    two_step_authentication_method: str = "none"
    sign_method: str = "standard_esign"

    def __post_init__(self) -> None:
        if self.delivery_channel not in DELIVERY_CHANNELS:
            raise ValueError(f"unknown delivery channel {self.delivery_channel!r}")
        if self.two_step_authentication_method not in TWO_STEP_METHODS:
            raise ValueError(f"unknown two-step method {self.two_step_authentication_method!r}")
        if self.sign_method not in SIGN_METHODS:
            raise ValueError(f"unknown sign method {self.sign_method!r}")

    def available_options(self) -> JsonObject:
        return {
            "can_receive_attachments": True,
            "can_receive_expanded_pdf": True,
            "delivery_channels": [
                {
                    "name": name,
                    "preferred": name == self.delivery_channel,
                    "required_participant_attributes": list(required),
                }
                for name, required in DELIVERY_CHANNELS.items()
            ],
            "sign_methods": [
                {"name": name, "preferred": name == self.sign_method} for name in SIGN_METHODS
            ],
            "two_step_authentication_methods": [
                {
                    "name": name,
                    "preferred": name == self.two_step_authentication_method,
                    "required_participant_attributes": list(required),
                }
                for name, required in TWO_STEP_METHODS.items()
            ],
        }


def workspace() -> JsonObject:
    return {
        "id": WORKSPACE_ID,
        "name": "HR",
        "company_name": "Acme AB",
        "country_code": "SE",
        "registration_number": "556000-0000",
        "date_format": "YYYY-MM-DD",
        "_permissions": {"contract:create": True},
    }


def template_type(type_id: int, name: str, fields: tuple[tuple[str, str], ...]) -> JsonObject:
    return {
        "id": type_id,
        "name": name,
        "extension_type": "flexhrm",
        "active": True,
        "data_fields": [
            {
                "id": type_id * 100 + number,
                "custom_id": custom_id,
                "name": label,
                "description": "",
                "placeholder": "",
                "source": "template_type",
                "value": "",
            }
            for number, (custom_id, label) in enumerate(fields, start=1)
        ],
    }


def template(template_id: int, name: str, kind: JsonObject, options: TemplateOptions) -> JsonObject:
    return {
        "id": template_id,
        "name": name,
        "active": True,
        "workspace_id": WORKSPACE_ID,
        "template_type": {
            "id": kind["id"],
            "name": kind["name"],
            "extension_type": kind["extension_type"],
        },
        "available_options": options.available_options(),
    }


def user(number: int, email: str) -> JsonObject:
    local = email.split("@", 1)[0]
    name = " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)
    return {"id": number, "email": email, "name": name or email, "active": True}
