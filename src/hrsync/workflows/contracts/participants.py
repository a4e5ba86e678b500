"""Who joins a contract: the employee as counterparty per the delivery channel, and the manager
as an owner-side colleague (the rules of the Flex HRM and Oneflow guide, seed 002)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHANNEL_NEEDS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "sms": ("phone_number",),
    "email_and_sms": ("email", "phone_number"),
}
"""What the employee must have for each channel; `none` and `same_device` add nobody."""
ATTRIBUTE_SOURCE = {"email": "work e-mail (EmailWork)", "phone_number": "mobile (Phone4)"}


@dataclass(frozen=True, slots=True)
class AddParticipant:
    party: dict[str, Any]
    """The individual party to POST, its participant inside."""


@dataclass(frozen=True, slots=True)
class NotAdded:
    reason: str
    is_problem: bool
    """True when something is missing in Flex HRM (told to an admin), False by design."""


Decision = AddParticipant | NotAdded


def preferred(options: Sequence[Mapping[str, Any]], default: str) -> str:
    for option in options:
        if option.get("preferred"):
            return str(option.get("name"))
    return default


def employee_participant(
    available_options: Mapping[str, Any], name: str, email: str, mobile: str, country: str
) -> Decision:
    """The employee's party when the contract's preferred delivery channel (and two-step
    method) can reach them; otherwise why not — a missing attribute is told, never guessed."""
    channel = preferred(available_options.get("delivery_channels") or [], "email")
    two_step = preferred(available_options.get("two_step_authentication_methods") or [], "none")
    if channel not in CHANNEL_NEEDS:
        return NotAdded(f"the delivery channel is '{channel}': the employee is not added", False)
    needs = set(CHANNEL_NEEDS[channel]) | set(CHANNEL_NEEDS.get(two_step, ()))
    have = {"email": email.strip(), "phone_number": mobile.strip()}
    missing = sorted(attribute for attribute in needs if not have[attribute])
    if missing:
        what = " and ".join(ATTRIBUTE_SOURCE[attribute] for attribute in missing)
        return NotAdded(
            f"delivery by '{channel}'"
            + (f" with two-step '{two_step}'" if two_step != "none" else "")
            + f" needs the employee's {what}, which Flex HRM does not have: "
            "add it in Flex HRM and change the employee number again, or add the participant "
            "by hand",
            True,
        )
    participant = {
        "name": name,
        "signatory": True,
        "delivery_channel": channel,
        "two_step_authentication_method": two_step,
        "_permissions": {"contract:update": False},
    }
    participant |= {key: value for key, value in have.items() if value and key in needs}
    if have["email"] and "email" not in participant:
        participant["email"] = have["email"]
    return AddParticipant({"type": "individual", "country_code": country or "SE",
                           "participant": participant})  # fmt: skip


def is_party(contract: Mapping[str, Any], email: str) -> bool:
    """Whether someone with this e-mail already takes part in the contract, on either side."""
    wanted = email.strip().lower()
    return bool(wanted) and any(
        str(person.get("email") or "").strip().lower() == wanted
        for party in contract.get("parties") or []
        for person in party.get("participants") or []
    )


def manager_colleague(name: str, email: str) -> dict[str, Any]:
    """The manager as an owner-side colleague: informed, not signing."""
    return {"name": name, "email": email, "signatory": False, "delivery_channel": "email",
            "_permissions": {"contract:update": False}}  # fmt: skip


def employee_party_ids(contract: Mapping[str, Any]) -> list[int]:
    """Counterparty individual parties: the ones a changed employee number replaces."""
    return [
        int(party["id"])
        for party in contract.get("parties") or []
        if not party.get("my_party") and party.get("type") == "individual"
    ]
