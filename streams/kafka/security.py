"""One place that turns ``CHAINWATCH_KAFKA__*`` security settings into what each Kafka client takes.

The kafka-python tools (producer, loader, topic admin) get keyword arguments from
:func:`kafka_python_kwargs`; the faust worker (aiokafka underneath) gets ``broker_credentials`` from
:func:`faust_credentials`. Both use the same :class:`ssl.SSLContext`, built once from the settings, so a
certificate that works for one works for the other.

A wrong setting is caught before any client starts: :func:`preflight` connects to the first reachable
broker, does the TLS handshake and the SASL authentication itself with a short timeout, and turns what
went wrong into a :class:`KafkaSecurityError` that names the setting to change (clients would otherwise
retry for their whole request timeout or, for faust, forever).

Passwords never come from the command line: ``CHAINWATCH_KAFKA__SASL_PASSWORD`` (environment) or the
file named by ``CHAINWATCH_KAFKA__SASL_PASSWORD_FILE``.
"""

from __future__ import annotations

import socket
import ssl
import struct
import time
import warnings
from pathlib import Path
from typing import Any

from schemas.errors import ChainwatchError
from streams.kafka.bootstrap import check_bootstrap
from streams.settings import KafkaSettings

with warnings.catch_warnings():  # kafka-python 3.0 warns about importlib.resources on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka.errors import KafkaError

ENV = "CHAINWATCH_KAFKA__"
PREFLIGHT_TIMEOUT = 10.0


class KafkaSecurityError(ChainwatchError):
    """The Kafka security settings are incomplete or wrong; the message names the setting to fix."""


def env_name(field: str) -> str:
    return f"{ENV}{field.upper()}"


def uses_tls(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(kafka: KafkaSettings) -> bool:
    return kafka.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")


def sasl_password(kafka: KafkaSettings) -> str | None:
    """The SASL password from the environment setting or its file (one of them, not both)."""
    if kafka.sasl_password is not None and kafka.sasl_password_file is not None:
        raise KafkaSecurityError(
            f"set only one of {env_name('sasl_password')} and {env_name('sasl_password_file')}"
        )
    if kafka.sasl_password_file is not None:
        try:
            return kafka.sasl_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise KafkaSecurityError(
                f"{env_name('sasl_password_file')}={kafka.sasl_password_file} cannot be read: {exc.strerror}"
            ) from None
    return kafka.sasl_password.get_secret_value() if kafka.sasl_password is not None else None


def validate(kafka: KafkaSettings) -> None:
    """Reject combinations that cannot work, naming the setting (before any network traffic)."""
    protocol = kafka.security_protocol
    if uses_sasl(kafka):
        if not kafka.sasl_username:
            raise KafkaSecurityError(
                f"{env_name('security_protocol')}={protocol} needs {env_name('sasl_username')}"
            )
        if kafka.sasl_password_file is not None and not sasl_password(kafka):
            raise KafkaSecurityError(f"{env_name('sasl_password_file')}={kafka.sasl_password_file} is empty")
        if not sasl_password(kafka):
            raise KafkaSecurityError(
                f"{env_name('security_protocol')}={protocol} needs {env_name('sasl_password')} "
                f"or {env_name('sasl_password_file')}"
            )
    elif kafka.sasl_username or kafka.sasl_password or kafka.sasl_password_file:
        raise KafkaSecurityError(
            f"SASL credentials are set but {env_name('security_protocol')}={protocol}: "
            "use SASL_SSL (or SASL_PLAINTEXT), or remove the credentials"
        )
    tls_files = {
        "ssl_cafile": kafka.ssl_cafile,
        "ssl_certfile": kafka.ssl_certfile,
        "ssl_keyfile": kafka.ssl_keyfile,
    }
    if not uses_tls(kafka):
        given = [env_name(name) for name, value in tls_files.items() if value is not None]
        if given:
            raise KafkaSecurityError(
                f"{', '.join(given)} set but {env_name('security_protocol')}={protocol}: use SSL or SASL_SSL"
            )
        return
    for name, value in tls_files.items():
        if value is not None and not Path(value).is_file():
            raise KafkaSecurityError(f"{env_name(name)}={value}: no such file")
    if kafka.ssl_keyfile is not None and kafka.ssl_certfile is None:
        raise KafkaSecurityError(f"{env_name('ssl_keyfile')} is set without {env_name('ssl_certfile')}")


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The client TLS context of SSL and SASL_SSL (None otherwise): the broker's certificate is always
    verified (against ``ssl_cafile``, or the system CAs), and its host name unless turned off."""
    validate(kafka)
    if not uses_tls(kafka):
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if kafka.ssl_cafile is not None:
        try:
            context.load_verify_locations(cafile=str(kafka.ssl_cafile))
        except (ssl.SSLError, ValueError) as exc:
            raise KafkaSecurityError(
                f"{env_name('ssl_cafile')}={kafka.ssl_cafile} is not a PEM CA bundle: {exc}"
            ) from None
    context.check_hostname = kafka.ssl_check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if kafka.ssl_certfile is not None:
        try:
            context.load_cert_chain(
                str(kafka.ssl_certfile),
                str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None,
                # without a callback OpenSSL would prompt on the terminal for an encrypted key's
                # passphrase: a worker under a supervisor would hang there instead of failing
                password=_no_key_passphrase,
            )
        except (ssl.SSLError, ValueError, _EncryptedKey) as exc:
            raise KafkaSecurityError(
                f"{env_name('ssl_certfile')}={kafka.ssl_certfile} / "
                f"{env_name('ssl_keyfile')}={kafka.ssl_keyfile}: "
                f"not a matching PEM certificate and unencrypted private key ({exc})"
            ) from None
    return context


class _EncryptedKey(Exception):
    def __str__(self) -> str:
        return "the key is encrypted: chainwatch takes no passphrase, decrypt it into a file only it can read"


def _no_key_passphrase() -> bytes:
    raise _EncryptedKey


def kafka_python_kwargs(kafka: KafkaSettings, context: ssl.SSLContext | None = None) -> dict[str, Any]:
    """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
    context = context if context is not None else ssl_context(kafka)
    kwargs: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    if context is not None:
        kwargs["ssl_context"] = context
        kwargs["ssl_check_hostname"] = kafka.ssl_check_hostname
    if uses_sasl(kafka):
        kwargs.update(
            sasl_mechanism=kafka.sasl_mechanism,
            sasl_plain_username=kafka.sasl_username,
            sasl_plain_password=sasl_password(kafka),
        )
    return kwargs


def faust_credentials(kafka: KafkaSettings, context: ssl.SSLContext | None = None) -> Any:
    """``broker_credentials`` for faust.App (None for PLAINTEXT)."""
    import faust

    context = context if context is not None else ssl_context(kafka)
    if uses_sasl(kafka):
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=sasl_password(kafka),
            ssl_context=context,  # None: SASL_PLAINTEXT; a context: SASL_SSL
            mechanism=kafka.sasl_mechanism,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


# --------------------------------------------------------------------------- fail fast, say why


def preflight(kafka: KafkaSettings, bootstrap: str | None = None, timeout: float = PREFLIGHT_TIMEOUT) -> None:
    """Connect once with the configured security and raise :class:`KafkaSecurityError` naming the
    setting to fix when the TLS handshake or the SASL authentication fails.

    A broker that cannot be reached at all is left to the callers' own "could not reach Kafka" handling
    (it is not a security setting). PLAINTEXT does nothing here.
    """
    servers_given = bootstrap if bootstrap and bootstrap != kafka.bootstrap_servers else None  # --bootstrap
    check_bootstrap(bootstrap or kafka.bootstrap_servers, servers_given)  # host:port, before any wait
    if kafka.security_protocol == "PLAINTEXT":
        return
    context = ssl_context(kafka)
    servers = [s.strip() for s in (bootstrap or kafka.bootstrap_servers).split(",") if s.strip()]
    for server in servers:
        host, _, port = server.rpartition(":")
        try:
            raw = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
        except (OSError, ValueError):
            continue  # try the next bootstrap server; none reachable: the clients report it
        with raw:
            _check_one(kafka, context, raw, host.strip("[]"), server, timeout)
        return


def _check_one(
    kafka: KafkaSettings,
    context: ssl.SSLContext | None,
    raw: socket.socket,
    host: str,
    server: str,
    timeout: float,
) -> None:
    sock: socket.socket = raw
    if context is not None:
        try:
            sock = context.wrap_socket(raw, server_hostname=host)
        except ssl.SSLCertVerificationError as exc:
            raise KafkaSecurityError(_certificate_advice(server, exc)) from None
        except (ssl.SSLError, OSError) as exc:
            raise KafkaSecurityError(
                f"TLS handshake with {server} failed ({exc}); check that {env_name('bootstrap_servers')} "
                f"points at the broker's {kafka.security_protocol} listener and "
                f"{env_name('security_protocol')} matches it"
            ) from None
    try:
        deadline = time.monotonic() + timeout  # for the whole exchange: a trickling peer cannot stall it
        _api_versions(sock, deadline)
        if uses_sasl(kafka):
            _authenticate(kafka, sock, server, deadline)
    except ssl.SSLError as exc:
        raise KafkaSecurityError(
            f"the broker at {server} rejected the TLS connection ({exc.reason or exc}): it may require a "
            f"client certificate; set {env_name('ssl_certfile')} and {env_name('ssl_keyfile')}"
        ) from None
    except (ConnectionError, TimeoutError, OSError, struct.error) as exc:
        raise KafkaSecurityError(
            f"the broker at {server} did not complete the {kafka.security_protocol} handshake "
            f"({type(exc).__name__}: {exc}); check that {env_name('security_protocol')} matches the "
            f"listener at {env_name('bootstrap_servers')}, and for SSL listeners that require mutual TLS set "
            f"{env_name('ssl_certfile')} and {env_name('ssl_keyfile')}"
        ) from None


def _certificate_advice(server: str, exc: ssl.SSLCertVerificationError) -> str:
    reason = exc.verify_message or str(exc)
    if "hostname" in reason.lower() or "ip address mismatch" in reason.lower():
        return (
            f"the certificate of {server} does not name that host ({reason}): connect with a name the "
            f"certificate lists in {env_name('bootstrap_servers')} (or, for a lab only, set "
            f"{env_name('ssl_check_hostname')}=false)"
        )
    return (
        f"the certificate of {server} is not trusted ({reason}): set {env_name('ssl_cafile')} to the PEM "
        "file of the CA that signed the broker's certificate"
    )


def _api_versions(sock: socket.socket, deadline: float) -> None:
    """One ApiVersions round trip (v0): proves the listener speaks Kafka on this protocol."""
    _send(sock, struct.pack(">hhi", 18, 0, 1) + _string("chainwatch-preflight"))
    _receive(sock, deadline)


def _authenticate(kafka: KafkaSettings, sock: socket.socket, server: str, deadline: float) -> None:
    """SaslHandshake then kafka-python's own SASL mechanism over this socket; a failure names the settings."""
    mechanism = kafka.sasl_mechanism
    _send(sock, struct.pack(">hhi", 17, 1, 2) + _string("chainwatch-preflight") + _string(mechanism))
    response = _receive(sock, deadline)
    (error,) = struct.unpack_from(">h", response, 4)
    if error != 0:
        raise KafkaSecurityError(
            f"the broker at {server} does not offer SASL mechanism {mechanism}: set "
            f"{env_name('sasl_mechanism')} to one it enables"
        )
    exchange = _SaslExchange(sock, deadline)
    try:
        mech = _mechanism(kafka)
        while not mech.is_done():
            token = mech.auth_bytes()
            reply = exchange.round_trip(token)
            mech.receive(reply)
    except (_SaslRejected, ValueError, KafkaError) as exc:
        raise KafkaSecurityError(
            f"SASL {mechanism} authentication as {kafka.sasl_username!r} was rejected by {server} ({exc}): "
            f"check {env_name('sasl_username')}, {env_name('sasl_password')} (or "
            f"{env_name('sasl_password_file')}) and {env_name('sasl_mechanism')}"
        ) from None
    if not mech.is_authenticated():
        raise KafkaSecurityError(
            f"SASL {mechanism} authentication as {kafka.sasl_username!r} did not complete at {server}: check "
            f"{env_name('sasl_username')} and {env_name('sasl_password')}"
        )


class _SaslRejected(Exception):
    pass


class _SaslExchange:
    """SaslAuthenticate v1 requests carrying the mechanism's tokens."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock, self.deadline = sock, deadline
        self.correlation = 3

    def round_trip(self, token: bytes) -> bytes:
        self.correlation += 1
        body = struct.pack(">hhi", 36, 1, self.correlation) + _string("chainwatch-preflight")
        body += struct.pack(">i", len(token)) + token
        _send(self.sock, body)
        response = _receive(self.sock, self.deadline)
        (error,) = struct.unpack_from(">h", response, 4)
        pos = 6
        (length,) = struct.unpack_from(">h", response, pos)
        pos += 2
        message = response[pos : pos + length].decode(errors="replace") if length > 0 else ""
        pos += max(length, 0)
        if error != 0:
            raise _SaslRejected(message or f"error code {error}")
        (size,) = struct.unpack_from(">i", response, pos)
        return bytes(response[pos + 4 : pos + 4 + max(size, 0)])


def _mechanism(kafka: KafkaSettings) -> Any:
    """kafka-python's implementation of the configured mechanism (so the preflight speaks it exactly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka.net.sasl import get_sasl_mechanism

    config = {
        "sasl_mechanism": kafka.sasl_mechanism,
        "sasl_plain_username": kafka.sasl_username,
        "sasl_plain_password": sasl_password(kafka),
    }
    return get_sasl_mechanism(kafka.sasl_mechanism)(**config)


def _string(value: str) -> bytes:
    data = value.encode()
    return struct.pack(">h", len(data)) + data


def _send(sock: socket.socket, body: bytes) -> None:
    sock.sendall(struct.pack(">i", len(body)) + body)


def _receive(sock: socket.socket, deadline: float) -> bytes:
    size = struct.unpack(">i", _exactly(sock, 4, deadline))[0]
    if not 4 <= size <= _MAX_RESPONSE_BYTES:  # not a Kafka response to these small requests
        raise ConnectionError(f"the peer sent a {size}-byte frame: not a Kafka response")
    return _exactly(sock, size, deadline)


_MAX_RESPONSE_BYTES = 1 << 20


def _exactly(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete answer within the preflight timeout")
        sock.settimeout(remaining)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        data.extend(chunk)
    return bytes(data)
