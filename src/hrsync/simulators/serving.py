"""A small threaded HTTP/1.1 server for simulators: one `dispatch(method, target, headers, body)`.

Standard library only. Keep-alive connections are tracked so `stop()` does not wait for idle
clients; a handler that raises still answers (500), so a client never hangs on a simulator bug.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer, ready to write."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, value: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Reply(status, body, JSON_TYPE, headers)


Dispatch = Callable[[str, str, Mapping[str, str], bytes], Reply]
"""(method, request target, headers keyed by lower-case name, body) → the answer."""


def internal_error() -> Reply:
    return json_reply(500, {"status": 500, "title": "Internal Server Error"})


class SimulatorServer:
    """Serve `dispatch` on host:port (0 picks a free port) in a daemon thread. `crashed` is
    the answer when dispatch raises (each simulator says it in its vendor's error shape)."""

    def __init__(
        self,
        dispatch: Dispatch,
        host: str,
        port: int,
        *,
        name: str,
        log_requests: bool = False,
        crashed: Callable[[], Reply] = internal_error,
    ) -> None:
        self.host = host
        self.name = name
        self._server = _Server((host, port), dispatch, log_requests, name, crashed)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.close_connections()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        dispatch: Dispatch,
        log_requests: bool,
        name: str,
        crashed: Callable[[], Reply],
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.dispatch = dispatch
        self.crashed = crashed
        self.log_requests = log_requests
        self.version = f"{name}/1"
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            for connection in list(self._connections):
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client hung up mid-request: normal for keep-alive clients
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # drop idle kept-alive connections eventually
    # Headers and body leave in one segment, without Nagle: otherwise every small answer on a
    # kept-alive connection waits out the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    wbufsize = -1

    server: _Server

    def version_string(self) -> str:
        return self.server.version

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log_requests:
            super().log_message(format, *args)

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = self.server.dispatch(method, self.path, headers, body)
        except Exception:  # a simulator bug must still answer, or the client hangs
            traceback.print_exc()
            reply = self.server.crashed()
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


class Served:
    """A simulator served by its `_server`: its port, start and stop (in a daemon thread,
    returning at once; stopping drops kept-alive connections), and `with` for both."""

    _server: SimulatorServer

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
