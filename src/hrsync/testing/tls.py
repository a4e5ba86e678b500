"""Throwaway TLS material for local test servers: a private CA and a certificate for one address."""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=30)


def write_server_tls(directory: Path, address: str, dns_name: str) -> None:
    """Write ca.pem, cert.pem and key.pem (mode 0600) for a server reached at `address`.

    The certificate names the IP address, `dns_name` and localhost, so clients can keep hostname
    checks on and trust only ca.pem. EC P-256 keys: generating them costs microseconds, not the
    seconds an RSA key (Samba's own self-signed default) takes.
    """
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("hrsync test CA")
    ca = _sign(_builder(ca_name, ca_name, ca_key, is_ca=True), ca_key)
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names = x509.SubjectAlternativeName(
        [
            x509.IPAddress(ipaddress.ip_address(address)),
            x509.DNSName(dns_name),
            x509.DNSName("localhost"),
        ]
    )
    server = _builder(_name(dns_name), ca_name, server_key, is_ca=False)
    server = server.add_extension(alt_names, critical=False)
    server = server.add_extension(
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "cert.pem").write_bytes(
        _sign(server, ca_key).public_bytes(serialization.Encoding.PEM)
    )
    _write_private_key(directory / "key.pem", server_key)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, is_ca: bool
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )


def _sign(builder: x509.CertificateBuilder, signer: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return builder.sign(signer, hashes.SHA256())


def _write_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    # Created 0600 before any byte is written: Samba refuses a key file that others can read.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
