"""What a snippet of code does: ``python -c "…"``, a notebook cell, a script an agent writes.

Read with Python's own parser where the code is Python (calls by their dotted names, string arguments of
``os.system``/``subprocess`` read as shell lines), and with a few language-neutral patterns otherwise
(``fetch``/``axios.post``/``child_process.exec`` in JavaScript, ``system`` in Ruby and Perl). Only the
calls that reach outside the program count: files, processes, the network, the environment.
"""

from __future__ import annotations

import ast
import functools
import re
import shlex

from detectors.capabilities.paths import host_of, is_local_host, is_secret_path, urls_in
from schemas.types import Capability as C

MAX_CODE = 50_000

# Dotted call names (their last one or two parts) -> capability and why.
_CALLS: dict[str, tuple[C, str]] = {
    "os.system": (C.EXECUTE, "os.system runs a shell command"),
    "os.popen": (C.EXECUTE, "os.popen runs a shell command"),
    "subprocess.run": (C.EXECUTE, "subprocess runs a program"),
    "subprocess.call": (C.EXECUTE, "subprocess runs a program"),
    "subprocess.check_call": (C.EXECUTE, "subprocess runs a program"),
    "subprocess.check_output": (C.EXECUTE, "subprocess runs a program"),
    "subprocess.Popen": (C.EXECUTE, "subprocess runs a program"),
    "os.exec": (C.EXECUTE, "os.exec replaces the process"),
    "eval": (C.EXECUTE, "eval runs code"),
    "exec": (C.EXECUTE, "exec runs code"),
    "shutil.rmtree": (C.DELETE, "shutil.rmtree removes a directory tree"),
    "os.remove": (C.DELETE, "os.remove deletes a file"),
    "os.unlink": (C.DELETE, "os.unlink deletes a file"),
    "os.rmdir": (C.DELETE, "os.rmdir removes a directory"),
    "unlink": (C.DELETE, "unlink deletes a file"),
    "rmdir": (C.DELETE, "rmdir removes a directory"),
    "os.kill": (C.DELETE, "os.kill kills a process"),
    "requests.post": (C.EGRESS, "requests.post sends data"),
    "requests.put": (C.EGRESS, "requests.put sends data"),
    "requests.patch": (C.EGRESS, "requests.patch sends data"),
    "requests.delete": (C.DELETE, "requests.delete deletes a remote resource"),
    "requests.get": (C.FETCH, "requests.get fetches a URL"),
    "httpx.post": (C.EGRESS, "httpx.post sends data"),
    "httpx.put": (C.EGRESS, "httpx.put sends data"),
    "httpx.get": (C.FETCH, "httpx.get fetches a URL"),
    "urllib.request.urlopen": (C.FETCH, "urlopen fetches a URL"),
    "request.urlopen": (C.FETCH, "urlopen fetches a URL"),
    "urlopen": (C.FETCH, "urlopen fetches a URL"),
    "socket.connect": (C.EGRESS, "a raw socket connection"),
    "connect": (C.FETCH, "opens a connection"),
    "sendall": (C.EGRESS, "sends data on a socket"),
    "smtplib.SMTP": (C.COMMUNICATE, "sends e-mail"),
    "sendmail": (C.COMMUNICATE, "sends e-mail"),
    "send_message": (C.COMMUNICATE, "sends a message"),
    "ftplib.FTP": (C.EGRESS, "opens an FTP connection"),
    # SDK uploads (boto3, huggingface_hub, google-cloud-storage, azure-storage-blob, slack_sdk)
    "upload_file": (C.EGRESS, "uploads a file"),
    "upload_fileobj": (C.EGRESS, "uploads a file"),
    "upload_folder": (C.EGRESS, "uploads a folder"),
    "push_to_hub": (C.EGRESS, "publishes to a model or dataset hub"),
    "put_object": (C.EGRESS, "uploads an object"),
    "upload_from_filename": (C.EGRESS, "uploads a file"),
    "upload_blob": (C.EGRESS, "uploads a blob"),
    "files_upload_v2": (C.EGRESS, "uploads a file to a chat"),
    "chat_postMessage": (C.COMMUNICATE, "posts a chat message"),
    "storbinary": (C.EGRESS, "uploads over FTP"),
    "paramiko.SSHClient": (C.EXECUTE, "opens an SSH session"),
    "os.chmod": (C.IDENTITY, "os.chmod changes file permissions"),
    "os.chown": (C.IDENTITY, "os.chown changes file ownership"),
    "os.environ": (C.SECRET, "reads the environment"),
    "getpass": (C.SECRET, "asks for a password"),
    "keyring.get_password": (C.SECRET, "reads a stored password"),
    "write_text": (C.WRITE, "writes a file"),
    "write_bytes": (C.WRITE, "writes a file"),
    "to_csv": (C.WRITE, "writes a file"),
    "to_excel": (C.WRITE, "writes a file"),
    "read_text": (C.READ, "reads a file"),
    "read_csv": (C.READ, "reads a file"),
    "read_excel": (C.READ, "reads a file"),
}
_DELETE_CALLS = {"rmtree": "rm -rf", "remove": "rm", "unlink": "rm", "rmdir": "rmdir", "removedirs": "rm -rf"}
_SHELL_CALLS = {
    "os.system",
    "os.popen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
}
_OTHER_LANGUAGES = (
    (
        re.compile(r"\b(child_process|execSync|spawnSync|exec)\s*\(|`[^`]+`|\bsystem\s*\("),
        C.EXECUTE,
        "runs a command",
    ),
    (
        re.compile(r"\b(fetch|axios\.(post|put)|\$\.post|XMLHttpRequest|sendBeacon)\s*\("),
        C.EGRESS,
        "sends a request",
    ),
    (
        re.compile(r"\b(fs\.(rm|rmSync|unlink|unlinkSync|rmdir)|File\.delete|unlink)\s*\("),
        C.DELETE,
        "deletes files",
    ),
    (
        re.compile(r"\b(fs\.(writeFile|writeFileSync|appendFile)|File\.write|open\s*\([^)]*['\"][wa])"),
        C.WRITE,
        "writes files",
    ),
    (re.compile(r"\bprocess\.env\b|\bENV\[|\$ENV\{"), C.SECRET, "reads the environment"),
)


def _dotted(node: ast.AST) -> str | None:
    """``os.path.join`` for an attribute chain; ``Path.unlink`` for ``Path("x").unlink``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        inner = _dotted(node.func)
        if inner is not None:
            parts.append(inner)
    elif isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts)) if parts else None


def _strings(node: ast.AST) -> list[str]:
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            found.append(child.value)
    return found


@functools.lru_cache(maxsize=2048)
def _python_capabilities(code: str) -> tuple[tuple[tuple[C, str], ...], tuple[str, ...]]:
    """(capability, why) pairs and the shell lines the code hands to os.system/subprocess."""
    tree = ast.parse(code)
    found: dict[C, str] = {}
    lines: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _dotted(node) == "os.environ":
            found.setdefault(C.SECRET, "reads the environment")
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func) or ""
        tail2 = ".".join(name.split(".")[-2:])
        tail1 = name.split(".")[-1]
        entry = _CALLS.get(name) or _CALLS.get(tail2) or _CALLS.get(tail1)
        if entry is not None:
            found.setdefault(*entry)
        if name in _SHELL_CALLS or tail2 in _SHELL_CALLS:
            argument = node.args[0] if node.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                line = argument.value
            elif isinstance(argument, ast.List | ast.Tuple):
                line = " ".join(s for s in _strings(argument))
            else:
                line = ""
            if line:
                lines.append(line)
        if (upload := _upload_line(node, name)) is not None:
            lines.append(upload)  # judged by the shell reader as the same upload by curl would be
        if tail1 in _DELETE_CALLS and node.args:
            target = node.args[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                # judged by the shell reader as the same delete would be: system paths, logs, secrets
                lines.append(f"{_DELETE_CALLS[tail1]} {shlex.quote(target.value)}")
        if tail1 == "open" and len(node.args) >= 2:
            mode = node.args[1]
            if (
                isinstance(mode, ast.Constant)
                and isinstance(mode.value, str)
                and set(mode.value) & set("wax+")
            ):
                found.setdefault(C.WRITE, "open(..., 'w') writes a file")
            else:
                found.setdefault(C.READ, "open() reads a file")
        elif tail1 == "open" and node.args:
            found.setdefault(C.READ, "open() reads a file")
        for text in _strings(node):
            if is_secret_path(text):
                found.setdefault(C.SECRET, f"touches {text}")
    return tuple(found.items()), tuple(lines)


_UPLOAD_VERBS = frozenset({"post", "put", "patch"})


def _upload_line(node: ast.Call, name: str) -> str | None:
    """``requests.post(url, files={"f": open(path, "rb")})``: the file upload it makes, as a curl line."""
    if name.split(".")[-1] not in _UPLOAD_VERBS or not node.args:
        return None
    url = node.args[0]
    if not (isinstance(url, ast.Constant) and isinstance(url.value, str) and "://" in url.value):
        return None
    for keyword in node.keywords:
        if keyword.arg not in ("files", "data", "content"):
            continue
        opened = [
            n
            for n in ast.walk(keyword.value)
            if isinstance(n, ast.Call) and (_dotted(n.func) or "") == "open"
        ]
        if opened:
            first = opened[0].args[0] if opened[0].args else None
            path = (
                first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else "files"
            )
            return f"curl -F file=@{shlex.quote(path)} {shlex.quote(url.value)}"
    return None


def _code_capabilities(code: str) -> tuple[tuple[tuple[C, str], ...], tuple[str, ...]]:
    try:
        return _python_capabilities(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    found: dict[C, str] = {}
    for pattern, capability, why in _OTHER_LANGUAGES:
        if pattern.search(code):
            found.setdefault(capability, why)
    return tuple(found.items()), ()


def code_facts(code: str) -> tuple[tuple[tuple[C, str], ...], tuple[str, ...], tuple[str, ...]]:
    """(capability, why) pairs of a snippet, the shell lines it hands to a shell, and the outside URLs it
    names. Running code is always EXECUTE. The shell module reads the lines (it owns shell judging)."""
    code = code[:MAX_CODE]
    capabilities, lines = _code_capabilities(code)
    remote = tuple(u for u in urls_in(code) if not is_local_host(host_of(u)))
    return ((C.EXECUTE, "runs code"), *capabilities), lines, remote
