"""A webhook receiver on loopback: records every request, verifies Standard Webhooks signatures.

Written from the specification (standardwebhooks.com), independently of the sender in
`hrsync.app.notify.webhook`, so a test proves the two agree rather than that code agrees with
itself. It can be told to answer the next N requests with an error (and a Retry-After).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 5 * 60  # the spec's suggested replay window


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    """What the receiver answered."""
    is_verified: bool | None
    """The signature check's verdict; None when the receiver has no secret."""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Set `secret` to verify signatures (a bad one is answered 401); `fail_next` to fail."""

    url: str = ""
    secret: str | None = None
    fail_next: int = 0
    fail_status: int = 503
    fail_body: str = "busy"
    retry_after: str | None = None
    ok_status: int = 200
    ok_body: str = "ok"
    requests: list[ReceivedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, str, bool | None]:
        is_verified = None if self.secret is None else verify(self.secret, headers, body)
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_status, self.fail_body, is_verified
        if is_verified is False:
            return 401, "bad signature", is_verified
        return self.ok_status, self.ok_body, is_verified


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of the spec: any `v1,` signature over `id.timestamp.body` matches,
    and the timestamp is within the tolerance."""
    msg_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and stamp and signatures and stamp.isdigit()):
        return False
    if abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
        return False
    key = (
        base64.b64decode(secret[len("whsec_") :])
        if secret.startswith("whsec_")
        else secret.encode()
    )
    content = msg_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, text, is_verified = receiver.answer(headers, body)
            with receiver.lock:
                receiver.requests.append(
                    ReceivedRequest(self.path, headers, body, status, is_verified)
                )
            self.send_response(status)
            if status >= 400 and receiver.retry_after is not None:
                self.send_header("Retry-After", receiver.retry_after)
            payload = text.encode()
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def run_webhook_receiver(**options: Any) -> Iterator[WebhookReceiver]:
    """Serve on 127.0.0.1 (a free port) in the `with` block; `options` set the receiver's fields."""
    receiver = WebhookReceiver(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T0001/secret-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
