"""The AFAS simulator's HTTP side: the AfasToken header, GetConnectors, metainfo, faults, `/_sim`.

Everything lives under `/ProfitRestServices` (matched case-insensitively, as IIS does).
Error bodies are `{"externalMessage", "profitLogReference"}`, the shape integrators' code reads;
which status AFAS gives a token without access to a connector is inferred (403 here).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from hrsync.simulators.afas.api import (
    ConnectorError,
    connector_metainfo,
    metainfo,
    parse_query,
    run_query,
)
from hrsync.simulators.afas.control import Control, Faults, FaultState
from hrsync.simulators.afas.store import SCHEMAS, AfasStore, fields_of
from hrsync.simulators.serving import Reply, Served, SimulatorServer, json_reply

MOUNT = "profitrestservices"
_TOKEN_DATA = re.compile(r"<data>\s*([^<]*?)\s*</data>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    """An app connector's token: its `<data>` value and the GetConnectors it may use (an
    empty set: every connector served)."""

    data: str = field(repr=False)
    connectors: frozenset[str] = frozenset()

    def may_use(self, connector: str) -> bool:
        return not self.connectors or connector in self.connectors


def afas_authorization(token: str) -> str:
    """The `Authorization` value for a token's data, as AFAS documents it."""
    xml = f"<token><version>1</version><data>{token}</data></token>"
    return "AfasToken " + base64.b64encode(xml.encode()).decode("ascii")


def error_reply(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body = {"externalMessage": message, "profitLogReference": uuid.uuid4().hex[:12].upper()}
    return json_reply(status, body, headers)


def _local_now() -> datetime:
    """Profit keeps naive local (Dutch) times."""
    return datetime.now(ZoneInfo("Europe/Amsterdam")).replace(tzinfo=None)


class AfasSimulator(Served):
    """A local AFAS Profit REST API: start it, point a client at `url`, stop it.

    `dataset` is `{"connectors": {id: rows}}` (see `generate_dataset`); `clock` returns the naive
    local time stamped into `Mutatiedatum` when `/_sim` changes a row. A `take` above `max_take`
    is refused (400), or with `cap_take` served as `max_take` rows.
    """

    def __init__(
        self,
        dataset: Mapping[str, Any],
        tokens: Token | tuple[Token, ...] = Token("secret-token"),
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_take: int | None = None,
        cap_take: bool = False,
        log_requests: bool = False,
        clock: Callable[[], datetime] = _local_now,
    ) -> None:
        self.tokens = tokens if isinstance(tokens, tuple) else (tokens,)
        self.host = host
        self.max_take = max_take
        self.cap_take = cap_take
        self.store = AfasStore(dataset, clock)
        self.fault_state = FaultState()
        self.control = Control(self.store, self.fault_state)
        self._server = SimulatorServer(
            self.dispatch,
            host,
            port,
            name="AFAS-Simulator",
            log_requests=log_requests,
            crashed=lambda: error_reply(500, "Er is een onverwachte fout opgetreden"),
        )

    @property
    def url(self) -> str:
        """The base URL a client is configured with (…/ProfitRestServices)."""
        return f"{self._server.base_url}/ProfitRestServices"

    @property
    def control_url(self) -> str:
        """Where the `/_sim` control endpoints are (outside the AFAS mount)."""
        return f"{self._server.base_url}/_sim"

    @property
    def faults(self) -> Faults:
        return self.fault_state.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.fault_state.arm(faults)

    def dispatch(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one request: `/_sim` control, else faults, the token, and the API."""
        url = urlsplit(target)
        segments = tuple(unquote(s) for s in url.path.split("/") if s)
        if segments[:1] == ("_sim",):
            return self._serve_control(method, segments[1:], body)
        if not segments or segments[0].lower() != MOUNT:
            return error_reply(404, "Not Found")
        query = {k.lower(): v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        injected = self._inject_fault()
        if injected is not None:
            return injected
        token = self.authenticate(headers)
        if token is None:
            return error_reply(401, "Ongeldige of ontbrekende token (AfasToken)")
        if method != "GET":
            return error_reply(405, "Alleen GET wordt gesimuleerd")
        try:
            return json_reply(200, self._serve_api(segments[1:], query, token))
        except ConnectorError as error:
            return error_reply(error.status, error.message)

    def authenticate(self, headers: Mapping[str, str]) -> Token | None:
        """The token of `Authorization: AfasToken base64(<token>…<data>…</data></token>)`."""
        scheme, _, encoded = (headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "afastoken":
            return None
        data = _token_data(encoded.strip())
        if data is None:
            return None
        return next((t for t in self.tokens if hmac.compare_digest(t.data, data)), None)

    def _serve_api(self, segments: tuple[str, ...], query: Mapping[str, str], token: Token) -> Any:
        lowered = tuple(s.lower() for s in segments)
        match lowered:
            case ("metainfo",):
                return metainfo(self._allowed(token))
            case ("metainfo", "get", _):
                return self._connector_metainfo(self._connector(segments[2], token))
            case ("connectors", _):
                return self._get_connector(self._connector(segments[1], token), query)
        raise ConnectorError(404, "Not Found")

    def _allowed(self, token: Token) -> dict[str, str]:
        return {cid: _description(cid) for cid in self.store.connector_ids() if token.may_use(cid)}

    def _connector(self, wanted: str, token: Token) -> str:
        """The served connector id matching `wanted` (case-insensitively), if the token may."""
        found = next((c for c in self.store.connector_ids() if c.lower() == wanted.lower()), None)
        if found is None:
            raise ConnectorError(404, f"GetConnector '{wanted}' bestaat niet")
        if not token.may_use(found):
            raise ConnectorError(403, f"De app connector heeft geen rechten op '{found}'")
        return found

    def _connector_metainfo(self, connector: str) -> object:
        rows = self.store.rows(connector) or []
        return connector_metainfo(connector, _description(connector), fields_of(connector, rows))

    def _get_connector(self, connector: str, params: Mapping[str, str]) -> object:
        rows = self.store.rows(connector) or []
        query = parse_query(params, fields_of(connector, rows))
        if self.max_take is not None and (query.take == -1 or query.take > self.max_take):
            if not self.cap_take:
                raise ConnectorError(400, f"take mag hoogstens {self.max_take} zijn")
            query = replace(query, take=self.max_take)  # served short, as a capping proxy would
        return run_query(rows, query)

    def _inject_fault(self) -> Reply | None:
        faults = self.fault_state.faults
        if faults.slow_seconds > 0:
            time.sleep(faults.slow_seconds)
        status = self.fault_state.take_status()
        if status is None:
            return None
        retry = () if faults.retry_after is None else (("Retry-After", str(faults.retry_after)),)
        return error_reply(status, HTTPStatus(status).phrase, retry)

    def _serve_control(self, method: str, segments: tuple[str, ...], body: bytes) -> Reply:
        try:
            status, value = self.control.handle(method, segments, body)
        except ConnectorError as error:
            return error_reply(error.status, error.message)
        return Reply(status) if value is None else json_reply(status, value)


def _token_data(encoded: str) -> str | None:
    try:
        xml = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    found = _TOKEN_DATA.search(xml)
    return found.group(1) if found and "<token>" in xml.lower() else None


def _description(connector: str) -> str:
    return SCHEMAS[connector][0] if connector in SCHEMAS else connector
