"""A throwaway certificate authority for the Kafka TLS tests: a CA, a broker certificate for 127.0.0.1 /
localhost, a client certificate, and an unrelated CA (to prove an untrusted broker is refused)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TlsFiles:
    ca: Path  # PEM CA certificate (clients' ssl_cafile, the broker's truststore)
    other_ca: Path  # a CA that signed nothing here
    broker_keystore: Path  # PKCS#12 of the broker's key and certificate
    keystore_password: str
    client_cert: Path
    client_key: Path
    client_key_encrypted: Path  # the same key under a passphrase (chainwatch must refuse it, not prompt)
    elsewhere_cert: Path  # a server certificate from the same CA naming only elsewhere.invalid
    elsewhere_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
    usage: list[x509.ObjectIdentifier] | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, issuer_key = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_tls_files(folder: Path) -> TlsFiles:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue("chainwatch test CA", ca_key, None, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_cert = _issue("some other CA", other_key, None, ca=True)
    issuer = (ca_cert.subject, ca_key)

    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker_cert = _issue(
        "localhost",
        broker_key,
        issuer,
        sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        usage=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _issue("chainwatch-client", client_key, issuer, usage=[ExtendedKeyUsageOID.CLIENT_AUTH])

    elsewhere_key = ec.generate_private_key(ec.SECP256R1())
    elsewhere_cert = _issue(
        "elsewhere.invalid",
        elsewhere_key,
        issuer,
        sans=[x509.DNSName("elsewhere.invalid")],
        usage=[ExtendedKeyUsageOID.SERVER_AUTH],
    )

    password = "broker-keystore-pass"
    files = TlsFiles(
        ca=folder / "ca.pem",
        other_ca=folder / "other-ca.pem",
        broker_keystore=folder / "broker.p12",
        keystore_password=password,
        client_cert=folder / "client.pem",
        client_key=folder / "client.key",
        client_key_encrypted=folder / "client-encrypted.key",
        elsewhere_cert=folder / "elsewhere.pem",
        elsewhere_key=folder / "elsewhere.key",
    )
    files.ca.write_bytes(_pem(ca_cert))
    files.other_ca.write_bytes(_pem(other_cert))
    files.broker_keystore.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"broker",
            broker_key,
            broker_cert,
            [ca_cert],
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    files.client_cert.write_bytes(_pem(client_cert))
    files.client_key.write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    files.client_key.chmod(0o600)
    files.client_key_encrypted.write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"client-key-passphrase"),
        )
    )
    files.elsewhere_cert.write_bytes(_pem(elsewhere_cert))
    files.elsewhere_key.write_bytes(
        elsewhere_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files
