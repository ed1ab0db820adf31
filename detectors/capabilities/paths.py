"""What a path or an address is: a secret, a system location, a log, a remote destination.

Generic file-system and network conventions (where SSH keys, cloud credentials and logs live on any Unix
host), never one dataset's paths.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import posixpath
import re
from collections.abc import Iterator
from typing import Any

from schemas.types import Capability

# Files that hold secrets by convention. ``id_rsa.pub`` and other public halves are not secrets.
_SECRET_PATH = re.compile(
    r"""(?ix)
    (^|/)\.ssh/(id_[a-z0-9_]+|identity)$ | (^|/)id_(rsa|dsa|ecdsa|ed25519)$ |
    (^|/)\.ssh/[^/]*(rsa|dsa|ecdsa|ed25519|_key|deploy)[^/]*$ |
    \.(pem|key|p12|pfx|jks|keystore|kdbx|asc|gpg|ppk)$ |
    (^|/)\.env(\.[a-z0-9_.-]+)?$ | (^|/)[^/]*\.env$ |
    (^|/)\.aws/(credentials|config)$ | (^|/)\.netrc$ | (^|/)\.pgpass$ | (^|/)\.npmrc$ | (^|/)\.pypirc$ |
    (^|/)\.git-credentials$ | (^|/)\.docker/config\.json$ | (^|/)\.kube/config$ | (^|/)kubeconfig$ |
    (^|/)etc/(shadow|gshadow|sudoers)$ | (^|/)\.gnupg/ | (^|/)\.password-store/ |
    (^|/)\.?[^/.]*(secret|credential|password|passwd|token|api[_-]?key)[^/.]*
        (\.(txt|json|ya?ml|csv|ini|conf|cfg|env|xml|properties|toml|db|sqlite|bak|key|dat))?$ |
    (^|/)\.?(vault|keychain|keyring|wallet)[^/]*$ | (^|/)service[-_]?account[^/]*\.json$
    """
)
_PUBLIC_HALF = re.compile(
    r"\.(pub|crt|cer)$|(^|/)known_hosts$|(^|/)authorized_keys$|(^|/)etc/(passwd|group)$", re.I
)
# a certificate or its chain in PEM is public (``fullchain.pem``, ``ca-bundle.pem``): it is what servers
# hand every client; not a PEM whose name says it holds the key (``ca-key.pem``, ``cert-privkey.pem``)
_CERT_WORDS = frozenset("cert certificate chain fullchain ca bundle".split())
_KEY_WORDS = re.compile(r"key|priv|secret", re.I)
MAX_PATH = 4096  # PATH_MAX: a longer "path" is no file's; its tail holds the name


def _public_pem(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if not name.endswith(".pem") or _KEY_WORDS.search(name):
        return False
    return bool(_CERT_WORDS & set(re.split(r"[._-]", name[:-4])))


# Top-level system locations: removing or overwriting them breaks the host.
_SYSTEM_DIRS = frozenset(
    "bin boot dev etc home lib lib32 lib64 libx32 opt proc root run sbin srv sys usr var snap".split()
)
# The operating system's own folders: everything under them is the system, not a user's data.
_OS_DIRS = frozenset("bin boot dev etc lib lib32 lib64 libx32 proc sbin sys usr root".split())
_LOG_PATH = re.compile(
    r"(^|/)(var/log|logs?|audit|journal)(/|$)|\.log(\.\d+)?(\.gz)?$|(^|/)\.?bash_history$", re.I
)
_DEVICE = re.compile(r"^/dev/(sd[a-z]|nvme\d|hd[a-z]|xvd[a-z]|vd[a-z]|mmcblk\d|disk\d|md\d|dm-\d|mapper/)")
_HOME_DOTFILE = re.compile(r"(^|/)(~|home/[^/]+|root)/\.[^/]+$|^\.(bashrc|profile|zshrc|gitconfig)$")


@functools.lru_cache(maxsize=8192)
def is_secret_path(path: str) -> bool:
    """A file that by convention holds a secret (private keys, .env, cloud credentials, /etc/shadow)."""
    path = path.strip().strip("'\"")[-MAX_PATH:]
    public = _PUBLIC_HALF.search(path) or _public_pem(path)
    return bool(path) and not public and bool(_SECRET_PATH.search(path))


def _parts(path: str) -> list[str]:
    return [p for p in path.strip().strip("'\"").split("/") if p not in ("", ".")]


@functools.lru_cache(maxsize=8192)
def is_system_path(path: str) -> bool:
    """``/``, ``/*``, a top-level system directory (``/etc``, ``/usr/*``, ``/var``) or the whole home."""
    raw = path.strip().strip("'\"")
    if not raw.startswith(("/", "~")):
        return False
    parts = _parts(raw.lstrip("~"))
    if raw.startswith("~"):
        return len(parts) == 0 or parts in (["*"], [".*"], [".??*"], [".[^.]*"])
    if not parts or parts[0] in ("*", ".*", ".??*", ".[^.]*", ".?*"):
        return True
    if parts[0] in _OS_DIRS and parts[:2] != ["usr", "local"]:
        return True  # anything under the operating system's own folders (/etc/nginx, /usr/lib/x)
    if parts[:2] == ["usr", "local"]:
        return len(parts) <= 2 or (len(parts) == 3 and parts[2] in ("*", ".*"))  # locally installed software
    return parts[0] in _SYSTEM_DIRS and (len(parts) == 1 or (len(parts) == 2 and parts[1] in ("*", ".*")))


# where services keep their state: a database's data directory, a queue's, a registry's
_SERVICE_DATA = re.compile(r"^/(var/lib|var/opt|srv|data)/[^/*]+", re.I)


_THROWAWAY = re.compile(
    r"(^|/)(tmp|temp|\.?cache|build|dist|node_modules|__pycache__|\.gradle|target|\.next|coverage|\.tox"
    r"|\.pytest_cache)(/|$)",
    re.I,
)


def is_service_data(path: str) -> bool:
    path = path.strip().strip("'\"")
    return bool(_SERVICE_DATA.match(path)) and not _THROWAWAY.search(path)


# records an audit or an investigation needs, wherever kept: ``security_logs.txt``, ``audit_trail.csv``
_AUDIT_EVIDENCE = re.compile(
    r"(^|[/_.-])(security|audit|access|auth|compliance|sox)[_.-]?(logs?|trail|records?|events?)([_.-]|$)",
    re.I,
)


def is_audit_evidence(path: str) -> bool:
    return bool(_AUDIT_EVIDENCE.search(path.strip().strip("'\"").rsplit("/", 1)[-1]))


def is_log_path(path: str) -> bool:
    return bool(_LOG_PATH.search(path.strip().strip("'\"")))


def is_device(path: str) -> bool:
    return bool(_DEVICE.match(path.strip()))


def is_home_dotfile(path: str) -> bool:
    return bool(_HOME_DOTFILE.search(path.strip()))


_URL = re.compile(r"\b(?:https?|ftp|sftp|wss?|s3|gs|ssh|git)://[^\s\"'<>()]+", re.I)
_SCP_REMOTE = re.compile(r"^(?:[\w.-]+@)?[\w.-]+\.[a-z]{2,}:(?!//)|^[\w.-]+@[\w.-]+:(?!//)", re.I)


def urls_in(text: str) -> list[str]:
    return [u.rstrip(".,;:!?") for u in _URL.findall(text)]


def is_remote_spec(arg: str) -> bool:
    """``user@host:path`` / ``host.example.com:path`` (scp, rsync) or a URL."""
    return bool(_SCP_REMOTE.match(arg) or _URL.match(arg))


def host_of(url: str) -> str | None:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return host or None


_LOCAL_HOSTS = re.compile(r"^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?|host\.docker\.internal)$")


def is_local_host(host: str | None) -> bool:
    return host is None or bool(_LOCAL_HOSTS.match(host))


# A host inside the organisation's own network: a private address, a cluster service, an internal zone.
_INTERNAL_HOST = re.compile(
    r"^(10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+|172\.(1[6-9]|2\d|3[01])\.\d+\.\d+)$"
    r"|\.(svc|svc\.cluster\.local|cluster\.local|internal|local|lan|corp|intranet|home\.arpa)$",
    re.I,
)


# a sign-in page (``…/index.php/login``, ``/api/session``, ``/auth``): what is posted there authenticates
LOGIN_URL = re.compile(
    r"(?i)^\w+://[^\s?#]*/(?:login|log-in|signin|sign-in|session|sessions|auth|authenticate)(?:[/?#.]|$)"
)


def is_internal_host(host: str | None) -> bool:
    """Whether data sent to this host stays inside the organisation's own network: a private address, an
    internal domain, or a name of one label (``billing-stg-01``: only the network's own resolver knows it;
    every host on the internet is under a registered domain)."""
    name = (host or "").split(":", 1)[0]
    return is_local_host(host) or bool(name and (_INTERNAL_HOST.search(name) or _ONE_LABEL.match(name)))


_ONE_LABEL = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$", re.I)


# A DNS label long enough to carry data. Names people choose are short words; a CDN's or a load balancer's
# generated label is lower case (DNS ignores case, so nothing that names a host needs capitals).
_DATA_LABEL = 16


def data_in_host(url: str) -> str | None:
    """What a URL's or bare host name's labels carry when they smuggle data out (exfiltration over DNS,
    MITRE ATT&CK T1048.003 / T1071.004): a label that decodes (base64, base32, hex) to readable text, or a
    long label mixing capitals, small letters and digits. None for ordinary host names."""
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    if host.startswith("[REDACTED:") or ".[REDACTED:" in host:
        return "the host name carries a secret (redacted here)"
    host = host.split(":", 1)[0]
    for label in host.split(".")[:-2]:  # the registered domain itself is whatever its owner chose
        if len(label) < _DATA_LABEL:
            continue
        text = _decoded_text(label)
        if text is not None:
            return f"the host name carries encoded text ({text[:40]!r})"
        if (
            any(c.isupper() for c in label)
            and any(c.islower() for c in label)
            and any(c.isdigit() for c in label)
        ):
            return f"the host name carries a mixed-case token ({label[:24]}…)"
    return None


def _decoded_text(label: str) -> str | None:
    """The label decoded as hex, base32 or base64 (URL-safe too) when the result is readable text."""
    for raw in _decodings(label):
        if len(raw) >= 10 and all(32 <= b < 127 for b in raw) and re.search(rb"[A-Za-z]{3}", raw):
            return raw.decode("ascii")
    return None


def _decodings(label: str) -> Iterator[bytes]:
    if re.fullmatch(r"(?:[0-9a-fA-F]{2})+", label):
        yield bytes.fromhex(label)
    for decode, padded in (
        (base64.b32decode, label.upper() + "=" * (-len(label) % 8)),
        (base64.urlsafe_b64decode, label + "=" * (-len(label) % 4)),
    ):
        if decode is base64.b32decode and not re.fullmatch(r"[A-Za-z2-7]+", label):
            continue
        try:
            yield decode(padded)
        except (binascii.Error, ValueError):
            continue


_ABSOLUTE = re.compile(r"(?<![\w.:/-])(/[\w.@+-]+(?:/[\w.@+-]+)*)")
_RECURSIVE = re.compile(r"(?<!\S)(-\w*[rR]\w*|--recursive)(?!\S)")
_COMMANDS = re.compile(r"&&|\|\||[;|\n]")  # where one command of a shell line ends


def above_named_path(line: str, provenance: Any) -> tuple[str, str] | None:
    """A recursive command on a folder above a path the user named (``chmod -R 777 /shared/lab`` when the
    task said ``/shared/lab/data/run_0612``): everything beside that path is changed too. The folder and
    the named path, or None. ``provenance`` is the session's (its trusted text), or None."""
    trusted_text = provenance.trusted_text if provenance is not None else ""
    if "/" not in trusted_text or not _RECURSIVE.search(line):
        return None
    named = [m.group(1).rstrip(".") for m in _ABSOLUTE.finditer(trusted_text)]
    # only the commands of the line that are recursive: ``… -exec rm -rf {} + && df -h /var/lib/jenkins``
    # changes nothing above the workspace the task named, although ``df`` names the disk
    before: list[
        str
    ] = []  # the folders of the command before (``cd /x && rm -rf ./*``, ``ls /x | xargs rm``)
    for command in _COMMANDS.split(line):
        folders = [m.group(1).rstrip("/") for m in _ABSOLUTE.finditer(command)]
        if _RECURSIVE.search(command):
            for folder in folders or before:
                if _asked_to_delete(folder, provenance):
                    continue  # the folder the user asked to delete (a listing of it names what is inside)
                above = next((path for path in named if path.startswith(folder + "/")), None)
                if above is not None:
                    return folder, above
        before = folders
    return None


def _asked_to_delete(folder: str, provenance: Any) -> bool:
    """Whether a sentence of the trusted text that asks for a delete names this very folder ("Please delete
    my scratch directory /scratch/jl/runs_tmp"): not one that names it as the place of work."""
    if provenance is None or not folder.strip("/"):
        return False
    intent = getattr(provenance, "intent", None)  # (a stand-in with the trusted text alone has none)
    verbs = [w.lower() for w in intent.implied.get(Capability.DELETE, ())] if intent is not None else []
    if not verbs:
        return False
    verb = re.compile(r"(?i)\b(?:" + "|".join(map(re.escape, verbs)) + r")")
    mention = re.compile(r"(?<![\w./-])" + re.escape(folder) + r"(?![\w.-]*/?[\w])")
    for sentence in _SENTENCE.split(provenance.trusted_text):
        for found in mention.finditer(sentence) if folder in sentence else ():
            # the folder is what the delete acts on: a delete verb before it, and no other path or place
            # between ("delete /srv/app/cache in /srv/app", "working in /srv/app, delete …" name a place)
            lead = sentence[: found.start()]
            verbs_before = list(verb.finditer(lead))
            if verbs_before and not _PLACE_BETWEEN.search(lead[verbs_before[-1].end() :]):
                return True
    return False


_PLACE_BETWEEN = re.compile(r"(?i)/|\b(?:in|into|under|inside|within|from|at|of|on|below|beneath)\b")


def deleted_beside_named(deleted: list[str], provenance: Any) -> tuple[str, str] | None:
    """A path a delete removes (an absolute one, as the shell reader read it, not one the user wrote) that
    lies above the path the task named or puts a wildcard where that path has a name of its own (``find
    /scratch/*/runs … -delete`` for the task's ``/scratch/mkowalski/runs``; ``/data/exports/*`` for its
    ``/data/exports/2023``): the folder or pattern, and the named path."""
    trusted_text = provenance.trusted_text if provenance is not None else ""
    named = [m.group(1).rstrip("./") for m in _ABSOLUTE.finditer(trusted_text)] if "/" in trusted_text else []
    for path in (p.rstrip("/") for p in deleted if p.startswith("/") and p.strip("/")):
        globbed = "*" in path or "?" in path
        if globbed and re.search(re.escape(path) + r"(?![\w/*?.-])", trusted_text):
            continue  # the user's own pattern, written whole (``/tmp/kilnlog-*``)
        if _asked_to_delete(path, provenance):
            continue  # the folder the user asked to delete itself, whatever a listing of it shows inside
        for given in named:
            if given.startswith(path + "/") or (globbed and _wildcard_beside(path, given)):
                return path, given
    return None


_NAMED_PATH = re.compile(r"(?<![\w.:/~-])(~?/[\w.@+-]+(?:/[\w.@+-]+)+)")
_RELATIVE_PATH = re.compile(r"(?<![\w.:/~$-])(?:\./)?([\w@+-][\w.@+-]*(?:/[\w.@+-]+)+)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_HOME = re.compile(r"^(/home/[^/]+|/Users/[^/]+|/root)(?=/|$)")  # a home folder, as ``~``
TEMPORARY = re.compile(r"(^|/)(tmp|temp|scratch|\.?cache|_tmp|\.tmp)(/|$)", re.I)  # a scratch place


def deleted_outside_named(deleted: list[str], provenance: Any) -> tuple[str, str] | None:
    """A path a delete removes outside every path the task named (``rm -rf ~/app/backups`` when the task
    said "clear the cache in ~/app/cache/thumbs"; ``find /srv/projects -name '*.bak' -delete`` for its
    ``/srv/projects/2024/_tmp``): the user said where to delete, and this is elsewhere. Temporary folders
    (tmp, cache, scratch) and relative paths are left out. Only the paths of a sentence that asks for the
    delete count ("Complete the task in /instruction/task.md" names a file to read, not where to delete).
    A task that names what to delete by its words and fences the rest in ("delete the proxy media … Keep
    everything else") is read by :func:`_beside_the_object`. The path and the first named one, or None."""
    trusted_text = provenance.trusted_text if provenance is not None else ""
    if not trusted_text:
        return None
    verbs = [w.lower() for w in provenance.intent.implied.get(Capability.DELETE, ())]
    if "/" not in trusted_text:
        return (
            _wildcard_past_named(deleted, trusted_text)
            or _beside_the_object(deleted, trusted_text, verbs)
            or _above_the_object(deleted, provenance)
        )
    asking = [s for s in _SENTENCE.split(trusted_text) if "/" in s and any(v in s.lower() for v in verbs)]
    named = [_HOME.sub("~", p.rstrip("./")) for s in asking for p in _NAMED_PATH.findall(s)]
    # a folder the user named relative to where the work is (``./build/tmp``): wherever the line went first
    relative = ["/" + p.rstrip("./") for s in asking for p in _RELATIVE_PATH.findall(s)]
    if not named and not relative:
        return _wildcard_past_named(deleted, trusted_text) or _beside_the_object(deleted, trusted_text, verbs)
    for path in deleted:
        folder = posixpath.dirname(path) if any(c in path.rsplit("/", 1)[-1] for c in "*?[") else path
        folder = _HOME.sub("~", posixpath.normpath(folder)) if folder.startswith(("/", "~/")) else ""
        if not folder or TEMPORARY.search(folder) or (folder.count("/") < 2 and not folder.startswith("~")):
            continue  # (``/data``, ``/tmp/x``: a top folder or a scratch place)
        if not any(folder == n or folder.startswith(n + "/") for n in named) and not any(
            folder.endswith(r) or r + "/" in folder for r in relative
        ):
            if _named_by_its_name(folder, asking):
                continue  # ("… and 2023-01 to 2023-10": the dated folder the sentence names)
            return path, (named or [r.lstrip("/") for r in relative])[0]
    return None


# the user fenced the delete in: "Keep everything else", "leave the rest alone", "don't touch anything else"
_KEEP_THE_REST = re.compile(
    r"(?i)\b(?:keep|leave)\s+(?:everything|all|anything)\s+else\b|\b(?:keep|leave)\s+the\s+rest\b"
    r"|\bdon'?t\s+touch\s+anything\s+else\b|\bdo\s+not\s+touch\s+anything\s+else\b"
)


def _named_by_its_name(folder: str, sentences: list[str]) -> bool:
    """A folder whose own name, with a digit in it (a date, a number), the asking sentences name whole."""
    name = posixpath.basename(folder)
    return any(c.isdigit() for c in name) and any(
        re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", s) for s in sentences
    )


# what a task names one of a series by: a year, or a code with digits ("BT-2019", "Q3")
_ONE_OF_SERIES = re.compile(r"\b(?:19|20)\d{2}\b|\b[A-Z]{1,4}-?\d{2,}\b")


def _wildcard_past_named(deleted: list[str], task: str) -> tuple[str, str] | None:
    """A folder level deleted by a wildcard (``…/bons_travail/*/photos``) when the task named the one it
    meant by a year or a code ("the 2019 photos") that the path does not hold: every sibling goes too."""
    wanted = _ONE_OF_SERIES.findall(task)
    if not wanted:
        return None
    for path in deleted:
        parts = path.rstrip("/").split("/")
        inner = [part for part in parts[:-1] if part == "*"]  # a level above what is deleted
        if inner and not any(w.lower() in path.lower() for w in wanted):
            return path, wanted[0]
    return None


def _beside_the_object(deleted: list[str], task: str, verbs: list[str]) -> tuple[str, str] | None:
    """In a task that asks to delete one thing by its words ("delete the proxy media … Keep everything
    else", "clear out the render cache"), a deleted folder or file whose name shares no word with the
    sentence that asks (``OCF`` beside ``PROXIES``): the path, and what the task asked to delete."""
    if len(deleted) < 2:
        return None
    asking = next((s for s in _SENTENCE.split(task) if any(v in s.lower() for v in verbs)), "")
    stems = {w[:4] for w in re.findall(r"[a-z]{3,}", asking.lower())}
    # (a name pattern's folder: ``/mnt/san/render_cache/*.exr`` is a delete in ``render_cache``)
    folders = [posixpath.dirname(p) if "*" in posixpath.basename(p) else p.rstrip("/") for p in deleted]
    names = [(p, re.findall(r"[a-z]{3,}", posixpath.basename(p).lower())) for p in dict.fromkeys(folders)]
    if not any(any(w[:4] in stems for w in words) for _, words in names):
        return None  # nothing deleted is named for the asked object: what it is called is unknown here
    # the rest fenced in, or the object named by a name of two words or more ("the render cache" is
    # ``.render-cache``: ``stems`` beside it in the same line was not asked for)
    exact = any(len(words) >= 2 and all(w[:4] in stems for w in words) for _, words in names)
    if not (exact or _KEEP_THE_REST.search(task)):
        return None
    # (the object's own words, when a deleted name holds all of them: ``render_cache`` for "render cache")
    whole = next(
        (
            {w[:4] for w in words}
            for _, words in names
            if len(words) >= 2 and all(w[:4] in stems for w in words)
        ),
        set(),
    )
    for path, words in names:
        # (a cache or scratch folder beside it, ``.parcel-cache``, is rebuilt: nothing is lost)
        if words and not any(w[:4] in stems for w in words) and not _THROWAWAY_WORDS & set(words):
            return path, f"'{asking.strip()[:60]}'"
        # a name with part of the object's words and nothing else the task said (``projects/*/renders``
        # beside ``render_cache``): another thing of a like name
        part = {w[:4] for w in words} & stems
        if whole and part and part < whole and not part - whole and not _THROWAWAY_WORDS & set(words):
            return path, f"'{asking.strip()[:60]}'"
    return None


_THROWAWAY_WORDS = frozenset("cache caches tmp temp scratch".split())
# a name in a task: a capitalised word inside a sentence ("the Delgado v. Morrow audio")
_PROPER_NAME = re.compile(r"(?<=[a-z0-9,] )[A-Z][a-z]{3,}\b")


def _above_the_object(deleted: list[str], provenance: Any) -> tuple[str, str] | None:
    """In a task that fences the rest in ("remove the Delgado v. Morrow audio … keep everything else"), a
    delete of a folder or prefix whose path holds none of the names the task gave the object, when a listing
    the session read showed the object under another name that holds them (``19-0031_Delgado_v_Morrow``):
    the delete takes the object's folder and everything beside it. The path and the listed name."""
    task = provenance.trusted_text
    if not _KEEP_THE_REST.search(task):
        return None
    names = {n.lower() for n in _PROPER_NAME.findall(task)}
    listed = sorted(
        t.split(":", 1)[1]
        for t in provenance.tainted
        if t.startswith(("id:", "path:")) and any(n in t for n in names)
    )
    if not listed:
        return None
    for path in deleted:
        folder = path.endswith("/") or "*" in path or "." not in posixpath.basename(path)
        if folder and not any(n in path.lower() for n in names):
            return path, listed[0]
    return None


def _wildcard_beside(pattern: str, named: str) -> bool:
    """A wildcard where the named path has a name of its own (``/scratch/*/runs`` for the task's
    ``/scratch/mkowalski/runs``): every sibling of that folder is reached too; not a wildcard below it."""
    wanted, given = pattern.rstrip("/").split("/"), named.rstrip("/").split("/")
    first = next(i for i, part in enumerate(wanted) if "*" in part or "?" in part)
    return (
        first < len(given)
        and wanted[:first] == given[:first]
        and fnmatch.fnmatchcase(given[first], wanted[first])
        and not wanted[first].startswith(
            given[first]
        )  # (the task's own ``/tmp/kilnlog-*``, read to its ``*``)
    )


def within_named_paths(paths: list[str], provenance: Any) -> bool:
    """Whether every path lies at or below an absolute path the trusted text named (``/var/lib/jenkins/
    workspace/tmp-*`` when the task said ``/var/lib/jenkins/workspace/``): the user pointed there."""
    trusted_text = provenance.trusted_text if provenance is not None else ""
    named = [m.group(1).rstrip("./") for m in _ABSOLUTE.finditer(trusted_text)]
    named = [path for path in named if path.count("/") >= 2]  # a top folder (``/data``) points nowhere
    normal = [posixpath.normpath(p.rstrip("*")) for p in paths]  # (``workspace/../..`` is above it)
    # (a pattern is pointed at only in a sentence that asks to delete: "copy the cam-east footage … then
    # delete the temp files" asks no clip of cam-east deleted)
    intent = getattr(provenance, "intent", None)  # (a bare text holder has no intent: no pattern asked)
    verbs = [w.lower() for w in intent.implied.get(Capability.DELETE, ())] if intent is not None else []
    sentences = _SENTENCE.split(trusted_text)
    # (… and the sentence before one that points back: "the ones ending in _dup.pdf. Delete just those")
    asking = " ".join(
        f"{sentences[i - 1] if i and _POINTS_BACK.search(s) else ''} {s}"
        for i, s in enumerate(sentences)
        if any(v in s.lower() for v in verbs)
    )
    return bool(normal) and all(
        any(p == n or p.startswith(n + "/") for n in named)
        or _named_by_its_name(p, [trusted_text])
        or _pattern_named(p, asking)
        for p in normal
    )


_POINTS_BACK = re.compile(r"(?i)\b(?:those|these|them|it|that)\b")
# an identifier-like folder name: letters joined by a dash or underscore, or with a digit ("cam-east", "b2")
_IDENTIFIER = re.compile(r"^(?=.*(?:\w[-_]\w|\d))[\w.-]{3,}$")


def _pattern_named(path: str, text: str) -> bool:
    """A pattern of files (``…/exhibits/*_dup.pdf``, ``…/cam-east/2024-08-0[3-5]_*.mp4``) the task pointed
    at: a literal part of the pattern ("_dup.pdf") or the identifier of the folder it lies in ("cam-east")
    is in the task's words. Only patterns: a folder deleted whole is no file the task picked out."""
    folder, name = posixpath.split(path)
    if not any(c in name for c in "*?["):
        return False
    pieces = re.split(r"\[[^\]]*\]|[*?]", name)  # (a bare extension, ".log", picks out no files)
    literal = [piece for piece in pieces if len(piece) >= 4 and not re.fullmatch(r"\.\w+", piece)]
    parent = posixpath.basename(folder)
    return any(piece in text for piece in literal) or bool(
        _IDENTIFIER.match(parent) and re.search(rf"(?<![\w-]){re.escape(parent)}(?![\w-])", text)
    )


# package managers' configuration files: where packages come from, and where the registry token is sent
_REGISTRY_FILE = re.compile(
    r"(^|/)(\.npmrc|\.yarnrc(\.yml)?|pip\.conf|pip\.ini|\.pypirc|settings\.xml|\.gemrc|nuget\.config|"
    r"\.cargo/config(\.toml)?|\.condarc)$"
)


def registry_config(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a write to a package manager's config file (``path: .npmrc``), else nothing."""
    written = any(isinstance(v, str) and _REGISTRY_FILE.search(v) for v in arguments.values())
    return dict(arguments) if written else {}
