"""The Graph simulator's HTTP side: requests routed to the token endpoint
(hrsync.simulators.graph.entra) or to Graph, faults, `$batch` and the `/_sim` control
endpoints, over one store. Standard library only."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hrsync.simulators.graph.api import GraphAnswer, GraphApi, GraphRequest
from hrsync.simulators.graph.control import Faults, FaultState
from hrsync.simulators.graph.entra import App, Entra
from hrsync.simulators.graph.store import GraphError, GraphStore, JsonObject
from hrsync.simulators.serving import Reply, Served, SimulatorServer, json_reply

MAX_BATCH = 20
_FAULT_CODES = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "GatewayTimeout"}


def odata_error(
    status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    """Graph's error body: `{"error": {"code", "message", "innerError": {date, request-id}}}`."""
    return json_reply(status, _error_body(code, message), headers)


def _error_body(code: str, message: str) -> JsonObject:
    request_id = str(uuid.uuid4())
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": request_id,
    }
    return {"error": {"code": code, "message": message, "innerError": inner}}


def organization_of(app: App) -> JsonObject:
    """The tenant's organization resource as Graph answers it: a tenant id (derived from the
    tenant's name when it is a domain), the display name, the verified domains."""
    tenant_id = (
        app.tenant if "." not in app.tenant else str(uuid.uuid5(uuid.NAMESPACE_DNS, app.tenant))
    )
    domain = app.tenant if "." in app.tenant else f"{app.tenant}.onmicrosoft.com"
    verified = {"name": domain, "isDefault": True, "isInitial": True, "type": "Managed"}
    return {"id": tenant_id, "displayName": app.organization, "verifiedDomains": [verified]}


class GraphSimulator(Served):
    """A local Entra tenant: start it, point a client at `login_url` and `graph_url`, stop it.

    `token_lifetime` is how long an access token lives, in seconds (Entra: about an hour).
    """

    def __init__(
        self,
        app: App | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: Faults | None = None,
        token_lifetime: int = 3599,
        log_requests: bool = False,
    ) -> None:
        self.app = app or App()
        self.host = host
        self.token_lifetime = token_lifetime
        self.store = GraphStore()
        self.fault_state = FaultState(faults)
        self.api = GraphApi(
            self.store,
            self.fault_state.is_lagging,
            self.fault_state.created,
            organization_of(self.app),
        )
        self.entra = Entra(self.app, token_lifetime)
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every Graph request, those inside a `$batch` included."""
        self.statuses: list[int] = []
        """The status of each answer to `requests`, in order."""
        self.bodies: list[object] = []
        """The decoded bodies of the writes (POST, PATCH, PUT) among `requests`, in order."""
        self._server = SimulatorServer(
            self.dispatch,
            host,
            port,
            name="Graph-Simulator",
            log_requests=log_requests,
            crashed=lambda: odata_error(500, "InternalServerError", "An internal error occurred."),
        )

    # --- life ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def login_url(self) -> str:
        return self.base_url

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    @property
    def faults(self) -> Faults:
        return self.fault_state.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.fault_state.arm(faults)

    def reset(self) -> None:
        """No users, no faults, no request log (tokens stay valid)."""
        self.store.reset()
        self.api.groups.reset()
        self.fault_state.arm(Faults())
        self.reset_log()

    def reset_log(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self.requests.clear()
            self.statuses.clear()
            self.bodies.clear()

    def writes(self) -> list[tuple[str, str]]:
        """The requests that changed something, in order."""
        with self._lock:
            return [(m, p) for m, p in self.requests if m != "GET"]

    # --- dispatch ------------------------------------------------------------------------------

    def dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        latency = self.fault_state.faults.latency_ms
        if latency:
            time.sleep(latency / 1000)
        url = urlsplit(target)
        segments = tuple(unquote(s) for s in url.path.split("/") if s)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if segments[:1] == ("_sim",):
            return self._control(method, segments[1:], body)
        if len(segments) == 4 and segments[1:] == ("oauth2", "v2.0", "token"):
            return self.entra.token(method, segments[0], body)
        if segments[:1] != ("v1.0",):
            return odata_error(404, "BadRequest", "Invalid version.")
        if not self.entra.is_authorised(headers):
            return odata_error(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty."
                if "authorization" not in headers
                else "Access token validation failure. Invalid audience or expired.",
                (
                    (
                        "WWW-Authenticate",
                        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"',
                    ),
                ),
            )
        base = f"http://{headers.get('host') or self._server.host}/v1.0"
        if segments[1:] == ("$batch",) and method == "POST":
            with self._lock:
                self.requests.append(("POST", "/$batch"))
                self.statuses.append(200)
                self.bodies.append(None)
            return self._batch(body, base)
        request = GraphRequest(method, segments[1:], query, body, base)
        return self._answer(request)

    def _answer(self, request: GraphRequest) -> Reply:
        reply = self._answer_unlogged(request)
        with self._lock:
            self.requests.append((request.method, "/" + "/".join(request.segments)))
            self.statuses.append(reply.status)
            if request.method in ("POST", "PATCH", "PUT"):
                self.bodies.append(_decoded(request.body))
        return reply

    def _answer_unlogged(self, request: GraphRequest) -> Reply:
        fault = self._fault()
        if fault is not None:
            return fault
        try:
            answer = self.api.handle(request)
        except GraphError as error:
            return odata_error(error.status, error.code, error.message)
        return _reply(answer)

    def _fault(self) -> Reply | None:
        if not self.fault_state.take_status():
            return None
        faults = self.fault_state.faults
        status = faults.status or 503
        retry = () if faults.retry_after is None else (("Retry-After", str(faults.retry_after)),)
        message = HTTPStatus(status).phrase
        if status == 429:
            message = "Too many requests; retry after the time the Retry-After header gives."
        return odata_error(status, _FAULT_CODES.get(status, "UnknownError"), message, retry)

    @property
    def tokens_issued(self) -> int:
        return self.entra.issued

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (as after an hour)."""
        self.entra.expire_all()

    # --- $batch --------------------------------------------------------------------------------

    def _batch(self, body: bytes, base: str) -> Reply:
        """JSON batching: up to 20 requests, run in order; one whose `dependsOn` did not
        succeed answers 424 Failed Dependency, as Graph does."""
        try:
            requests = json.loads(body or b"null")["requests"]
            assert isinstance(requests, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            return odata_error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > MAX_BATCH:
            return odata_error(
                400,
                "BadRequest",
                f"Number of batch request steps exceeds the maximum of {MAX_BATCH}.",
            )
        ids = [str(r.get("id")) for r in requests if isinstance(r, dict)]
        if len(ids) != len(requests) or len(set(ids)) != len(ids):
            return odata_error(400, "BadRequest", "Batch requests must have unique ids.")
        statuses: dict[str, int] = {}
        responses = []
        for item in requests:
            answer = self._batch_item(item, base, statuses)
            if isinstance(answer, Reply):
                return answer
            responses.append(answer)
            statuses[str(item["id"])] = int(answer["status"])
        return json_reply(200, {"responses": responses})

    def _batch_item(
        self, item: Mapping[str, Any], base: str, statuses: Mapping[str, int]
    ) -> JsonObject | Reply:
        depends = [str(d) for d in item.get("dependsOn") or ()]
        if any(d not in statuses for d in depends):
            return odata_error(400, "BadRequest", "A dependsOn id refers to no earlier request.")
        if any(not 200 <= statuses[d] < 300 for d in depends):
            error = _error_body("FailedDependency", "The request depends on a request that failed.")
            return {"id": item["id"], "status": 424, "body": error}
        url = urlsplit("/" + str(item.get("url") or "").lstrip("/"))
        segments = tuple(unquote(s) for s in url.path.split("/") if s)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = item.get("body")
        data = b"" if raw is None else json.dumps(raw).encode()
        request = GraphRequest(
            str(item.get("method") or "GET").upper(), segments, query, data, base
        )
        reply = self._answer(request)
        answer: JsonObject = {
            "id": item["id"],
            "status": reply.status,
            "headers": dict(reply.headers),
        }
        if reply.body:
            answer["body"] = json.loads(reply.body)
        return answer

    # --- /_sim ---------------------------------------------------------------------------------

    def _control(self, method: str, segments: tuple[str, ...], body: bytes) -> Reply:
        match (method, *segments):
            case ("GET", "health"):
                return json_reply(200, {"status": "ok", "users": len(self.store.users)})
            case ("POST", "reset"):
                self.reset()
                return Reply(204)
            case ("GET", "users"):
                return json_reply(200, {"value": self.store.all_users()})
            case ("GET", "requests"):
                with self._lock:
                    log = [{"method": m, "path": p} for m, p in self.requests]
                return json_reply(200, {"value": log, "tokensIssued": self.tokens_issued})
            case ("GET", "faults"):
                return json_reply(200, self.fault_state.faults.to_json())
            case ("PUT", "faults"):
                try:
                    faults = Faults.from_json(json.loads(body or b"null"))
                except (TypeError, ValueError) as error:
                    return odata_error(400, "BadRequest", str(error))
                self.fault_state.arm(faults)
                return json_reply(200, faults.to_json())
            case ("DELETE", "faults"):
                self.fault_state.arm(Faults())
                return Reply(204)
        return odata_error(404, "NotFound", "No such control endpoint.")


def _reply(answer: GraphAnswer) -> Reply:
    if answer.value is None:
        return Reply(answer.status)
    return json_reply(answer.status, answer.value)


def _decoded(body: bytes) -> object:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return body.decode("utf-8", "replace")
