"""An HTTP reverse proxy on loopback that a test scripts faults into: 429s, 503s, slow answers.

    with FaultProxy("http://127.0.0.1:8080/v2/") as proxy:
        proxy.fail_next(2, status=429, retry_after="1")  # the next two requests get a 429
        proxy.delay_next(1, 5.0)                         # the one after waits 5 s, then passes
        client = make_client(proxy.url)                  # http://127.0.0.1:PROXY_PORT/v2/
        ...
        assert [r.status for r in proxy.requests] == [429, 429, 200]

It forwards method, path, query, headers and body to the upstream and its answer back, so it
stands in front of any HTTP server (SCIM, the Graph simulator). The Host header is passed on as
the client sent it, so an upstream that builds its URLs (meta.location, Location) from it points
them at the proxy. Standard library only; every wait is bounded, and the proxy stops by itself
after `lifetime` seconds in case a test forgets it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_DELAY_SECONDS = 120.0
MAX_LOGGED_REQUESTS = 10_000
# Connection-level headers (RFC 9110 §7.6.1): they describe one hop, not the message.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)


@dataclass(frozen=True, slots=True)
class ProxiedRequest:
    """One request the proxy answered: what came in, what went out, and which fault (if any)."""

    method: str
    path: str  # with the query string
    status: int  # 502 when the upstream could not be reached
    fault: str | None  # "fail", "delay" or None


@dataclass(slots=True)
class _Fault:
    remaining: int
    kind: str  # "fail" or "delay"
    method: str | None
    path_prefix: str | None
    status: int = 0
    retry_after: str | None = None
    body: bytes = b""
    content_type: str = "application/json"
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and (self.method is None or self.method.upper() == method)
            and (self.path_prefix is None or path.startswith(self.path_prefix))
        )


class FaultProxy:
    """A threaded reverse proxy on `host` (a port of its own) in front of `upstream`.

    `upstream` is a base URL; `url` is the same URL with the proxy's address, so a client
    configured with `proxy.url` instead of the upstream's reaches the same resources.
    """

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 30.0,
        lifetime: float = 1800.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {upstream!r}")
        self.upstream = upstream
        self._scheme = parts.scheme
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base_path = parts.path or "/"
        self._host = host
        self._port = port
        self._upstream_timeout = upstream_timeout
        self._lifetime = lifetime
        self._tls_context = tls_context
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._ignored: frozenset[str] = frozenset()
        self._log: deque[ProxiedRequest] = deque(maxlen=MAX_LOGGED_REQUESTS)
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    # --- lifecycle ---

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        return f"http://{self._host}:{self._server.server_port}{self._base_path}"

    def start(self) -> FaultProxy:
        server = ThreadingHTTPServer((self._host, self._port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._stopping.clear()
        threading.Thread(target=server.serve_forever, name="fault-proxy", daemon=True).start()
        self._timer = threading.Timer(self._lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed requests still waiting are let go at once."""
        self._stopping.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- scripting faults ---

    def fail_next(
        self,
        count: int,
        *,
        status: int = 429,
        retry_after: str | None = "1",
        body: str | bytes | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Answer the next `count` matching requests with `status` without forwarding them.

        A request matches when its method is `method` and its path (query included) starts with
        `path_prefix` (None matches any). `retry_after` becomes the Retry-After header (None
        omits it). The default body is a SCIM error message (RFC 7644 §3.12) for `status`.
        """
        if body is None:
            body = json.dumps(
                {
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": str(status),
                    "detail": f"fault injected by the test proxy: {status}",
                }
            )
        fault = _Fault(
            count,
            "fail",
            method,
            path_prefix,
            status=status,
            retry_after=retry_after,
            body=body.encode() if isinstance(body, str) else body,
            content_type=content_type,
        )
        with self._lock:
            self._faults.append(fault)

    def delay_next(
        self,
        count: int,
        seconds: float,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Hold the next `count` matching requests `seconds` (at most 120) before forwarding
        them: a client with a shorter timeout gives up meanwhile."""
        if not 0 <= seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"a delay is between 0 and {MAX_DELAY_SECONDS:.0f} s: {seconds}")
        with self._lock:
            self._faults.append(_Fault(count, "delay", method, path_prefix, seconds=seconds))

    def ignore_params(self, *names: str) -> None:
        """Drop these query parameters before forwarding, as a server that ignores them would
        (`count`, `startIndex`); the request log keeps what the client sent."""
        with self._lock:
            self._ignored = self._ignored | frozenset(names)

    def _forwarded_path(self, path: str) -> str:
        with self._lock:
            ignored = self._ignored
        if not ignored or "?" not in path:
            return path
        head, _, query = path.partition("?")
        kept = [p for p in query.split("&") if p.partition("=")[0] not in ignored]
        return f"{head}?{'&'.join(kept)}" if kept else head

    @property
    def requests(self) -> list[ProxiedRequest]:
        """Every request answered so far (the newest 10,000), oldest first."""
        with self._lock:
            return list(self._log)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[ProxiedRequest]:
        """The request log once it holds `count` requests, or as it is after `timeout` (a
        delayed request is logged when its answer is known, after the client may have left)."""
        deadline = time.monotonic() + timeout
        while len(logged := self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return logged

    def reset(self) -> None:
        """Forget the scripted faults that are left and the request log."""
        with self._lock:
            self._faults.clear()
            self._log.clear()

    # --- serving (called from the handler's threads) ---

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    return fault
        return None

    def _record(self, method: str, path: str, status: int, fault: _Fault | None) -> None:
        with self._lock:
            self._log.append(ProxiedRequest(method, path, status, fault.kind if fault else None))

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _forward(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection: http.client.HTTPConnection
        if self._scheme == "https":
            connection = http.client.HTTPSConnection(
                self._upstream_host,
                self._upstream_port,
                timeout=self._upstream_timeout,
                context=self._tls_context,
            )
        else:
            connection = http.client.HTTPConnection(
                self._upstream_host, self._upstream_port, timeout=self._upstream_timeout
            )
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            answer = response.read(MAX_BODY_BYTES)
            return response.status, response.getheaders(), answer
        finally:
            connection.close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        pass

    Handler.proxy = proxy
    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as the clients under test expect
    timeout = 60  # an idle client connection is closed after a minute

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the proxy's own log is `FaultProxy.requests`."""

    def do_GET(self) -> None:
        self._proxy()

    # http.server dispatches on these names.
    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET  # noqa: N815

    def _proxy(self) -> None:
        method, path = self.command, self.path
        body = self._read_body()
        fault = self.proxy._take_fault(method, path)
        if fault is not None and fault.kind == "fail":
            # Logged before the answer: a client that has its answer finds it in the log.
            self.proxy._record(method, path, fault.status, fault)
            self._answer_fault(fault)
            return
        if fault is not None:
            self.proxy._wait(fault.seconds)
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        try:
            upstream_path = self.proxy._forwarded_path(path)
            status, answer_headers, answer = self.proxy._forward(
                method, upstream_path, headers, body
            )
        except (OSError, http.client.HTTPException) as error:
            status, answer_headers = 502, [("Content-Type", "text/plain")]
            answer = f"upstream unreachable: {error}".encode()
        self.proxy._record(method, path, status, fault)
        self._answer(status, answer_headers, answer)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY_BYTES))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while (length := int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)) > 0:
            size += length
            if size > MAX_BODY_BYTES:
                raise ValueError("request body too large")
            chunks.append(self.rfile.read(length))
            self.rfile.readline(16)  # the CRLF after each chunk
        while self.rfile.readline(1024).strip():  # trailers, up to the empty line
            pass
        return b"".join(chunks)

    def _answer_fault(self, fault: _Fault) -> None:
        headers = [("Content-Type", fault.content_type)]
        if fault.retry_after is not None:
            headers.append(("Retry-After", fault.retry_after))
        self._answer(fault.status, headers, fault.body)

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        # The client may have given up on a delayed request already: nobody is left to tell.
        with contextlib.suppress(OSError):
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() not in {"date", "server"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
