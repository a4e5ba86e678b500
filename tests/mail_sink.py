"""An SMTP sink on loopback (aiosmtpd): STARTTLS or implicit TLS, AUTH LOGIN/PLAIN, records mail.

The certificate is self-signed, made with `cryptography` when the sink starts, so a client must
either trust `sink.cert_file` or not verify (`tls_verify = false`). The sink requires TLS before
AUTH and AUTH before MAIL, like a real submission server.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.servers import missing_server

USERNAME = "hrsync-test"
PASSWORD = "s3cret-Sink-pass"


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str

    def part(self, content_type: str) -> str:
        """The decoded body part of this type (text/plain, text/html)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())
        raise LookupError(f"no {content_type} part")


@dataclass
class MailSink:
    host: str
    port: int
    cert_file: Path
    mode: Literal["starttls", "ssl"]
    mails: list[ReceivedMail] = field(default_factory=list)
    auth_failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else ""
        mail = ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message, login)
        with self._sink.lock:
            self._sink.mails.append(mail)
        return "250 OK"


def _authenticator(sink: MailSink) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: PLC0415 (optional package)

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        is_valid = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USERNAME
            and data.password.decode() == PASSWORD
        )
        if not is_valid:
            with sink.lock:
                sink.auth_failures.append(mechanism)
        return AuthResult(success=is_valid, handled=False, auth_data=data if is_valid else None)

    return check


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1; returns (cert, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "sink.crt", folder / "sink.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def run_mail_sink(
    folder: Path,
    mode: Literal["starttls", "ssl"] = "starttls",
    mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
) -> Iterator[MailSink]:
    """Start a sink for the `with` block; `mechanisms` are the AUTH methods it offers."""
    try:
        from aiosmtpd.controller import Controller  # noqa: PLC0415 (optional package)
    except ImportError:
        missing_server("aiosmtpd is not installed (pip install -e '.[dev]')")
    cert_file, key_file = make_certificate(folder)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    sink = MailSink("127.0.0.1", free_port(), cert_file, mode)
    options: dict[str, Any] = {
        "authenticator": _authenticator(sink),
        "auth_required": True,
        # Implicit TLS is TLS from the first byte; aiosmtpd only knows of STARTTLS for this check.
        "auth_require_tls": mode == "starttls",
        "auth_exclude_mechanism": {"LOGIN", "PLAIN"} - set(mechanisms),
    }
    if mode == "starttls":
        options |= {"tls_context": tls, "require_starttls": True}
    else:
        options |= {"ssl_context": tls}
    controller = Controller(
        _Handler(sink), hostname=sink.host, port=sink.port, server_hostname="localhost", **options
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
