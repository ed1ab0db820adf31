#!/usr/bin/env python3
"""A real single-node Apache Kafka broker (KRaft, combined broker+controller) for tests and local use.

No Docker: the broker jars come from Maven Central through ``kafka/pom.xml`` into ``kafka/libs/``,
and the broker runs as a plain ``java`` process bound to 127.0.0.1 only.

Command line (standard library only)::

    python kafka/broker.py up      [--port 9092] [--controller-port N] [--data DIR]
    python kafka/broker.py down    [--data DIR]
    python kafka/broker.py status  [--data DIR]
    python kafka/broker.py jars                      # only fetch the jars

From Python (tests): load this file by path (the folder is named ``kafka`` like kafka-python's
package, so it is deliberately not a package) and use :class:`LocalKafka`::

    with LocalKafka(port=0) as broker:      # temporary data dir, free ports
        broker.bootstrap                    # '127.0.0.1:PORT'
        broker.restart()                    # same ports, same data
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

KAFKA_DIR = Path(__file__).resolve().parent
POM_FILE = KAFKA_DIR / "pom.xml"
LIBS_DIR = KAFKA_DIR / "libs"
CLI_DATA_DIR = KAFKA_DIR / ".data"
HOST = "127.0.0.1"
NODE_ID = 1

PROPERTIES_FILE = "server.properties"
LOG4J_FILE = "log4j2.properties"
LOG_FILE = "broker.log"
PID_FILE = "broker.pid"
LOG_DIRS = "logs"  # Kafka's data ("log.dirs"), not the text log
STARTED_MARKER = "Kafka Server started"

DEFAULT_HEAP = "1g"
DEFAULT_START_TIMEOUT = 120.0
DEFAULT_STOP_TIMEOUT = 60.0
MAVEN_TIMEOUT = 1800.0


class KafkaError(RuntimeError):
    """Something about the local broker went wrong."""


class ToolMissingError(KafkaError):
    """Java (17+) or Maven, needed to run or fetch the broker, is not available."""


class BrokerStartError(KafkaError):
    """The broker process did not come up (the message carries the tail of its log)."""


# --------------------------------------------------------------------------- tools and jars


def find_java() -> str:
    """Path of a ``java`` of version 17 or newer ($JAVA_HOME first, then $PATH)."""
    candidates: list[str] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(str(Path(java_home) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    if not candidates:
        raise ToolMissingError("Java 17+ is needed for the local Kafka broker, but no `java` was found")
    problems = []
    for java in candidates:
        if not os.access(java, os.X_OK):
            problems.append(f"{java}: not executable")
            continue
        major = java_major_version(java)
        if major is None:
            problems.append(f"{java}: could not read its version")
        elif major < 17:
            problems.append(f"{java}: Java {major}")
        else:
            return java
    raise ToolMissingError("Java 17+ is needed for the local Kafka broker; found " + "; ".join(problems))


def java_major_version(java: str) -> int | None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_x"
        major = int(match.group(2))
    return major


def find_maven() -> str:
    mvn = shutil.which("mvn")
    if not mvn:
        raise ToolMissingError(
            f"Maven (`mvn`) is needed once to download the Kafka jars into {LIBS_DIR}, but it was not found"
        )
    return mvn


def pom_property(name: str, pom: Path = POM_FILE) -> str:
    """A ``<properties>`` value of kafka/pom.xml (e.g. ``kafka.version``)."""
    root = ET.parse(pom).getroot()
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = root.find(f"m:properties/m:{name}", ns)
    if node is None or not (node.text or "").strip():
        raise KafkaError(f"{pom} has no <{name}> property")
    return (node.text or "").strip()


def kafka_version() -> str:
    return pom_property("kafka.version")


def jars_present(libs: Path = LIBS_DIR) -> bool:
    """True when ``libs`` holds the broker jar of the pom's Kafka version and the log4j binding."""
    if not libs.is_dir():
        return False
    version = kafka_version()
    names = {p.name for p in libs.glob("*.jar")}
    needed = [f"kafka_2.13-{version}.jar", f"kafka-clients-{version}.jar"]
    return (
        all(n in names for n in needed)
        and any(n.startswith("log4j-slf4j-impl-") for n in names)
        and any(n.startswith("log4j-core-") for n in names)
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (e.g. parallel test workers fetching jars)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_jars(libs: Path = LIBS_DIR, *, timeout: float = MAVEN_TIMEOUT) -> Path:
    """Make sure ``kafka/libs`` holds the broker jars, running Maven (quietly) once if not."""
    if jars_present(libs):
        return libs
    with _file_lock(KAFKA_DIR / ".libs.lock"):
        if jars_present(libs):
            return libs
        mvn = find_maven()
        if libs.is_dir():  # stale jars of another version would mix on the classpath
            for old in libs.glob("*.jar"):
                old.unlink()
        print(
            f"[kafka] downloading the Kafka {kafka_version()} jars with Maven into {libs} ...",
            file=sys.stderr,
        )
        cmd = [mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(POM_FILE), "package", f"-Dlibs.dir={libs}"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise KafkaError(f"Maven did not finish within {timeout:.0f}s: {' '.join(cmd)}") from exc
        if proc.returncode != 0 or not jars_present(libs):
            output = (proc.stdout + proc.stderr).strip()[-4000:]
            raise KafkaError(f"Maven failed to fetch the Kafka jars (exit {proc.returncode}):\n{output}")
    return libs


# --------------------------------------------------------------------------- ports and processes


def free_ports(count: int = 1) -> list[int]:
    """``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JVM does: TIME_WAIT is fine
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _pid_runs_config(pid: int, config: Path) -> bool:
    """Whether process ``pid`` is a Kafka broker started with ``config`` (guards against PID reuse)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return pid_alive(pid) if not Path("/proc/self").exists() else False
    except OSError:
        return pid_alive(pid)
    decoded = [a.decode(errors="replace") for a in args]
    return "kafka.Kafka" in decoded and str(config) in decoded


# --------------------------------------------------------------------------- a metadata round trip


def _kafka_string(data: bytes, pos: int) -> tuple[str | None, int]:
    (length,) = struct.unpack_from(">h", data, pos)
    pos += 2
    if length < 0:
        return None, pos
    return data[pos : pos + length].decode(), pos + length


def metadata_brokers(host: str, port: int, timeout: float = 5.0) -> list[tuple[int, str, int]]:
    """Ask the broker for cluster metadata (Metadata v4, no topics); returns ``[(node_id, host, port)]``.

    A broker answers with itself only once it has registered with the controller and been unfenced,
    so this is a real readiness check, not just an open socket.
    """
    client_id = b"chainwatch-broker-py"
    correlation_id = 7
    # request header v1: api_key=3 (Metadata), api_version=4, correlation_id, client_id
    # body v4: topics = empty array, allow_auto_topic_creation = false
    body = struct.pack(">hhih", 3, 4, correlation_id, len(client_id)) + client_id + struct.pack(">ib", 0, 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv_exact(sock, 4))[0]
        data = _recv_exact(sock, size)
    got_id, _throttle, count = struct.unpack_from(">iii", data, 0)
    if got_id != correlation_id:
        raise KafkaError(f"unexpected correlation id {got_id} in metadata response")
    pos = 12
    brokers = []
    for _ in range(count):
        (node_id,) = struct.unpack_from(">i", data, pos)
        bhost, pos = _kafka_string(data, pos + 4)
        (bport,) = struct.unpack_from(">i", data, pos)
        _rack, pos = _kafka_string(data, pos + 4)
        brokers.append((node_id, bhost or "", bport))
    return brokers


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        chunks.extend(chunk)
    return bytes(chunks)


# --------------------------------------------------------------------------- configuration


def read_properties(path: Path) -> dict[str, str]:
    props: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        props[key.strip()] = value.strip()
    return props


def _listener_port(listeners: str, name: str) -> int | None:
    match = re.search(rf"(?:^|,){name}://[^:,]*:(\d+)", listeners)
    return int(match.group(1)) if match else None


LOG4J2_PROPERTIES = """\
# Written by kafka/broker.py: everything goes to stdout, which broker.py sends to broker.log.
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.target = SYSTEM_OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
"""


def server_properties(data_dir: Path, port: int, controller_port: int, extra: Mapping[str, object]) -> str:
    settings: dict[str, object] = {
        # KRaft, one process that is both broker and controller
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.bootstrap.servers": f"{HOST}:{controller_port}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir / LOG_DIRS),
        # one node: every internal topic has one replica
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "default.replication.factor": 1,
        "min.insync.replicas": 1,
        # fewer internal partitions than the default 50: faster first group join
        "offsets.topic.num.partitions": 8,
        "transaction.state.log.num.partitions": 8,
        "share.coordinator.state.topic.num.partitions": 8,
        # tests and local use
        "num.partitions": 4,
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "group.initial.rebalance.delay.ms": 0,
        "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,  # default 128 MiB is much for a 1 GiB heap
        # after a kill the old registration must expire before the broker can register again:
        # a shorter session than the default 9 s makes restart(hard=True) take ~5 s instead of ~12 s
        "broker.heartbeat.interval.ms": 1000,
        "broker.session.timeout.ms": 4000,
        "num.network.threads": 2,
        "num.io.threads": 4,
    }
    settings.update(extra)
    lines = ["# Written by kafka/broker.py on each start; edit LocalKafka(extra_config=...) instead."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- TLS and SASL listeners

SECURE_LISTENERS = ("SSL", "SASL_SSL", "SASL_PLAINTEXT")
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class BrokerTls:
    """The broker's side of TLS: a PKCS#12 keystore (its key and certificate) and a PEM bundle of the CA
    it trusts for client certificates. ``client_auth`` makes the ``SSL`` listener require a client
    certificate (mutual TLS); the ``SASL_SSL`` listener authenticates clients by SASL instead."""

    keystore: Path
    keystore_password: str
    truststore: Path
    client_auth: bool = True


def security_properties(
    ports: Mapping[str, int], tls: BrokerTls | None, sasl_users: Mapping[str, str]
) -> dict[str, object]:
    """server.properties entries for the extra listeners in ``ports`` (names from SECURE_LISTENERS).

    The PLAINTEXT listener stays: the readiness check and the broker's own traffic use it. SASL listeners
    accept SCRAM-SHA-256/512 (users stored in the cluster metadata at format time, see ``_format``) and
    PLAIN (users listed in the JAAS entry).
    """
    unknown = set(ports) - set(SECURE_LISTENERS)
    if unknown:
        raise KafkaError(f"unknown listener(s) {sorted(unknown)}; choose from {SECURE_LISTENERS}")
    if not ports:
        return {}
    if tls is None and any(name in ("SSL", "SASL_SSL") for name in ports):
        raise KafkaError("the SSL and SASL_SSL listeners need tls=BrokerTls(...)")
    if not sasl_users and any(name.startswith("SASL") for name in ports):
        raise KafkaError("the SASL listeners need at least one user in sasl_users")
    extra = ",".join(f"{name}://{HOST}:{port}" for name, port in ports.items())
    props: dict[str, object] = {
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
        + ",".join(f"{name}:{name}" for name in ports),
    }
    props["__listeners_suffix"] = extra
    if tls is not None:
        props.update(
            {
                "ssl.keystore.type": "PKCS12",
                "ssl.keystore.location": str(tls.keystore),
                "ssl.keystore.password": tls.keystore_password,
                "ssl.key.password": tls.keystore_password,
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(tls.truststore),
                "ssl.endpoint.identification.algorithm": "https",
            }
        )
        if tls.client_auth and "SSL" in ports:
            props["listener.name.ssl.ssl.client.auth"] = "required"
    if any(name.startswith("SASL") for name in ports):
        props["sasl.enabled.mechanisms"] = ",".join((*SCRAM_MECHANISMS, "PLAIN"))
        plain_users = " ".join(f'user_{user}="{password}"' for user, password in sasl_users.items())
        for name in (n for n in ports if n.startswith("SASL")):
            prefix = f"listener.name.{name.lower()}"
            for mechanism in SCRAM_MECHANISMS:
                props[f"{prefix}.{mechanism.lower()}.sasl.jaas.config"] = (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                )
            props[f"{prefix}.plain.sasl.jaas.config"] = (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            )
    return props


# --------------------------------------------------------------------------- the broker


_RUNNING: set[LocalKafka] = set()


@atexit.register
def _stop_owned_brokers() -> None:
    for broker in list(_RUNNING):
        with contextlib.suppress(Exception):
            broker.stop(timeout=20)


class LocalKafka:
    """One local Kafka broker process over one data directory.

    ``data_dir=None`` makes a temporary directory that :meth:`close` (and leaving the ``with`` block)
    deletes. ``port=0`` / ``controller_port=0`` pick free ports on the first start (over an existing
    data directory: the ports of its last run when they are free); the ports then stay fixed for
    :meth:`restart`. ``detach=True`` leaves the broker running when this Python process exits (the
    CLI's ``up``); otherwise it is stopped at exit.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        port: int = 0,
        controller_port: int = 0,
        *,
        heap: str = DEFAULT_HEAP,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        extra_config: Mapping[str, object] | None = None,
        detach: bool = False,
        secure_listeners: Sequence[str] = (),
        tls: BrokerTls | None = None,
        sasl_users: Mapping[str, str] | None = None,
    ) -> None:
        self._owns_data_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="chainwatch-kafka-") if data_dir is None else data_dir)
        self.data_dir = self.data_dir.resolve()
        self.heap = heap
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.extra_config = dict(extra_config or {})
        self.detach = detach
        self.secure_listeners = tuple(secure_listeners)
        self.tls = tls
        self.sasl_users = dict(sasl_users or {})
        self.listener_ports: dict[str, int] = {}  # secure listener name -> port, fixed after the first start
        self._requested_port = port
        self._requested_controller_port = controller_port
        self.port: int | None = None
        self.controller_port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.last_start_seconds: float | None = None
        self._started_once = False
        stored = self._stored_ports()  # what an earlier run used: reused when free and no port is asked
        if stored:
            self.port, self.controller_port = stored

    # ---- paths

    @property
    def config_file(self) -> Path:
        return self.data_dir / PROPERTIES_FILE

    @property
    def log_file(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def pid_file(self) -> Path:
        return self.data_dir / PID_FILE

    @property
    def kafka_log_dir(self) -> Path:
        return self.data_dir / LOG_DIRS

    @property
    def bootstrap(self) -> str:
        """``'127.0.0.1:PORT'`` for ``bootstrap_servers``."""
        if self.port is None:
            raise KafkaError("the broker has no port yet: call start() first")
        return f"{HOST}:{self.port}"

    def bootstrap_for(self, listener: str) -> str:
        """``'127.0.0.1:PORT'`` of a secure listener (``'SSL'``, ``'SASL_SSL'``, ``'SASL_PLAINTEXT'``)."""
        if listener == "PLAINTEXT":
            return self.bootstrap
        if listener not in self.listener_ports:
            raise KafkaError(f"the broker has no {listener} listener (started with {self.secure_listeners})")
        return f"{HOST}:{self.listener_ports[listener]}"

    @property
    def is_formatted(self) -> bool:
        return (self.kafka_log_dir / "meta.properties").exists()

    # ---- state

    @property
    def pid(self) -> int | None:
        """PID of the running broker of this data directory, or None."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) and _pid_runs_config(pid, self.config_file) else None

    @property
    def is_running(self) -> bool:
        return self.pid is not None

    def status(self) -> dict[str, object]:
        return {
            "running": self.is_running,
            "pid": self.pid,
            "bootstrap": f"{HOST}:{self.port}" if self.port else None,
            "controller": f"{HOST}:{self.controller_port}" if self.controller_port else None,
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
            "formatted": self.is_formatted,
        }

    def log_tail(self, lines: int = 40, since: int = 0) -> str:
        try:
            with open(self.log_file, "rb") as handle:
                handle.seek(since)
                text = handle.read().decode(errors="replace")
        except OSError:
            return "(no broker log)"
        return "\n".join(text.splitlines()[-lines:])

    def _stored_ports(self) -> tuple[int, int] | None:
        if not self.config_file.exists():
            return None
        listeners = read_properties(self.config_file).get("listeners", "")
        port = _listener_port(listeners, "PLAINTEXT")
        cport = _listener_port(listeners, "CONTROLLER")
        return (port, cport) if port and cport else None

    # ---- lifecycle

    def start(self) -> LocalKafka:
        """Start the broker (formatting the data dir on first use); returns once it serves metadata."""
        if self.is_running:
            if self._proc is not None:
                return self
            raise BrokerStartError(f"a broker already runs on {self.data_dir} (pid {self.pid})")
        java = find_java()
        ensure_jars()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._choose_ports()
        assert self.port is not None and self.controller_port is not None
        for port in (self.port, self.controller_port, *self.listener_ports.values()):
            if not port_is_free(port):
                raise BrokerStartError(f"port {port} on {HOST} is already in use (pick another port)")
        self.config_file.write_text(
            server_properties(self.data_dir, self.port, self.controller_port, self._config())
        )
        log4j = self.data_dir / LOG4J_FILE
        log4j.write_text(LOG4J2_PROPERTIES)
        began = time.monotonic()
        if not self.is_formatted:
            self._format(java, log4j)
        cmd = [
            java,
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            str(LIBS_DIR / "*"),
            "kafka.Kafka",
            str(self.config_file),
        ]
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            log.write(f"\n===== broker.py: starting {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is for the caller, not the broker
            )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        if not self.detach:
            _RUNNING.add(self)
        try:
            self._wait_ready(log_offset)
        except BaseException:
            self.kill()
            raise
        self.last_start_seconds = time.monotonic() - began
        self._started_once = True
        return self

    def _config(self) -> dict[str, object]:
        """extra_config over the secure listeners' entries (the listener lists get them appended)."""
        security = security_properties(self.listener_ports, self.tls, self.sasl_users)
        suffix = security.pop("__listeners_suffix", None)
        if suffix:
            assert self.port is not None and self.controller_port is not None
            plain = f"PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{self.controller_port}"
            security["listeners"] = security["advertised.listeners"] = f"{plain},{suffix}"
        return {**security, **self.extra_config}

    def _choose_ports(self) -> None:
        if self._started_once:  # restart: the very same ports, so that clients reconnect
            return
        port = self._requested_port or (self.port if self.port and port_is_free(self.port) else 0)
        cport = self._requested_controller_port
        if (
            not cport
            and self.controller_port
            and self.controller_port != port
            and port_is_free(self.controller_port)
        ):
            cport = self.controller_port
        spare = iter([p for p in free_ports(3) if p not in (port, cport)])
        self.port = port or next(spare)
        self.controller_port = cport or next(spare)
        if self.port == self.controller_port:
            raise KafkaError(f"the client and controller ports must differ (both {self.port})")
        if self.secure_listeners:
            taken = {self.port, self.controller_port}
            usable = [p for p in free_ports(len(self.secure_listeners) + 2) if p not in taken]
            self.listener_ports = dict(zip(self.secure_listeners, usable, strict=False))

    def _format(self, java: str, log4j: Path) -> None:
        base = [
            java,
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            str(LIBS_DIR / "*"),
            "kafka.tools.StorageTool",
        ]
        uuid = (
            self._run_tool("StorageTool random-uuid", [*base, "random-uuid"]).strip().splitlines()[-1].strip()
        )
        if not re.fullmatch(r"[A-Za-z0-9_-]{22}", uuid):
            raise BrokerStartError(f"StorageTool random-uuid printed an unexpected cluster id: {uuid!r}")
        fmt = [*base, "format", "--cluster-id", uuid, "--config", str(self.config_file), "--standalone"]
        for user, password in self.sasl_users.items():  # SCRAM users live in the KRaft metadata
            for mechanism in SCRAM_MECHANISMS:
                fmt += ["--add-scram", f"{mechanism}=[name={user},password={password}]"]
        self._run_tool("StorageTool format", fmt)

    def _run_tool(self, label: str, cmd: list[str]) -> str:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        except subprocess.TimeoutExpired as exc:
            shown = " ".join(re.sub(r"password=[^,\]]*", "password=***", part) for part in cmd)
            raise BrokerStartError(f"{label} timed out: {shown}") from exc  # SCRAM passwords masked
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip()
            raise BrokerStartError(f"{label} failed (exit {proc.returncode}) for {self.data_dir}:\n{output}")
        return proc.stdout

    def _wait_ready(self, log_offset: int) -> None:
        assert self._proc is not None and self.port is not None
        deadline = time.monotonic() + self.start_timeout
        started_logged = False
        last_error: Exception | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                raise BrokerStartError(
                    f"the Kafka broker exited with code {code} while starting; {self.log_file} ends with:\n"
                    + self.log_tail(60, log_offset)
                )
            if not started_logged:
                started_logged = STARTED_MARKER in self.log_tail(10**6, log_offset)
            if started_logged:
                try:
                    if any(node == NODE_ID for node, _h, _p in metadata_brokers(HOST, self.port, timeout=5)):
                        return
                    last_error = KafkaError("metadata lists no broker yet")
                except (OSError, KafkaError, struct.error) as exc:
                    last_error = exc
            if time.monotonic() > deadline:
                state = "logged that it started" if started_logged else f"never logged {STARTED_MARKER!r}"
                raise BrokerStartError(
                    f"the Kafka broker on {self.bootstrap} was not ready within {self.start_timeout:g}s "
                    f"(it {state}; last metadata check: {last_error}); {self.log_file} ends with:\n"
                    + self.log_tail(60, log_offset)
                )
            time.sleep(0.2)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the broker by PID: SIGTERM (clean shutdown), then SIGKILL after ``timeout`` seconds."""
        self._signal_and_wait(signal.SIGTERM, self.stop_timeout if timeout is None else timeout)

    def kill(self) -> None:
        """SIGKILL the broker at once (a crash; the next start recovers its logs)."""
        self._signal_and_wait(signal.SIGKILL, 0)

    def restart(self, *, hard: bool = False) -> LocalKafka:
        """Stop (or with ``hard=True`` kill) and start again on the same ports and data."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the broker, and delete the data directory if it is a temporary one made here."""
        self.stop()
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> None:
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if not self._wait_exit(pid, timeout) and sig != signal.SIGKILL:
                print(f"[kafka] pid {pid} ignored SIGTERM for {timeout:.0f}s; killing it", file=sys.stderr)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, 30)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        _RUNNING.discard(self)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + max(timeout, 0.0) + (5.0 if timeout == 0 else 0.0)
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not pid_alive(pid):
                return True
            time.sleep(0.1)
        return False

    # ---- context manager

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalKafka(data_dir={str(self.data_dir)!r}, port={self.port}, pid={self.pid})"


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data", type=Path, default=CLI_DATA_DIR, help=f"data directory (default {CLI_DATA_DIR})"
    )
    common.add_argument("--port", type=int, default=9092, help="client (PLAINTEXT) port; 0 = a free one (up)")
    common.add_argument(
        "--controller-port", type=int, default=None, help="KRaft controller port (default: --port + 1)"
    )
    common.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT, help="seconds to wait (up)")
    parser = argparse.ArgumentParser(
        prog="kafka/broker.py", description="A local single-node Apache Kafka broker (no Docker)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", parents=[common], help="start the broker in the background")
    sub.add_parser("down", parents=[common], help="stop the broker")
    sub.add_parser("status", parents=[common], help="tell whether the broker runs (exit 1 if not)")
    sub.add_parser("jars", help="only download the Kafka jars into kafka/libs")
    args = parser.parse_args(argv)

    try:
        if args.command == "jars":
            print(ensure_jars())
            return 0
        cport = args.controller_port
        if cport is None:  # 9092 -> 9093; with --port 0 a free one
            cport = args.port + 1 if args.port else 0
        broker = LocalKafka(
            args.data, port=args.port, controller_port=cport, start_timeout=args.timeout, detach=True
        )
        if args.command == "up":
            if broker.is_running:
                print(f"Kafka already running: pid {broker.pid}, bootstrap {broker.bootstrap}")
                return 0
            broker.start()
            print(
                f"Kafka {kafka_version()} up: bootstrap {broker.bootstrap}, pid {broker.pid}, "
                f"data {broker.data_dir}, log {broker.log_file} (started in {broker.last_start_seconds:.1f}s)"
            )
            return 0
        if args.command == "down":
            pid = broker.pid
            if pid is None:
                print(f"Kafka is not running (data {broker.data_dir})")
                return 0
            broker.stop()
            print(f"Kafka stopped (pid {pid})")
            return 0
        status = broker.status()
        if status["running"]:
            print(f"Kafka running: pid {status['pid']}, bootstrap {status['bootstrap']}")
            print(f"data {status['data_dir']}, log {status['log_file']}")
            return 0
        print(f"Kafka not running (data {status['data_dir']})")
        return 1
    except ToolMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KafkaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
