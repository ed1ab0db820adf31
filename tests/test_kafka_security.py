"""Authenticated, encrypted Kafka (streams/kafka/security.py) against a real broker with secure listeners.

One broker for the whole module, started with four listeners: PLAINTEXT (the tests' own monitoring),
SSL requiring a client certificate (mutual TLS), SASL_SSL and SASL_PLAINTEXT (SCRAM-SHA-256/512 users
stored in the KRaft metadata at format time, and PLAIN). The CA and certificates are generated here.
The worker, producer and loader run as the real subprocesses, configured only through the environment.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from streams.kafka.security import (
    KafkaSecurityError,
    faust_credentials,
    kafka_python_kwargs,
    preflight,
    ssl_context,
    validate,
)
from streams.settings import KafkaSettings
from streams.simulator.workload import simulate_events
from tests.kafka_support import broker_module, check_prerequisites_or_skip
from tests.test_stream_e2e import REPO, Pipeline, simulated, wait_for
from tests.tls_support import TlsFiles, make_tls_files

USER, PASSWORD = "chainwatch-svc", "s3cret-Scram-Passw0rd"


# --------------------------------------------------------------------------- the broker


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def secure_broker(tls: TlsFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    check_prerequisites_or_skip()
    broker = broker_module.LocalKafka(
        tmp_path_factory.mktemp("secure-kafka"),
        heap="512m",
        secure_listeners=("SSL", "SASL_SSL", "SASL_PLAINTEXT"),
        tls=broker_module.BrokerTls(tls.broker_keystore, tls.keystore_password, tls.ca, client_auth=True),
        sasl_users={USER: PASSWORD},
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def security_env(tls: TlsFiles, protocol: str, mechanism: str = "SCRAM-SHA-512") -> dict[str, str]:
    env = {"CHAINWATCH_KAFKA__SECURITY_PROTOCOL": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        env["CHAINWATCH_KAFKA__SSL_CAFILE"] = str(tls.ca)
    if protocol == "SSL":
        env["CHAINWATCH_KAFKA__SSL_CERTFILE"] = str(tls.client_cert)
        env["CHAINWATCH_KAFKA__SSL_KEYFILE"] = str(tls.client_key)
    if protocol.startswith("SASL"):
        env["CHAINWATCH_KAFKA__SASL_MECHANISM"] = mechanism
        env["CHAINWATCH_KAFKA__SASL_USERNAME"] = USER
        env["CHAINWATCH_KAFKA__SASL_PASSWORD"] = PASSWORD
    return env


class SecurePipeline(Pipeline):
    """chainwatch's processes use a secure listener; the test's own offset checks use PLAINTEXT."""

    plain: str = ""

    def _monitor(self) -> Pipeline:
        return Pipeline(self.plain, self.tmp, tag=self.tag, web_port=self.web_port)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        return self._monitor().committed(group, topic)

    def end_offsets(self, topic: str) -> dict[int, int]:
        return self._monitor().end_offsets(topic)

    def read_topic(self, topic: str) -> list[Any]:
        return self._monitor().read_topic(topic)


def secure_pipeline(broker: Any, tmp: Path, listener: str, env: dict[str, str]) -> SecurePipeline:
    pipe = SecurePipeline(broker.bootstrap_for(listener), tmp, extra_env=env)
    pipe.plain = broker.bootstrap
    return pipe


# --------------------------------------------------------------------------- settings → clients (no broker)


def test_sasl_needs_user_and_password_and_names_the_settings(tmp_path: Path) -> None:
    with pytest.raises(KafkaSecurityError, match="CHAINWATCH_KAFKA__SASL_USERNAME"):
        validate(KafkaSettings(security_protocol="SASL_SSL"))
    with pytest.raises(KafkaSecurityError, match="CHAINWATCH_KAFKA__SASL_PASSWORD"):
        validate(KafkaSettings(security_protocol="SASL_SSL", sasl_username=USER))
    with pytest.raises(KafkaSecurityError, match="SECURITY_PROTOCOL=PLAINTEXT"):
        validate(KafkaSettings(sasl_username=USER, sasl_password=PASSWORD))  # type: ignore[arg-type]
    with pytest.raises(KafkaSecurityError, match=r"CHAINWATCH_KAFKA__SSL_CAFILE=.*no such file"):
        validate(KafkaSettings(security_protocol="SSL", ssl_cafile=tmp_path / "missing.pem"))
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    both = KafkaSettings(
        security_protocol="SASL_PLAINTEXT",
        sasl_username=USER,
        sasl_password=PASSWORD,  # type: ignore[arg-type]
        sasl_password_file=secret,
    )
    with pytest.raises(KafkaSecurityError, match="only one of"):
        validate(both)
    empty = tmp_path / "empty-password"
    empty.write_text("\n")
    with pytest.raises(KafkaSecurityError, match=r"CHAINWATCH_KAFKA__SASL_PASSWORD_FILE=.*is empty"):
        validate(KafkaSettings(security_protocol="SASL_SSL", sasl_username=USER, sasl_password_file=empty))


def test_one_translation_for_kafka_python_and_faust(tls: TlsFiles, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    settings = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username=USER,
        sasl_password_file=secret,
        ssl_cafile=tls.ca,
    )
    context = ssl_context(settings)
    kwargs = kafka_python_kwargs(settings, context)
    assert kwargs["security_protocol"] == "SASL_SSL" and kwargs["ssl_context"] is context
    assert kwargs["sasl_plain_password"] == PASSWORD and kwargs["sasl_mechanism"] == "SCRAM-SHA-256"
    credentials = faust_credentials(settings, context)
    assert credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-256"
    assert credentials.password == PASSWORD and credentials.ssl_context is context
    assert PASSWORD not in repr(settings) and PASSWORD not in repr(credentials)
    plain = KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_username=USER, sasl_password=PASSWORD)  # type: ignore[arg-type]
    assert faust_credentials(plain).protocol.value == "SASL_PLAINTEXT"
    ssl_only = KafkaSettings(security_protocol="SSL", ssl_cafile=tls.ca)
    assert faust_credentials(ssl_only).protocol.value == "SSL"
    assert faust_credentials(KafkaSettings()) is None
    assert kafka_python_kwargs(KafkaSettings()) == {"security_protocol": "PLAINTEXT"}


def test_no_command_takes_a_secret_on_the_command_line() -> None:
    for command in (["produce"], ["load"], ["worker"], ["topics", "create"], ["verify"]):
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", *command, "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "password" not in done.stdout.lower() and "--key" not in done.stdout, command


@contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[int]:
    """A TLS listener on 127.0.0.1 that completes handshakes and then hangs up (not Kafka)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            # the client refusing our certificate (what the test checks) fails the handshake here
            with conn, suppress(ssl.SSLError, OSError):
                context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_host_name_checking_is_on_by_default_and_refuses_a_certificate_for_another_host(
    tls: TlsFiles,
) -> None:
    """A certificate from the trusted CA but for another name (what a MITM holding any certificate of
    that CA presents) is refused unless SSL_CHECK_HOSTNAME is turned off explicitly."""
    settings = KafkaSettings(security_protocol="SSL", ssl_cafile=tls.ca)
    assert settings.ssl_check_hostname is True
    context = ssl_context(settings)
    assert context is not None and context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert kafka_python_kwargs(settings, context)["ssl_check_hostname"] is True
    with tls_server(tls.elsewhere_cert, tls.elsewhere_key) as port:
        with pytest.raises(KafkaSecurityError, match="CHAINWATCH_KAFKA__SSL_CHECK_HOSTNAME") as refused:
            preflight(settings, f"127.0.0.1:{port}", timeout=5)
        assert "does not name that host" in str(refused.value)
        # Turned off, the same certificate passes the TLS handshake (this server then hangs up: not Kafka).
        lab = KafkaSettings(security_protocol="SSL", ssl_cafile=tls.ca, ssl_check_hostname=False)
        with pytest.raises(KafkaSecurityError) as after_handshake:
            preflight(lab, f"127.0.0.1:{port}", timeout=5)
        assert "certificate" not in str(after_handshake.value).split("(")[0]
        assert "connection closed by the broker" in str(after_handshake.value)


@contextmanager
def hostile_peer(reply: Callable[[socket.socket], None]) -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that answers every connection with ``reply`` (not Kafka)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn, suppress(OSError):
                reply(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=40)
        listener.close()


def test_preflight_against_a_hostile_peer_ends_within_its_timeout_with_a_clear_error() -> None:
    """A peer announcing a 2 GiB frame, or trickling one byte at a time, must not stall the preflight
    (a per-read socket timeout alone would let a trickle run for ever)."""

    def huge_frame(conn: socket.socket) -> None:
        conn.recv(1024)
        conn.sendall(b"\x7f\xff\xff\xff")
        time.sleep(2)

    def trickle(conn: socket.socket) -> None:
        conn.recv(1024)
        conn.sendall(b"\x00\x00\x00\x64")  # a plausible 100-byte answer ...
        for _ in range(100):  # ... one byte every 0.3 s: 30 s, far past the preflight's 2 s
            conn.sendall(b"\x00")
            time.sleep(0.3)

    settings = KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_username=USER, sasl_password=PASSWORD)  # type: ignore[arg-type]
    for reply in (huge_frame, trickle):
        with hostile_peer(reply) as port:
            began = time.monotonic()
            with pytest.raises(KafkaSecurityError, match="CHAINWATCH_KAFKA__SECURITY_PROTOCOL"):
                preflight(settings, f"127.0.0.1:{port}", timeout=2)
            assert time.monotonic() - began < 6, reply.__name__


def test_an_encrypted_client_key_is_refused_without_prompting(tls: TlsFiles) -> None:
    settings = KafkaSettings(
        security_protocol="SSL",
        ssl_cafile=tls.ca,
        ssl_certfile=tls.client_cert,
        ssl_keyfile=tls.client_key_encrypted,
    )
    done = subprocess.run(  # a terminal prompt would block on stdin; the child must fail by itself
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from streams.kafka.security import ssl_context, KafkaSecurityError\n"
            "from streams.settings import KafkaSettings\n"
            "try:\n"
            "    ssl_context(KafkaSettings.model_validate_json(sys.argv[1]))\n"
            "except KafkaSecurityError as exc:\n"
            "    print(exc)\n"
            "    sys.exit(3)\n",
            settings.model_dump_json(),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "CHAINWATCH_KAFKA__SSL_KEYFILE" in done.stdout and "takes no passphrase" in done.stdout


def test_the_password_stays_out_of_reprs_dumps_and_errors(tmp_path: Path) -> None:
    settings = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_username=USER,
        sasl_password=PASSWORD,  # type: ignore[arg-type]
        ssl_cafile=tmp_path / "missing-ca.pem",
    )
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert PASSWORD not in settings.model_dump_json() and PASSWORD not in str(settings.model_dump())
    with pytest.raises(KafkaSecurityError) as refused:
        ssl_context(settings)
    assert PASSWORD not in str(refused.value)


# --------------------------------------------------------------------------- the real broker


def run_pipeline(pipe: SecurePipeline, seed: int) -> None:
    """topics create → worker → produce → every session closed → load; DuckDB holds it all."""
    pipe.extra_env.update(
        {"CHAINWATCH_WORKER__SESSION_IDLE_SECONDS": "3", "CHAINWATCH_WORKER__SWEEP_INTERVAL_SECONDS": "1"}
    )
    try:
        pipe.create_topics()
        worker = pipe.start_worker()
        pipe.wait_ready(worker)
        loader = pipe.start_loader()
        runs, events = simulated(seed=seed, sessions=12, attack_ratio=0.3)
        pipe.produce_events(events)
        sessions = {run.session_id for run in runs}
        wait_for("every session to close", lambda: pipe.closed_sessions() >= sessions, 120, interval=1)
        pipe.finish_loading(loader)
        counts = pipe.counts()
        assert counts["events"] + counts["credentials"] == len(events)
        assert counts["chains"] == len(sessions)
        assert counts["alerts"] > 0
    finally:
        pipe.stop_all()
    password = pipe.extra_env.get("CHAINWATCH_KAFKA__SASL_PASSWORD")
    if password:  # the SASL password reaches the clients, never a log line of the worker or the loader
        logs = "\n".join(p.log.read_text(errors="replace") for p in pipe.procs)
        assert "chainwatch" in logs.lower() and password not in logs


@pytest.mark.kafka
def test_worker_producer_loader_over_mutual_tls(secure_broker: Any, tls: TlsFiles, tmp_path: Path) -> None:
    run_pipeline(secure_pipeline(secure_broker, tmp_path, "SSL", security_env(tls, "SSL")), seed=31)


@pytest.mark.kafka
def test_worker_producer_loader_over_sasl_ssl_scram(
    secure_broker: Any, tls: TlsFiles, tmp_path: Path
) -> None:
    env = security_env(tls, "SASL_SSL", "SCRAM-SHA-512")
    run_pipeline(secure_pipeline(secure_broker, tmp_path, "SASL_SSL", env), seed=32)


@pytest.mark.kafka
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "PLAIN"])
def test_producer_and_loader_over_sasl_plaintext(
    secure_broker: Any, tls: TlsFiles, tmp_path: Path, mechanism: str
) -> None:
    pipe = secure_pipeline(
        secure_broker, tmp_path, "SASL_PLAINTEXT", security_env(tls, "SASL_PLAINTEXT", mechanism)
    )
    pipe.create_topics()
    events = simulate_events(seed=33, sessions=5)
    pipe.produce_events(events)
    loader = pipe.start_loader()
    try:
        pipe.finish_loading(loader)
    finally:
        pipe.stop_all()
    counts = pipe.counts()
    assert counts["events"] + counts["credentials"] == len(events)


WRONG = {
    "untrusted CA": ("SSL", {"CHAINWATCH_KAFKA__SSL_CAFILE": "other_ca"}, "CHAINWATCH_KAFKA__SSL_CAFILE"),
    "no client certificate": (
        "SSL",
        {"CHAINWATCH_KAFKA__SSL_CERTFILE": None, "CHAINWATCH_KAFKA__SSL_KEYFILE": None},
        "CHAINWATCH_KAFKA__SSL_CERTFILE",
    ),
    "wrong password": (
        "SASL_SSL",
        {"CHAINWATCH_KAFKA__SASL_PASSWORD": "not-it"},
        "CHAINWATCH_KAFKA__SASL_PASSWORD",
    ),
    "unknown user": ("SASL_PLAINTEXT", {"CHAINWATCH_KAFKA__SASL_USERNAME": "mallory"}, "SASL_USERNAME"),
    "TLS against a plaintext SASL listener": (
        "SASL_PLAINTEXT",
        {"CHAINWATCH_KAFKA__SECURITY_PROTOCOL": "SASL_SSL", "CHAINWATCH_KAFKA__SSL_CAFILE": "ca"},
        "CHAINWATCH_KAFKA__SECURITY_PROTOCOL",
    ),
}


def wrong_env(tls: TlsFiles, case: str) -> tuple[str, dict[str, str], str]:
    listener, changes, setting = WRONG[case]
    env = security_env(tls, listener)
    for key, value in changes.items():
        if value is None:
            env.pop(key)
        else:
            env[key] = {"other_ca": str(tls.other_ca), "ca": str(tls.ca)}.get(value, value)
    return listener, env, setting


@pytest.mark.kafka
@pytest.mark.parametrize("case", list(WRONG))
def test_wrong_security_settings_fail_fast_naming_the_setting(
    secure_broker: Any, tls: TlsFiles, tmp_path: Path, case: str
) -> None:
    listener, env, setting = wrong_env(tls, case)
    pipe = secure_pipeline(secure_broker, tmp_path, listener, env)
    path = tmp_path / "in.jsonl"
    from streams.simulator.workload import write_jsonl

    write_jsonl(simulate_events(seed=1, sessions=1), path)
    for args in (
        ["topics", "create"],
        ["produce", str(path)],
        ["load", "--db", str(pipe.db)],
        ["alerts", "--follow"],
    ):
        began = time.monotonic()
        done = pipe.cli(*args, timeout=60, check=False)
        took = time.monotonic() - began
        assert done.returncode != 0, (args, done.stdout)
        assert setting in done.stderr, (args, done.stderr)
        assert PASSWORD not in done.stdout + done.stderr and "not-it" not in done.stdout + done.stderr
        assert took < 20, f"{args} took {took:.0f}s to fail"  # not the clients' 30 s bootstrap timeout
    worker = pipe.start_worker()
    code = worker.wait(timeout=60)
    assert code == 2 and setting in worker.output(), worker.output()
    assert PASSWORD not in worker.output() and "not-it" not in worker.output()


@pytest.mark.kafka
def test_preflight_accepts_every_good_configuration(secure_broker: Any, tls: TlsFiles) -> None:
    for listener, mechanism in [
        ("SSL", ""),
        ("SASL_SSL", "SCRAM-SHA-256"),
        ("SASL_SSL", "SCRAM-SHA-512"),
        ("SASL_SSL", "PLAIN"),
        ("SASL_PLAINTEXT", "SCRAM-SHA-512"),
    ]:
        env = security_env(tls, listener, mechanism or "SCRAM-SHA-512")
        fields = {k.removeprefix("CHAINWATCH_KAFKA__").lower(): v for k, v in env.items()}
        preflight(KafkaSettings(**fields), secure_broker.bootstrap_for(listener))
