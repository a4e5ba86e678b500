"""The Oneflow simulator: the `/v1` API, webhooks, contract PDFs behind signed URLs, and the
simulator-only `/_sim` endpoints (sign, decline, expire, deliveries, templates, health).

    with OneflowSimulator(token="t", users=["hr@acme.example"], sign_key="k") as sim:
        sim.add_webhook("http://127.0.0.1:8000/hooks/oneflow/oneflow")
        ...  # sim.url -> http://127.0.0.1:<port>/v1
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hrsync.simulators.oneflow.api import OneflowApi, Redirect, Request, render
from hrsync.simulators.oneflow.catalog import JsonObject, TemplateOptions
from hrsync.simulators.oneflow.pdf import render_pdf
from hrsync.simulators.oneflow.store import OneflowError, OneflowStore
from hrsync.simulators.oneflow.webhooks import Dispatcher, Filter, Webhook
from hrsync.simulators.serving import Reply, Served, SimulatorServer, json_reply

SIGNED_URL_SECONDS = 300
"""How long a download link stays valid, as a pre-signed S3 URL does."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OneflowSimulator(Served):
    """A local Oneflow account. `time_factor` N shortens the webhook retry waits N times;
    `pdf_delay` is how long after creation the contract PDF is not ready yet."""

    def __init__(
        self,
        *,
        token: str = "oneflow-token",  # noqa: S107 (a simulator's default)
        users: Sequence[str] = ("hr@acme.example",),
        sign_key: str = "sign-key",
        host: str = "127.0.0.1",
        port: int = 0,
        time_factor: float = 1.0,
        pdf_delay: float = 0.0,
        log_requests: bool = False,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if not users:
            raise ValueError("the simulator needs at least one Oneflow user")
        if time_factor <= 0:
            raise ValueError("time_factor must be positive")
        self.clock = clock
        self.pdf_delay = timedelta(seconds=pdf_delay)
        self.store = OneflowStore(list(users), clock)
        self.dispatcher = Dispatcher(time_factor=time_factor, clock=clock)
        self._url_secret = secrets.token_bytes(16)
        self.api = OneflowApi(
            self.store, token, self._emit, self._files, self._signed_url, sign_key
        )
        self._server = SimulatorServer(
            self.dispatch, host, port, name="Oneflow-Simulator", log_requests=log_requests
        )

    @property
    def url(self) -> str:
        """The API's base URL, `…/v1` (as https://api.oneflow.com/v1)."""
        return f"{self._server.base_url}/v1"

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def start(self) -> None:
        self.dispatcher.start()
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
        self.dispatcher.stop()

    # --- for tests and the command ---------------------------------------------------------------

    def add_webhook(
        self, url: str, *, sign_key: str | None = None, events: Sequence[str] = ()
    ) -> Webhook:
        filters = (Filter(frozenset(events)),) if events else ()
        return self.api.add_webhook(url, sign_key, filters)

    def add_template(self, name: str, options: TemplateOptions) -> JsonObject:
        return self.store.add_template(name, options)

    def contract(self, contract_id: int) -> JsonObject:
        with self.store.lock:
            return render(self.store.contract(contract_id))

    def deliveries(self) -> list[dict[str, Any]]:
        return self.dispatcher.entries()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no webhook delivery waits or is in flight."""
        deadline = time.monotonic() + timeout
        while self.dispatcher.pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # --- requests ---------------------------------------------------------------------------------

    def dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        try:
            return self._dispatch(method, target, headers, body)
        except ValueError:  # an id that is not a number, below /_sim
            return _problem(OneflowError(400, "Invalid id.", error_code=4000000))

    def _dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        url = urlsplit(target)
        segments = tuple(unquote(s) for s in url.path.split("/") if s)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if segments[:1] == ("_sim",):
                return self._control(method, segments[1:], query, body)
            if segments[:1] != ("v1",):
                raise OneflowError(404, "Not found.", error_code=4040000)
            answer = self.api.handle(Request(method, segments[1:], query, headers, body))
        except OneflowError as problem:
            return _problem(problem)
        if isinstance(answer, Redirect):
            return Reply(302, b"", None, (("Location", answer.location),))
        status, value = answer
        return Reply(status) if value is None else json_reply(status, value)

    def _control(
        self, method: str, segments: tuple[str, ...], query: Mapping[str, str], body: bytes
    ) -> Reply:
        match (method, *segments):
            case ("GET", "health"):
                return json_reply(200, {"status": "ok", "contracts": len(self.store.contracts)})
            case ("POST", "contracts", contract_id, "sign" | "decline" | "expire" as action):
                return json_reply(200, self._act(int(contract_id), action))
            case ("GET", "contracts", contract_id):
                return json_reply(200, self.contract(int(contract_id)))
            case ("GET", "deliveries"):
                return json_reply(200, self.deliveries())
            case ("DELETE", "deliveries"):
                self.dispatcher.clear()
                return Reply(204)
            case ("POST", "templates"):
                return json_reply(201, self._add_template(body))
            case ("GET", "files", contract_id, file_id):
                return self._download(int(contract_id), int(file_id), query)
        raise OneflowError(404, "Not found.", error_code=4040000)

    def _act(self, contract_id: int, action: str) -> JsonObject:
        operations = {
            "sign": (self.store.sign, "contract:sign"),
            "decline": (self.store.decline, "contract:decline"),
            "expire": (self.store.expire, "contract:signing_period_expire"),
        }
        operation, event = operations[action]
        contract = operation(contract_id)
        self._emit(contract, event)
        return render(contract)

    def _add_template(self, body: bytes) -> JsonObject:
        try:
            given = json.loads(body or b"{}")
            options = TemplateOptions(
                delivery_channel=given.get("delivery_channel", "email"),
                two_step_authentication_method=given.get("two_step_authentication_method", "none"),
                sign_method=given.get("sign_method", "standard_esign"),
            )
            name = str(given.get("name") or "Template")
        except (ValueError, AttributeError) as error:
            raise OneflowError(400, f"Invalid template: {error}", error_code=4000000) from None
        return self.add_template(name, options)

    # --- events and webhooks ----------------------------------------------------------------------

    def _emit(self, contract: JsonObject, event_type: str) -> None:
        event = self.store.record_event(contract, event_type)
        workspace = contract["_private"]["workspace_id"]
        with self.store.lock:
            hooks = [h for h in self.api.webhooks.values() if h.wants(event_type, workspace)]
        self.dispatcher.deliver(hooks, contract["id"], event)

    # --- files ------------------------------------------------------------------------------------

    def _files(self, contract: JsonObject) -> list[JsonObject]:
        """The contract PDF once it is ready; the verification too once signed."""
        created = datetime.fromisoformat(contract["_private_ownerside"]["created_time"])
        if self.clock() < created + self.pdf_delay:
            return []
        name = contract["_private"]["name"] or "Contract"
        files = [_file(contract["id"], 1, "contract", f"{name}.pdf", self.url)]
        if contract["state"] == "signed":
            files.append(_file(contract["id"], 2, "verification", "Verification.pdf", self.url))
        return files

    def _signed_url(self, contract_id: int, file_id: int) -> str:
        expires = int(time.time()) + SIGNED_URL_SECONDS
        mac = self._mac(contract_id, file_id, expires)
        return (
            f"{self.base_url}/_sim/files/{contract_id}/{file_id}"
            f"?X-Amz-Expires={expires}&X-Amz-Signature={mac}"
        )

    def _mac(self, contract_id: int, file_id: int, expires: int) -> str:
        message = f"{contract_id}/{file_id}/{expires}".encode()
        return hmac.new(self._url_secret, message, hashlib.sha256).hexdigest()

    def _download(self, contract_id: int, file_id: int, query: Mapping[str, str]) -> Reply:
        try:
            expires = int(query.get("X-Amz-Expires", ""))
        except ValueError:
            expires = 0
        mac = self._mac(contract_id, file_id, expires)
        given = query.get("X-Amz-Signature", "")
        if expires < time.time() or not hmac.compare_digest(given, mac):
            return Reply(403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml")
        with self.store.lock:
            contract = self.store.contract(contract_id)
            pdf = _pdf(contract, verification=file_id == 2)
        return Reply(
            200,
            pdf,
            "binary/octet-stream",
            (("Content-Disposition", f'attachment; filename="{uuid.uuid4().hex}.pdf"'),),
        )


def _file(contract_id: int, file_id: int, kind: str, name: str, api: str) -> JsonObject:
    href = f"{api}/contracts/{contract_id}/files/{file_id}"
    return {"id": file_id, "type": kind, "extension": "pdf", "name": name,
            "_links": {"self": {"href": href}}}  # fmt: skip


def _pdf(contract: JsonObject, *, verification: bool) -> bytes:
    name = contract["_private"]["name"] or "Contract"
    lines = [f"State: {contract['state']}", f"Updated: {contract['updated_time']}", ""]
    if not verification:
        lines += [f"{f['name']}: {f['value']}" for f in contract["data_fields"]]
        lines.append("")
    for party in contract["parties"]:
        for person in party["participants"]:
            lines.append(f"{party['name']} / {person['name']}: {person['sign_state']}")
    if contract.get("signed_time"):
        lines.append(f"Signed by all signatories at {contract['signed_time']}")
    title = f"Verification - {name}" if verification else name
    return render_pdf(title, lines)


def _problem(problem: OneflowError) -> Reply:
    titles = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
              409: "Conflict"}  # fmt: skip
    body = {
        "detail": problem.detail,
        "parameter_problems": problem.parameter_problems,
        "request_id": uuid.uuid4().hex[:24],
        "status": problem.status,
        "title": titles.get(problem.status, "Error"),
        "error_code": problem.error_code,
        "type": f"https://api.oneflow.com/v1/error_codes/{problem.error_code}",
    }
    return json_reply(problem.status, body)
