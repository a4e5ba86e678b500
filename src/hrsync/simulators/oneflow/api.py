"""The Oneflow REST API under `/v1` (research §2.2): routes, authentication, wire shapes.

Transport-free: the server hands over method, path segments, query, headers and body, and gets
back (status, JSON value) or a redirect, or a `OneflowError`.
"""

from __future__ import annotations

import copy
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hrsync.simulators.oneflow import catalog
from hrsync.simulators.oneflow.catalog import JsonObject
from hrsync.simulators.oneflow.store import OneflowError, OneflowStore
from hrsync.simulators.oneflow.webhooks import Filter, Webhook

CREATOR = "__CREATOR__"
_FIELD = re.compile(r"^c::(?P<custom_id>[A-Za-z0-9_.-]+)$")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    segments: tuple[str, ...]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Redirect:
    location: str


Answer = tuple[int, object] | Redirect
Emit = Callable[[JsonObject, str], None]
"""Record an event of a contract and send it to the webhooks that want it."""


class OneflowApi:
    """Everything below /v1, for one API token."""

    def __init__(  # noqa: PLR0917 (the simulator's parts, wired once)
        self,
        store: OneflowStore,
        token: str,
        emit: Emit,
        files: Callable[[JsonObject], list[JsonObject]],
        signed_url: Callable[[int, int], str],
        default_sign_key: str,
    ) -> None:
        self.store = store
        self.token = token
        self.emit = emit
        self.files = files
        self.signed_url = signed_url
        self.default_sign_key = default_sign_key
        self.webhooks: dict[int, Webhook] = {}
        self._next_hook = 1

    def add_webhook(self, url: str, sign_key: str | None, filters: tuple[Filter, ...]) -> Webhook:
        with self.store.lock:
            hook = Webhook(self._next_hook, url, sign_key or self.default_sign_key, filters)
            self.webhooks[hook.id] = hook
            self._next_hook += 1
            return hook

    def handle(self, request: Request) -> Answer:
        given = request.headers.get("x-oneflow-api-token") or ""
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            raise OneflowError(401, "Invalid or missing API token.", error_code=4010001)
        self.actor(request)  # an unknown user is refused on every route, /ping included
        route = self._route(request)
        if route is None:
            raise OneflowError(404, "Not found.", error_code=4040000)
        return route()

    def actor(self, request: Request, contract: JsonObject | None = None) -> JsonObject:
        """The user of `x-oneflow-user-email`; `__CREATOR__` is the contract's creator (the
        account's first user where there is no contract). Unknown → 403."""
        email = (request.headers.get("x-oneflow-user-email") or "").strip()
        if email == CREATOR:
            email = contract["_private_ownerside"]["creator_email"] if contract else ""
            email = email or self.store.users[0]["email"]
        found = self.store.user(email) if email else self.store.users[0]
        if found is None or not found["active"]:
            raise OneflowError(403, f"No active user {email!r} in this account.", None, 4030001)
        return found

    def _route(self, request: Request) -> Callable[[], Answer] | None:  # noqa: PLR0912
        method, path = request.method, request.segments
        match (method, *path):
            case ("GET", "ping"):
                return lambda: (200, {})
            case ("GET", "users"):
                return lambda: (200, _page(request, self.store.users))
            case ("GET", "workspaces"):
                return lambda: (200, _page(request, [self.store.workspace]))
            case ("GET", "templates", template_id):
                return lambda: (200, self._template(template_id))
            case ("GET", "template_types"):
                return lambda: (200, _page(request, list(self.store.template_types.values())))
            case ("POST", "template_types"):
                return lambda: (200, self._add_template_type(_json(request.body)))
            case ("GET", "template_types", type_id):
                return lambda: (200, self._template_type(type_id))
            case ("GET", "helpers", "contract_create_data"):
                return lambda: (200, self._create_data(request))
            case ("POST", "contracts", "create"):
                return lambda: self._create(request)
            case ("GET", "contracts"):
                return lambda: (200, self._contracts(request))
            case ("GET", "contracts", contract_id):
                return lambda: (200, render(self._contract(request, contract_id)))
            case ("DELETE", "contracts", contract_id):
                return lambda: self._delete(request, contract_id)
            case ("POST", "contracts", contract_id, "publish"):
                return lambda: self._publish(request, contract_id)
            case ("GET", "contracts", contract_id, "parties"):
                return lambda: (200, self._parties(request, contract_id))
            case ("POST", "contracts", contract_id, "parties"):
                return lambda: self._add_party(request, contract_id)
            case ("DELETE", "contracts", contract_id, "parties", party_id):
                return lambda: self._delete_party(request, contract_id, party_id)
            case ("POST", "contracts", contract_id, "parties", party_id, "participants"):
                return lambda: self._add_participant(request, contract_id, party_id)
            case ("PUT", "contracts", contract_id, "parties", party_id, "participants", person):
                return lambda: self._update_participant(request, contract_id, party_id, person)
            case ("DELETE", "contracts", contract_id, "parties", party_id, "participants", person):
                return lambda: self._delete_participant(request, contract_id, party_id, person)
            case ("PUT", "contracts", contract_id, "data_fields", field):
                return lambda: self._set_field(request, contract_id, field)
            case ("GET", "contracts", contract_id, "files"):
                return lambda: (200, self._files(request, contract_id))
            case ("GET", "contracts", contract_id, "files", file_id):
                return lambda: self._file(request, contract_id, file_id)
            case ("GET", "webhooks"):
                return lambda: (200, _page(request, [h.to_json() for h in self.webhooks.values()]))
            case ("POST", "webhooks"):
                return lambda: (200, self._add_webhook(_json(request.body)))
            case ("GET", "webhooks", hook_id):
                return lambda: (200, self._webhook(hook_id).to_json())
            case ("DELETE", "webhooks", hook_id):
                return lambda: self._delete_webhook(hook_id)
        return None

    # --- templates --------------------------------------------------------------------------------

    def _template(self, template_id: str) -> JsonObject:
        found = self.store.templates.get(_int(template_id, "template_id"))
        if found is None:
            raise OneflowError(404, "Template was not found.", error_code=4040003)
        return found

    def _template_type(self, type_id: str) -> JsonObject:
        found = self.store.template_types.get(_int(type_id, "template_type_id"))
        if found is None:
            raise OneflowError(404, "Template type was not found.", error_code=4040006)
        return found

    def _add_template_type(self, body: object) -> JsonObject:
        """A template group with data fields (INFERRED: the route is not documented publicly)."""
        if not isinstance(body, dict) or not body.get("name"):
            raise OneflowError(400, "Invalid request.", {"name": ["This field is required."]})
        fields = body.get("data_fields") or []
        pairs = tuple(
            (str(f.get("custom_id")), str(f.get("name") or f.get("custom_id")))
            for f in fields
            if isinstance(f, dict) and f.get("custom_id")
        )
        with self.store.lock:
            type_id = max(self.store.template_types) + 1
            made = catalog.template_type(type_id, str(body["name"]), pairs)
            self.store.template_types[type_id] = made
            return made

    def _create_data(self, request: Request) -> JsonObject:
        self.actor(request)
        wanted = request.query.get("template_type_id")
        extension = request.query.get("extension_type")
        templates = [
            {"id": t["id"], "name": t["name"]}
            for t in self.store.templates.values()
            if t["active"]
            and (wanted is None or str(t["template_type"]["id"]) == wanted)
            and (extension is None or t["template_type"]["extension_type"] == extension)
        ]
        space = self.store.workspace
        return {"data": [{"id": space["id"], "name": space["name"], "templates": templates}]}

    # --- contracts --------------------------------------------------------------------------------

    def _contract(self, request: Request, contract_id: str) -> JsonObject:
        contract = self.store.contract(_int(contract_id, "contract_id"))
        self.actor(request, contract)
        return contract

    def _create(self, request: Request) -> Answer:
        actor = self.actor(request)
        body = _json(request.body)
        if not isinstance(body, dict):
            raise OneflowError(400, "The body must be a JSON object.", error_code=4000000)
        contract = self.store.create(body, actor)
        self.emit(contract, "contract:create")
        return 200, render(contract)

    def _contracts(self, request: Request) -> JsonObject:
        self.actor(request)
        template = request.query.get("filter[template_id]")
        found = [
            render(c)
            for c in self.store.contracts.values()
            if template is None or str(c["_private_ownerside"]["template_id"]) == template
        ]
        return _page(request, found)

    def _delete(self, request: Request, contract_id: str) -> Answer:
        contract = self._contract(request, contract_id)
        self.store.delete(contract["id"])
        return 204, None

    def _publish(self, request: Request, contract_id: str) -> Answer:
        contract = self._contract(request, contract_id)
        self.store.publish(contract["id"])
        self.emit(contract, "contract:publish")
        return 200, render(contract)

    def _parties(self, request: Request, contract_id: str) -> JsonObject:
        return {"data": copy.deepcopy(self._contract(request, contract_id)["parties"])}

    def _add_party(self, request: Request, contract_id: str) -> Answer:
        contract = self._contract(request, contract_id)
        return 200, copy.deepcopy(self.store.add_party(contract["id"], _json(request.body)))

    def _delete_party(self, request: Request, contract_id: str, party_id: str) -> Answer:
        contract = self._contract(request, contract_id)
        self.store.delete_party(contract["id"], _int(party_id, "party_id"))
        return 204, None

    def _add_participant(self, request: Request, contract_id: str, party_id: str) -> Answer:
        contract = self._contract(request, contract_id)
        person = self.store.add_participant(
            contract["id"], _int(party_id, "party_id"), _json(request.body)
        )
        return 200, copy.deepcopy(person)

    def _update_participant(
        self, request: Request, contract_id: str, party_id: str, person: str
    ) -> Answer:
        contract = self._contract(request, contract_id)
        updated = self.store.update_participant(
            contract["id"],
            _int(party_id, "party_id"),
            _int(person, "participant_id"),
            _json(request.body),
        )
        return 200, copy.deepcopy(updated)

    def _delete_participant(
        self, request: Request, contract_id: str, party_id: str, person: str
    ) -> Answer:
        contract = self._contract(request, contract_id)
        self.store.delete_participant(
            contract["id"], _int(party_id, "party_id"), _int(person, "participant_id")
        )
        return 204, None

    def _set_field(self, request: Request, contract_id: str, field: str) -> Answer:
        contract = self._contract(request, contract_id)
        matched = _FIELD.match(field)
        if matched is None:
            raise OneflowError(404, f"Data field {field} was not found.", error_code=4040007)
        body = _json(request.body)
        if not isinstance(body, dict) or "value" not in body:
            raise OneflowError(400, "Invalid request.", {"value": ["This field is required."]})
        updated, changed = self.store.set_field(contract["id"], matched["custom_id"], body["value"])
        if changed:
            # INFERRED: Oneflow raises content_update when a data field's value changes.
            self.emit(contract, "contract:content_update")
        return 200, copy.deepcopy(updated)

    # --- files ------------------------------------------------------------------------------------

    def _files(self, request: Request, contract_id: str) -> JsonObject:
        return {"data": self.files(self._contract(request, contract_id))}

    def _file(self, request: Request, contract_id: str, file_id: str) -> Answer:
        contract = self._contract(request, contract_id)
        number = _int(file_id, "file_id")
        found = next((f for f in self.files(contract) if f["id"] == number), None)
        if found is None:
            raise OneflowError(404, "The file is not available (yet).", error_code=4040008)
        if request.query.get("download", "").lower() == "true":
            return Redirect(self.signed_url(contract["id"], number))
        return 200, found

    # --- webhooks ---------------------------------------------------------------------------------

    def _add_webhook(self, body: object) -> JsonObject:
        if not isinstance(body, dict) or not isinstance(body.get("callback_url"), str):
            raise OneflowError(400, "Invalid request.", {"callback_url": ["Required."]})
        try:
            filters = tuple(Filter.from_json(f) for f in body.get("filters") or [])
        except (TypeError, ValueError) as error:
            raise OneflowError(400, "Invalid filters.", {"filters": [str(error)]}) from None
        return self.add_webhook(body["callback_url"], body.get("sign_key"), filters).to_json()

    def _webhook(self, hook_id: str) -> Webhook:
        found = self.webhooks.get(_int(hook_id, "webhook_id"))
        if found is None:
            raise OneflowError(404, "Webhook was not found.", error_code=4040009)
        return found

    def _delete_webhook(self, hook_id: str) -> Answer:
        with self.store.lock:
            del self.webhooks[self._webhook(hook_id).id]
        return 204, None


def render(contract: JsonObject) -> JsonObject:
    """The contract as the API shows it (the simulator's bookkeeping left out)."""
    shown = copy.deepcopy({k: v for k, v in contract.items() if k not in ("events", "signed_time")})
    shown["_private_ownerside"].pop("creator_email", None)
    return shown


def _page(request: Request, items: list[Any]) -> JsonObject:
    limit = _int(request.query.get("limit") or "100", "limit")
    offset = _int(request.query.get("offset") or "0", "offset")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise OneflowError(400, "Invalid paging.", {"limit": [f"1 to {MAX_LIMIT}."]}, 4000011)
    page = copy.deepcopy(items[offset : offset + limit])
    more = offset + limit < len(items)
    return {
        "_links": {
            "self": {"href": f"?limit={limit}&offset={offset}"},
            "next": {"href": f"?limit={limit}&offset={offset + limit}"} if more else None,
            "previous": {"href": f"?limit={limit}&offset={max(0, offset - limit)}"}
            if offset
            else None,
        },
        "count": len(items),
        "data": page,
    }


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OneflowError(400, f"{name} must be an integer.", {name: ["Invalid."]}) from None


def _json(body: bytes) -> object:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise OneflowError(400, "The body is not JSON.", error_code=4000000) from None
