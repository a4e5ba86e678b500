"""The e-mail channel: recipients rendered from the context, one message over SMTP via Django.

One attempt per notification: an SMTP server that accepted a message queues and retries it
itself, and one that refused it (login, recipient) will refuse it again.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend
from django.utils.functional import cached_property

from hrsync.app.notify.config import EmailSettings, is_address
from hrsync.app.notify.templates import RenderedMessage, render_line

HEADERS = {"Auto-Submitted": "auto-generated"}
"""RFC 3834: out-of-office robots do not answer a notification."""


class EmailError(Exception):
    """The message was not accepted; the text says why, for an admin, without any secret."""


class UnverifiedSmtpBackend(EmailBackend):
    """Django's SMTP backend without certificate checks, for `tls_verify = false` only.

    Encryption stays on; only the server's identity is not checked (a test sink's self-signed
    certificate).
    """

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context


def resolve_recipients(
    entries: Sequence[str], context: Mapping[str, Any], extra: Sequence[str]
) -> list[str]:
    """The channel's `to` rendered with the context, then `extra`: valid, unique, in order.

    An entry may render to several comma-separated addresses; one that renders empty or invalid
    (a manager without e-mail) is dropped.
    """
    rendered = [render_line(entry, context) for entry in entries] + list(extra)
    recipients: list[str] = []
    seen: set[str] = set()
    for line in rendered:
        for address in (part.strip() for part in line.split(",")):
            if is_address(address) and address.casefold() not in seen:
                seen.add(address.casefold())
                recipients.append(address)
    return recipients


def send_email(
    settings: EmailSettings, password: str | None, message: RenderedMessage, recipients: list[str]
) -> None:
    """Send one multipart (text + HTML) message; raise EmailError when it was not accepted."""
    backend = _backend(settings, password)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.from_address,
        to=recipients,
        connection=backend,
        headers=HEADERS,
    )
    mail.attach_alternative(message.html, "text/html")
    try:
        mail.send()
    except (smtplib.SMTPException, OSError, ValueError) as error:
        raise EmailError(describe_smtp_error(error, settings)) from error
    finally:
        backend.close()


def _backend(settings: EmailSettings, password: str | None) -> EmailBackend:
    backend = EmailBackend if settings.tls_verify else UnverifiedSmtpBackend
    return backend(
        host=settings.host,
        port=settings.effective_port,
        username=settings.username or "",
        password=password or "",
        use_tls=settings.security == "starttls",
        use_ssl=settings.security == "ssl",
        timeout=settings.timeout_seconds,
    )


def describe_smtp_error(error: Exception, settings: EmailSettings) -> str:
    """What went wrong, in an admin's words, with what to check."""
    server = f"{settings.host}:{settings.effective_port}"
    match error:
        case smtplib.SMTPAuthenticationError():
            return (
                f"the SMTP server {server} refused the login of {settings.username}: "
                f"{_reply(error)}; check the username and the password in {settings.password_env}"
            )
        case smtplib.SMTPRecipientsRefused():
            refused = ", ".join(
                f"{address} ({code} {_text(text)})"
                for address, (code, text) in error.recipients.items()
            )
            return f"the SMTP server {server} refused every recipient: {refused}"
        case smtplib.SMTPSenderRefused():
            return f"the SMTP server {server} refused the sender {error.sender}: {_reply(error)}"
        case smtplib.SMTPNotSupportedError():
            return f"the SMTP server {server} does not support what is needed: {error}"
        case smtplib.SMTPResponseException():
            return f"the SMTP server {server} answered {_reply(error)}"
        case smtplib.SMTPServerDisconnected():
            return f"the SMTP server {server} closed the connection ({error})"
        case ssl.SSLCertVerificationError():
            return (
                f"the certificate of the SMTP server {server} was not accepted "
                f"({error.verify_message}); set tls_verify = false only for a test server"
            )
        case ssl.SSLError():
            return (
                f"the TLS handshake with {server} failed ({error.reason}); check security: "
                "starttls is usually port 587, ssl port 465"
            )
        case TimeoutError():
            return f"no answer from the SMTP server {server} within {settings.timeout_seconds:g} s"
        case ConnectionRefusedError():
            return f"could not connect to the SMTP server {server}: connection refused"
        case OSError():
            return f"could not reach the SMTP server {server}: {error.strerror or error}"
    return f"the message could not be sent through {server}: {error}"


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())
