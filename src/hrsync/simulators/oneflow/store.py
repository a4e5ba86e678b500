"""The simulated Oneflow account in memory: contracts, parties, participants, data fields, events.

Wire shapes follow research §2.3 to §2.5. Every mutation happens under one lock; what a change
means for webhooks comes back as the event types it raised, for the caller to dispatch.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from hrsync.simulators.oneflow import catalog
from hrsync.simulators.oneflow.catalog import JsonObject, TemplateOptions

MAX_PARTICIPANTS = 40
EDITABLE = frozenset({"draft", "pending", "overdue"})
_PARTICIPANT_KEYS = frozenset(
    {
        "name",
        "email",
        "phone_number",
        "title",
        "identification_number",
        "organizer",
        "signatory",
        "sign_method",
        "delivery_channel",
        "two_step_authentication_method",
        "_permissions",
    }
)


class OneflowError(Exception):
    """A request the API refuses; rendered in Oneflow's error shape (research §2.7)."""

    def __init__(
        self,
        status: int,
        detail: str,
        parameter_problems: Mapping[str, list[str]] | None = None,
        error_code: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.parameter_problems = dict(parameter_problems or {})
        self.error_code = error_code or status * 10000


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class OneflowStore:
    """One account: users, a workspace, templates and the contracts made from them."""

    def __init__(self, users: list[str], clock: Callable[[], datetime]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users = [catalog.user(n, email) for n, email in enumerate(users, start=1)]
        self.workspace = catalog.workspace()
        kind = catalog.template_type(
            catalog.TEMPLATE_TYPE_ID, "Flex HRM Template", catalog.FLEX_DATA_FIELDS
        )
        self.template_types: dict[int, JsonObject] = {kind["id"]: kind}
        self.templates: dict[int, JsonObject] = {}
        self.add_template("Employment contract", TemplateOptions(), template_id=catalog.TEMPLATE_ID)
        self.contracts: dict[int, JsonObject] = {}
        self._ids = itertools.count(1001)
        self._events = itertools.count(5001)

    # --- templates and users ----------------------------------------------------------------------

    def add_template(
        self,
        name: str,
        options: TemplateOptions,
        *,
        template_id: int | None = None,
        type_id: int = catalog.TEMPLATE_TYPE_ID,
    ) -> JsonObject:
        with self.lock:
            new_id = template_id or max(self.templates, default=catalog.TEMPLATE_ID) + 1
            made = catalog.template(new_id, name, self.template_types[type_id], options)
            self.templates[new_id] = made
            return made

    def user(self, email: str) -> JsonObject | None:
        return next((u for u in self.users if u["email"].lower() == email.lower()), None)

    # --- contracts --------------------------------------------------------------------------------

    def contract(self, contract_id: int) -> JsonObject:
        found = self.contracts.get(contract_id)
        if found is None:
            raise OneflowError(404, f"Contract {contract_id} was not found.", error_code=4040001)
        return found

    def create(self, body: JsonObject, actor: JsonObject) -> JsonObject:
        """POST /contracts/create: a draft from a template, with its parties."""
        problems = {k: ["This field is required."] for k in ("workspace_id", "template_id")}
        problems = {k: v for k, v in problems.items() if not isinstance(body.get(k), int)}
        if problems:
            raise OneflowError(400, "Invalid request.", problems, 4000001)
        if body["workspace_id"] != self.workspace["id"]:
            raise OneflowError(404, "Workspace was not found.", error_code=4040002)
        template = self.templates.get(body["template_id"])
        if template is None:
            raise OneflowError(404, "Template was not found.", error_code=4040003)
        now = self.clock()
        with self.lock:
            contract = self._new_contract(body, template, actor, now)
            contract["parties"] = [self._owner_party(body.get("my_party"), actor, contract)]
            for position, party in enumerate(body.get("parties") or []):
                contract["parties"].append(self._party(party, contract, f"parties[{position}]"))
            _check_participants(contract)
            self._set_fields(contract, body.get("data_fields") or [], now)
            self.contracts[contract["id"]] = contract
            return contract

    def _new_contract(
        self, body: JsonObject, template: JsonObject, actor: JsonObject, now: datetime
    ) -> JsonObject:
        kind = self.template_types[template["template_type"]["id"]]
        return {
            "id": next(self._ids),
            "state": "draft",
            "state_updated_time": iso(now),
            "updated_time": iso(now),
            "published_time": None,
            "signing_period_expiry_time": None,
            "_private": {
                "name": str(body.get("name") or ""),
                "workspace_id": self.workspace["id"],
                "value": {"amount": "0", "currency": "SEK"},
            },
            "_private_ownerside": {
                "created_time": iso(now),
                "template_id": template["id"],
                "template_type_id": kind["id"],
                "template_name": template["name"],
                "creator_email": actor["email"],
            },
            "_permissions": {"contract:delete": True, "contract:update": True},
            "available_options": copy.deepcopy(template["available_options"]),
            "data_fields": [
                {
                    "id": field["id"],
                    "name": field["name"],
                    "value": "",
                    "placeholder": field["placeholder"],
                    "_private_ownerside": {
                        "custom_id": field["custom_id"],
                        "created_time": iso(now),
                        "updated_time": iso(now),
                    },
                }
                for field in kind["data_fields"]
            ],
            "lifecycle_state": {"lifecycle_state": "awaiting", "is_canceled": False},
            "parties": [],
            "product_groups": [],
            "events": [],
            "signed_time": None,
        }

    def _owner_party(self, given: object, actor: JsonObject, contract: JsonObject) -> JsonObject:
        """Without `my_party`: the workspace's company, the acting user its organizer."""
        if isinstance(given, dict):
            party = self._party({**given, "type": "company"}, contract, "my_party")
        else:
            organizer = {
                "name": actor["name"],
                "email": actor["email"],
                "organizer": True,
                "signatory": True,
                "delivery_channel": "email",
                "_permissions": {"contract:update": True},
            }
            party = self._party(
                {
                    "type": "company",
                    "name": self.workspace["company_name"],
                    "identification_number": self.workspace["registration_number"],
                    "country_code": self.workspace["country_code"],
                    "participants": [organizer],
                },
                contract,
                "my_party",
            )
        party["my_party"] = True
        return party

    def _party(self, given: object, contract: JsonObject, path: str) -> JsonObject:
        if not isinstance(given, dict):
            raise OneflowError(400, "A party must be an object.", {path: ["Invalid."]}, 4000001)
        kind = given.get("type", "company")
        if kind not in ("company", "individual"):
            raise OneflowError(400, "Invalid party type.", {f"{path}.type": ["Invalid."]})
        if kind == "individual":
            people, where = [given.get("participant")], f"{path}.participant"
        else:
            people, where = list(given.get("participants") or []), f"{path}.participants"
        if not people or people == [None]:
            raise OneflowError(
                400, "A party needs at least one participant.", {where: ["Required."]}, 4000001
            )
        participants = [
            self._participant(person, contract, where if kind == "individual" else f"{where}[{n}]")
            for n, person in enumerate(people)
        ]
        name = given.get("name") or (participants[0]["name"] if kind == "individual" else "")
        if not name:
            raise OneflowError(400, "A party needs a name.", {f"{path}.name": ["Required."]})
        return {
            "id": next(self._ids),
            "my_party": False,
            "type": kind,
            "name": name,
            "identification_number": given.get("identification_number") or "",
            "country_code": given.get("country_code") or self.workspace["country_code"],
            "participants": participants,
        }

    def _participant(self, given: object, contract: JsonObject, path: str) -> JsonObject:
        if not isinstance(given, dict):
            raise OneflowError(400, "A participant must be an object.", {path: ["Invalid."]})
        options = contract["available_options"]
        values = {k: v for k, v in given.items() if k in _PARTICIPANT_KEYS}
        channel = values.get("delivery_channel") or _preferred(options["delivery_channels"])
        two_step = values.get("two_step_authentication_method") or _preferred(
            options["two_step_authentication_methods"]
        )
        sign_method = values.get("sign_method") or _preferred(options["sign_methods"])
        problems: dict[str, list[str]] = {}
        _check_offered(problems, path, "delivery_channel", channel, options["delivery_channels"])
        _check_offered(
            problems,
            path,
            "two_step_authentication_method",
            two_step,
            options["two_step_authentication_methods"],
        )
        _check_offered(problems, path, "sign_method", sign_method, options["sign_methods"])
        if not values.get("name"):
            problems[f"{path}.name"] = ["This field is required."]
        if not problems:
            _check_required(problems, path, values, channel, options["delivery_channels"])
            _check_required(
                problems, path, values, two_step, options["two_step_authentication_methods"]
            )
        if problems:
            raise OneflowError(400, "Invalid participant.", problems, 4000002)
        return {
            "id": next(self._ids),
            "name": values["name"],
            "email": values.get("email") or "",
            "phone_number": values.get("phone_number") or "",
            "title": values.get("title") or "",
            "identification_number": values.get("identification_number") or "",
            "organizer": bool(values.get("organizer", False)),
            "signatory": bool(values.get("signatory", False)),
            "sign_method": sign_method,
            "delivery_channel": channel,
            "two_step_authentication_method": two_step,
            "sign_state": "undecided",
            "delivery_status": "not_sent",
            "_permissions": values.get("_permissions") or {"contract:update": False},
            "_private_ownerside": {"visits": 0},
        }

    # --- parties and participants ----------------------------------------------------------------

    def add_party(self, contract_id: int, given: object) -> JsonObject:
        with self.lock:
            contract = self._editable(contract_id, drafts_only=True)
            party = self._party(given, contract, "party")
            contract["parties"].append(party)
            _check_participants(contract, rollback=(contract["parties"], party))
            self._touch(contract)
            return party

    def delete_party(self, contract_id: int, party_id: int) -> None:
        with self.lock:
            contract = self._editable(contract_id, drafts_only=True)
            party = _party_of(contract, party_id)
            if party["my_party"]:
                raise OneflowError(400, "Your own party cannot be removed.", error_code=4000004)
            contract["parties"].remove(party)
            self._touch(contract)

    def add_participant(self, contract_id: int, party_id: int, given: object) -> JsonObject:
        with self.lock:
            contract = self._editable(contract_id, drafts_only=True)
            party = _party_of(contract, party_id)
            if party["type"] == "individual":
                raise OneflowError(
                    400, "An individual party has exactly one participant.", error_code=4000005
                )
            person = self._participant(given, contract, "participant")
            party["participants"].append(person)
            _check_participants(contract, rollback=(party["participants"], person))
            self._touch(contract)
            return person

    def update_participant(
        self, contract_id: int, party_id: int, participant_id: int, given: object
    ) -> JsonObject:
        with self.lock:
            contract = self._editable(contract_id, drafts_only=True)
            party = _party_of(contract, party_id)
            current = _participant_of(party, participant_id)
            if not isinstance(given, dict):
                raise OneflowError(400, "A participant must be an object.")
            merged = {k: current[k] for k in _PARTICIPANT_KEYS if k in current} | given
            updated = self._participant(merged, contract, "participant")
            updated["id"] = current["id"]
            index = party["participants"].index(current)
            party["participants"][index] = updated
            try:
                _check_participants(contract)
            except OneflowError:
                party["participants"][index] = current
                raise
            self._touch(contract)
            return updated

    def delete_participant(self, contract_id: int, party_id: int, participant_id: int) -> None:
        with self.lock:
            contract = self._editable(contract_id, drafts_only=True)
            party = _party_of(contract, party_id)
            person = _participant_of(party, participant_id)
            if len(party["participants"]) == 1:
                raise OneflowError(
                    400, "A party needs at least one participant.", error_code=4000006
                )
            party["participants"].remove(person)
            self._touch(contract)

    # --- data fields ------------------------------------------------------------------------------

    def set_field(self, contract_id: int, custom_id: str, value: object) -> tuple[JsonObject, bool]:
        """PUT data_fields/c::{custom_id}; the field, and whether its value changed."""
        with self.lock:
            contract = self._editable(contract_id, drafts_only=False)
            field = next(
                (
                    f
                    for f in contract["data_fields"]
                    if f["_private_ownerside"]["custom_id"] == custom_id
                ),
                None,
            )
            if field is None:
                raise OneflowError(404, f"Data field c::{custom_id} was not found.")
            text = "" if value is None else str(value)
            changed = field["value"] != text
            if changed:
                field["value"] = text
                field["_private_ownerside"]["updated_time"] = iso(self.clock())
                self._touch(contract)
            return field, changed

    def _set_fields(self, contract: JsonObject, given: list[Any], now: datetime) -> None:
        by_id = {f["_private_ownerside"]["custom_id"]: f for f in contract["data_fields"]}
        for position, item in enumerate(given):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if custom_id not in by_id:
                raise OneflowError(
                    400,
                    "Unknown data field.",
                    {f"data_fields[{position}].custom_id": ["No such data field."]},
                    4000007,
                )
            by_id[custom_id]["value"] = "" if item.get("value") is None else str(item["value"])
            by_id[custom_id]["_private_ownerside"]["updated_time"] = iso(now)

    # --- states -----------------------------------------------------------------------------------

    def publish(self, contract_id: int) -> JsonObject:
        with self.lock:
            contract = self.contract(contract_id)
            if contract["state"] != "draft":
                raise OneflowError(409, "Only a draft can be published.", error_code=4090001)
            signatories = [p for p in _participants(contract) if p["signatory"]]
            if not any(not party["my_party"] for party in contract["parties"]):
                raise OneflowError(400, "The contract needs a counterparty.", error_code=4000008)
            if not signatories:
                raise OneflowError(400, "The contract has no signatory.", error_code=4000009)
            now = self.clock()
            for person in _participants(contract):
                sent = person["delivery_channel"] in ("email", "sms", "email_and_sms")
                person["delivery_status"] = "success" if sent else "not_sent"
            contract["published_time"] = iso(now)
            self._set_state(contract, "pending", now)
            return contract

    def sign(self, contract_id: int) -> JsonObject:
        """Every signatory signs (simulator only)."""
        with self.lock:
            contract = self._pending(contract_id)
            now = self.clock()
            for person in _participants(contract):
                if person["signatory"]:
                    person["sign_state"] = "signed"
            contract["signed_time"] = iso(now)
            contract["lifecycle_state"]["lifecycle_state"] = "active"
            self._set_state(contract, "signed", now)
            return contract

    def decline(self, contract_id: int) -> JsonObject:
        with self.lock:
            contract = self._pending(contract_id)
            counterparty = [
                p for party in contract["parties"] if not party["my_party"]
                for p in party["participants"] if p["signatory"]
            ]  # fmt: skip
            if counterparty:
                counterparty[0]["sign_state"] = "declined"
            self._set_state(contract, "declined", self.clock())
            return contract

    def expire(self, contract_id: int) -> JsonObject:
        with self.lock:
            contract = self._pending(contract_id)
            self._set_state(contract, "overdue", self.clock())
            contract["signing_period_expiry_time"] = contract["state_updated_time"]
            return contract

    def delete(self, contract_id: int) -> None:
        with self.lock:
            self.contract(contract_id)
            del self.contracts[contract_id]

    def record_event(self, contract: JsonObject, kind: str) -> JsonObject:
        with self.lock:
            event = {"id": next(self._events), "type": kind, "created_time": iso(self.clock())}
            contract["events"].append(event)
            return event

    def _pending(self, contract_id: int) -> JsonObject:
        contract = self.contract(contract_id)
        if contract["state"] != "pending":
            raise OneflowError(
                409, f"The contract is {contract['state']}, not pending.", error_code=4090002
            )
        return contract

    def _editable(self, contract_id: int, *, drafts_only: bool) -> JsonObject:
        contract = self.contract(contract_id)
        allowed = {"draft"} if drafts_only else EDITABLE
        if contract["state"] not in allowed:
            raise OneflowError(
                409, f"The contract is {contract['state']} and cannot be changed.", None, 4090003
            )
        return contract

    def _set_state(self, contract: JsonObject, state: str, now: datetime) -> None:
        contract["state"] = state
        contract["state_updated_time"] = iso(now)
        contract["updated_time"] = iso(now)

    def _touch(self, contract: JsonObject) -> None:
        contract["updated_time"] = iso(self.clock())


def _preferred(options: list[JsonObject]) -> str:
    return str(next((o["name"] for o in options if o.get("preferred")), options[0]["name"]))


def _check_offered(
    problems: dict[str, list[str]], path: str, key: str, value: object, options: list[JsonObject]
) -> None:
    if value not in [o["name"] for o in options]:
        problems[f"{path}.{key}"] = [f"'{value}' is not available for this contract."]


def _check_required(
    problems: dict[str, list[str]],
    path: str,
    values: Mapping[str, Any],
    name: str,
    options: list[JsonObject],
) -> None:
    option = next(o for o in options if o["name"] == name)
    for attribute in option.get("required_participant_attributes", []):
        if not values.get(attribute):
            problems[f"{path}.{attribute}"] = [f"Required when using '{name}'."]


def _participants(contract: JsonObject) -> list[JsonObject]:
    return [p for party in contract["parties"] for p in party["participants"]]


def _party_of(contract: JsonObject, party_id: int) -> JsonObject:
    parties: list[JsonObject] = contract["parties"]
    for party in parties:
        if party["id"] == party_id:
            return party
    raise OneflowError(404, f"Party {party_id} was not found.", error_code=4040004)


def _participant_of(party: JsonObject, participant_id: int) -> JsonObject:
    people: list[JsonObject] = party["participants"]
    for person in people:
        if person["id"] == participant_id:
            return person
    raise OneflowError(404, f"Participant {participant_id} was not found.", error_code=4040005)


def _check_participants(
    contract: JsonObject, rollback: tuple[list[JsonObject], JsonObject] | None = None
) -> None:
    """At most 40 participants, no e-mail twice (research §2.7); undo `rollback` if broken."""
    try:
        people = [
            (f"parties[{n}].participants[{m}]", person)
            for n, party in enumerate(contract["parties"])
            for m, person in enumerate(party["participants"])
        ]
        if len(people) > MAX_PARTICIPANTS:
            raise OneflowError(
                400,
                f"A contract can have at most {MAX_PARTICIPANTS} participants.",
                {"parties": [f"Too many participants ({len(people)})."]},
                4000010,
            )
        seen: set[str] = set()
        for path, person in people:
            email = person["email"].strip().lower()
            if email and email in seen:
                raise OneflowError(
                    400,
                    "You tried to add two identical participants to the contract.",
                    {f"{path}.email": ["You tried to add a duplicate participant."]},
                    4000003,
                )
            seen.add(email)
    except OneflowError:
        if rollback is not None:
            rollback[0].remove(rollback[1])
        raise
