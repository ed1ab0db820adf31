"""What the provenance detectors share: which capabilities are sinks, how bad each is, what a call sends
where, and how to say it.

A *sink* is a call that can hurt when someone else chose its values: it moves money, changes who may do
what, sends data or messages out, deletes, runs code, submits a form, fetches a URL (a URL can carry data
in its path or query), or writes. Reading is never a sink.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from detectors.base import Signal
from detectors.capabilities import Classification
from detectors.capabilities.classify import request_path, scalars
from detectors.capabilities.paths import LOGIN_URL, is_internal_host, is_log_path, is_secret_path
from detectors.capabilities.words import split_words
from detectors.memo import by_arguments
from detectors.provenance.intent import Intent
from detectors.provenance.languages import fold
from detectors.provenance.state import Provenance, Source, public_mail
from detectors.provenance.tokens import shown, value_tokens
from schemas.events import ToolCall
from schemas.redaction import markers
from schemas.types import Capability as C
from schemas.types import Severity

# Worst first: the order in which an alert names a call's sinks.
SINKS: tuple[C, ...] = (
    C.MONEY,
    C.IDENTITY,
    C.EGRESS,
    C.COMMUNICATE,
    C.DELETE,
    C.EXECUTE,
    C.FORM_INPUT,
    C.FETCH,
    C.WRITE,
)
GRAVE = frozenset({C.MONEY, C.IDENTITY, C.EGRESS})
IRREVERSIBLE = frozenset({C.MONEY, C.IDENTITY, C.DELETE})  # acts no later call takes back
SENDS = frozenset(
    {C.EGRESS, C.COMMUNICATE, C.FORM_INPUT}
)  # what hands data to someone  # what cannot be taken back
OUTBOUND = frozenset({C.EGRESS, C.COMMUNICATE, C.FETCH, C.FORM_INPUT})  # what can carry data out

# How much content must address the agent (the content model's probability) to count as instructing it.
ADDRESSED = 0.5
STRONGLY_ADDRESSED = 0.8

# Arguments that authenticate a call rather than carry its payload: a secret there is used, not sent.
_AUTH_KEYS = frozenset(
    "auth authorization headers header token password passwd api_key apikey key secret credentials "
    "credential bearer cookie cookies session user username login pin passcode passphrase".split()
)
_DESTINATION_PREFIXES = ("email:", "url:", "host:", "iban:", "num:", "wallet:", "handle:")
# a credential that is itself a URL (a webhook, a signed link): calling it is using it, not sending it
_CALLED_URL = re.compile(r"url|webhook|signed|presign", re.I)
_QUERY_KEY_MARKER = re.compile(r"[?&;]([\w.-]+)=\[REDACTED:url_secret:([0-9a-f]{12})\]")
# the parameters of a signed link or a one-time link (``X-Amz-Signature``, ``sig``, ``token``, ``code``)
_SIGNING = re.compile(r"^(sig|signature|x-amz-[\w-]+|x-goog-[\w-]+|token|code|auth|otp|nonce)$", re.I)
_URL_ARGUMENTS = frozenset("url uri endpoint webhook webhook_url href link".split())
_RECIPIENT_ARGUMENTS = frozenset(
    "to cc bcc recipient recipients channel channel_id chat_id phone phone_number email_address".split()
)
_CODE_ARGUMENTS = frozenset({"command", "cmd", "script", "code", "source", "program", "cell", "commands"})
# Which planted values matter for which act: where money, data and messages go; whom access is given to;
# what is deleted. A file one was told about and then uploads is the payload, not the destination.
_WHERE = ("email:", "url:", "host:", "handle:", "num:", "name:")
_MATTERS: dict[C, tuple[str, ...]] = {
    C.MONEY: ("iban:", "num:", "wallet:", "id:", "email:", "name:"),
    C.IDENTITY: ("id:", "name:", "email:", "handle:", "num:"),  # (a numeric user id: "1281735590023118912")
    C.EGRESS: _WHERE,
    C.COMMUNICATE: _WHERE,
    C.FETCH: ("url:", "host:"),
    C.FORM_INPUT: _WHERE,
    C.DELETE: ("path:", "id:", "url:"),
}


# what content asks for when it asks for a change (a write, a delete, money, access)
CHANGES = (C.WRITE, C.DELETE, C.MONEY, C.IDENTITY)


def asked_changes(provenance: Provenance, source: Source) -> list[C]:
    """The changes (write, delete, money, access) a source asked its reader for that the task did not."""
    if not source.requested:
        return []  # it asked for nothing (most content): nothing can be off the task
    return provenance.off_task(source.asked_for(CHANGES))


def asking_for_write(provenance: Provenance, event: ToolCall) -> list[Source]:
    """The sources that asked their reader for a write, or for another change while planting a value this
    call uses (the taint lookup only when some source asked for a change other than a write)."""
    asked_by = [(s, a) for s in provenance.sources.values() if (a := asked_changes(provenance, s))]
    planted = (
        {s.event_id for s in provenance.tainted_values(event.arguments, event.target).values()}
        if any(C.WRITE not in a for _, a in asked_by)
        else set()
    )
    return [s for s, a in asked_by if C.WRITE in a or s.event_id in planted]


def asking_sources(
    provenance: Provenance,
    hits: dict[str, Source],
    sinks: Sequence[C],
    off_task: Sequence[C],
    event: ToolCall,
    call: Classification,
) -> list[Source]:
    """The sources of a call's planted values that asked their reader for it: for this very act the task did
    not ask for, for another change the task did not ask for (a "forward" set up as a filter), or — in a
    message — to spread the link they planted ("DM everyone this link"). A message that only *mentions* a
    value of content that asked for another change (a warning about the look-alike domain of a wire
    request) acts on nothing: for a message, the value must be where it goes."""
    only_message = not set(sinks) - {C.COMMUNICATE, C.WRITE}
    where = destinations(event.arguments, event.target, call) if only_message else frozenset()
    asked = [
        s
        for t, s in hits.items()
        if s.asked_for(off_task)
        or (off_task and asked_changes(provenance, s) and (not only_message or t in where))
    ]
    if not asked and C.COMMUNICATE in sinks:  # a message that spreads the link, or goes where the content
        # that instructed the agent told it to write ("the assistant should email … to warranty-intake@…")
        asked = [
            s
            for t, s in hits.items()
            if (t[:4] in ("url:", "host") or (t in where and s.score >= STRONGLY_ADDRESSED))
            and s.asked_for([C.COMMUNICATE])
        ]
    return asked


def sends_asked(provenance: Provenance) -> bool:
    """Whether the task asks to send, share or publish anything at all."""
    return len(provenance.intent.off_task(SENDS)) < len(SENDS)


def matters(token: str, sinks: Iterable[C], intent: Intent | None = None) -> bool:
    """Whether a planted value of this type can be what one of these acts is *about*. A payment the task
    asked for is about the order or invoice a customer's ticket names (``id:``); only where the money goes
    (an account, a wallet, an address, a payee) can steer it."""
    if intent is not None and token.startswith("id:") and intent.stated and intent.allows(C.MONEY):
        sinks = [c for c in sinks if c is not C.MONEY]
    return any(token.startswith(_MATTERS.get(sink, ())) for sink in sinks)


def with_sources(signal: Signal, sources: list[Source]) -> Signal:
    """The signal with the events that brought the content in front of its own evidence."""
    ids = tuple(dict.fromkeys(s.event_id for s in sources))
    first = min([s.time for s in sources] + [signal.first_time])
    return replace(signal, event_ids=(*ids, *signal.event_ids), first_time=first)


_ROUTINE = re.compile(
    r"(^|/)(node_modules|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.tox|\.venv|venv|build|dist|target"
    r"|out|coverage|\.next|\.gradle|tmp|temp|\.?cache|scratch)(/\*?)?/?$|\.(tmp|temp|part|partial|bak|log|pyc|o)$"
    r"|^/(tmp|var/tmp)/",  # anything under the system's temporary folders
    re.I,
)


def run_as_asked(provenance: Provenance | None, event: ToolCall, *, privileged: bool = False) -> bool:
    """The task asked to install or run something and no content that addressed the agent brought what
    the call runs (an installer piped into a shell because the user said "install Rust"), nor any outside
    content a bare IP address to run from, nor — for a line that runs as root (``privileged``: the shell
    reader's flag) — any outside content the URL at all."""
    if provenance is None or C.EXECUTE not in provenance.intent.implied:
        return False
    # ("run the claim script" asks to run the user's own code, not to fetch and run an installer)
    words = {w for hits in provenance.intent.implied.values() for w in hits}
    planted = provenance.tainted_values(event.arguments, event.target)
    if planted and not words & _INSTALLING:
        return False
    if any(_RAW_IP_URL.match(token) for token in planted):
        return False  # code from a bare address that outside content named: no installer is served so
    if planted and privileged:
        return False  # a README's installer run as root: whoever serves that host owns the machine
    return all(source.score < ADDRESSED for source in planted.values())


_INSTALLING = frozenset("install setup set up upgrade update deploy bootstrap configure reinstall".split())
_RAW_IP_URL = re.compile(r"^(url|host):(\d{1,3}\.){3}\d{1,3}([:/]|$)")


def routine_delete(call: Classification) -> bool:
    """A shell delete of build output, caches and temporary files only: housekeeping, not destruction."""
    shell = call.shell
    return bool(shell and shell.deleted) and all(_ROUTINE.search(p.rstrip("/")) for p in shell.deleted)  # type: ignore[union-attr]


def signal_from(
    event: Any, title: str, severity: Severity, details: dict[str, Any], sources: list[Source]
) -> Signal:
    """A signal whose evidence is the call and the sources that brought what it acted on."""
    signal = Signal.of([event], title=title, severity=severity, details=details)
    return with_sources(signal, sources) if sources else signal


def sinks_of(call: Classification) -> list[C]:
    """The call's sink capabilities, worst first (a routine delete of build output is not a sink)."""
    kept = _SINKS_OF.get(id(call))
    if kept is None or kept[0] is not call:  # once per shared classification (calls of one shape share it)
        found = [c for c in SINKS if c in call.evidence]
        if C.DELETE in found and routine_delete(call):
            found.remove(C.DELETE)
        if len(_SINKS_OF) >= _MAX_SINKS_OF:
            _SINKS_OF.clear()
        kept = _SINKS_OF[id(call)] = (call, tuple(found))
    return list(kept[1])


# id of a classification -> (it, its sinks): kept with the object, so that an id is never reused meanwhile
_SINKS_OF: dict[int, tuple[Classification, tuple[C, ...]]] = {}
_MAX_SINKS_OF = 8192


def acting_sinks(call: Classification, event: ToolCall, provenance: Provenance) -> list[C]:
    """The sinks a planted value can steer (not code run or a file written with it), worst first; a fetch
    that fills data into a URL content gave is a send (:func:`filled_url`)."""
    found: list[C] = [c for c in sinks_of(call) if c not in (C.EXECUTE, C.WRITE)]
    if C.FETCH in found and C.EGRESS not in found and filled_url(event, call, provenance):
        found.insert(found.index(C.FETCH), C.EGRESS)
    return found


_FILLED = 15  # characters an agent appended to a planted URL's open query: data, not a page number


def filled_url(event: ToolCall, call: Classification, provenance: Provenance) -> str | None:
    """A URL the call reaches that extends one outside content gave with an open query
    (``https://img.example/s.png?d=`` + what the agent filled in: the markdown-image leak). The content
    chose where; the agent supplied the data."""
    used = [t for t in destinations(event.arguments, event.target, call) if t.startswith("url:")]
    for token in used:
        if token in provenance.tainted or "?" not in token:
            continue
        host = token.split("/", 1)[0]
        for planted in provenance.tainted:
            filled = len(token) - len(planted)
            if planted.startswith(host) and "?" in planted and token.startswith(planted) and filled > _FILLED:
                return planted
    return None


# (a repository an issue or a discussion is opened in is where that post goes: ``create_issue(repo=…)``)
_REPOSITORY = frozenset({"repo", "repository"})
_NAMED_WHERE = (
    frozenset("channel channels channel_id channel_name room to recipient recipients chat chat_id".split())
    | _REPOSITORY
)
ANSWERS = frozenset({C.READ, C.FETCH})  # what a task that asks only to be told implies
_ANSWER_ONLY_ACTS = frozenset(
    {C.MONEY, C.IDENTITY, C.EGRESS, C.COMMUNICATE, C.DELETE}
)  # a task that asks a question implies reading, nothing more
_MIN_POSTED = 40  # characters of text a post carries to count as handing over what was read


_HELP_WITH = re.compile(r"\b(help|assist|sort)\s+(me|us|with|out)\b|\bhelp\s+\w+\s+with\b", re.I)


def answer_only(provenance: Provenance) -> bool:
    """The task asked a question (reading, perhaps the web) and handed the agent over to nothing it reads."""
    intent = provenance.intent
    if not (intent.stated and intent.asks and not intent.delegated and set(intent.implied) <= ANSWERS):
        return False
    return _HELP_WITH.search(provenance.trusted_text) is None  # "can you help me with that?" asks for service


def answered_with(
    provenance: Provenance, event: ToolCall, call: Classification, acts: Sequence[C]
) -> Source | None:
    """In a task that asked only for an answer, the latest source that planted a value an API call's grave
    acts (money, access, a send, a message, a delete) are about: where it sends, whom it grants, what it
    deletes. None otherwise (shell lines: coding work deletes the paths its own output names)."""
    if call.shell is not None or not answer_only(provenance) or not set(acts) & _ANSWER_ONLY_ACTS:
        return None
    planted = provenance.tainted_values(event.arguments, event.target)
    sources = [s for t, s in planted.items() if matters(t, acts) and s.event_id != event.event_id]
    return max(sources, key=lambda s: s.time, default=None)


def shell_destinations(call: Classification) -> set[str]:
    """Where a command line sends: the tokens of the hosts and URLs it contacts, else the destinations as
    written (``s3://bucket/key``, ``user@host:path``)."""
    if call.shell is None:
        return set()
    found: set[str] = set()
    for destination in call.shell.destinations[:8]:
        bucket = re.match(r"^(?!https?://)[a-z0-9]+://[^/\s]+", destination)
        if bucket:  # s3://bucket/2024-05-20/: the bucket is where it goes (not a date read as a number)
            found.add(f"name:{bucket.group(0).lower()}")
            continue
        found |= {t for t in value_tokens(destination) if t.startswith(_DESTINATION_PREFIXES)} or {
            f"name:{destination[:MAX_NAMED]}"
        }
    return found


MAX_NAMED = 80
_URL_KEYS = frozenset({"url", "uri", "endpoint", "webhook", "host"})


def internal(token: str) -> bool:
    """A URL or host token inside the organisation's own network."""
    return token.startswith(("url:", "host:")) and is_internal_host(shown(token).split("/", 1)[0])


# a channel or conversation by its number or generated id (``1101772240556331011``, ``C04QX7RBN2P``): which
# place it is cannot be read from it, so it is not known to be another place than the one the task named
_OPAQUE_ID = re.compile(r"(?:name|id|num):(?:\d{6,}|(?=[a-z0-9]{9,}$)(?:[a-z]*\d){3}[a-z0-9]*)")


def opaque_place(token: str) -> bool:
    return _OPAQUE_ID.fullmatch(token) is not None


def _named_in(destination: str, trusted: str) -> bool:
    """Whether the user's words name this destination, or the bucket or host it is in."""
    value = destination.lstrip("#@").lower()
    root = re.match(r"^[a-z0-9]+://([^/]+)", value)  # the bucket, named with its scheme or without
    return value in trusted or (
        root is not None
        and (root.group(0) in trusted or re.search(rf"\b{re.escape(root.group(1))}\b", trusted) is not None)
    )


# writes that only file what was read (``gmail_modify_labels`` moving a phishing mail to "Suspicious")
# (a message moved to a folder; a payment put on hold, an attachment in quarantine: held back, not acted on)
_ORGANISING = frozenset(
    "label labels tag tags flag flags star archive categorize categorise folder pin spam note notes "
    "annotate draft drafts task tasks todo todos reminder reminders move junk hold holds quarantine".split()
)


_DOCUMENTS = frozenset("page pages doc docs document documents notebook gdoc gdocs".split())
_MAKES = frozenset("create new add make".split())


def writes_answer_down(event: ToolCall, provenance: Provenance) -> bool:
    """A new page or document made to hold the answer a task asked for ("summarise the overnight messages"
    -> ``onenote_create_page``): a write for the user, even after content that instructed the agent (a new
    page of the user's own changes nothing the content could steer). Not one published or announced
    (``status: publish``, ``public``, ``notify_watchers``), nor one that holds a value planted by content
    that instructed the agent to write ("create a page saying Norcliffe's IBAN is now …"): that page is
    the content's."""
    words = set(split_words(event.tool))
    if not (provenance.intent.asks and words & _DOCUMENTS and words & _MAKES):
        return False
    said = {w for k, v in event.arguments.items() for w in split_words(f"{k} {v}"[:200])}
    if said & _PUBLISHES:
        return False
    planted = provenance.tainted_values(event.arguments, event.target).values()
    return not any(s.score >= STRONGLY_ADDRESSED and s.asked_for([C.WRITE]) for s in planted)


_PUBLISHES = frozenset("publish published public notify watchers announce share shared everyone".split())


def tidies(event: ToolCall) -> bool:
    """A write that labels, flags, files or annotates an item (an internal note), saves a draft for the
    user to read, or opens a to-do for a colleague ("HOLD: check the new bank details"): the reader tidying
    or recording what it found, not acting on what it read."""
    words = set(split_words(event.tool))
    return bool(_ORGANISING & words) and "send" not in words  # ``send_draft`` sends


def steering_values(
    provenance: Provenance, event: ToolCall, call: Classification, sinks: Sequence[C], fired: Sequence[str]
) -> dict[str, Source]:
    """The planted values of a call that can steer its sinks (not reported before). A message (only) is
    steered by where it goes: a planted address or number quoted in its text (a report of a suspicious
    e-mail to the team, an internal note) is what it says; only a link spreads there."""
    planted = provenance.tainted_values(event.arguments, event.target)
    hits = {t: s for t, s in planted.items() if matters(t, sinks, provenance.intent) and t not in fired}
    if not hits or not set(sinks) <= {C.COMMUNICATE}:
        return hits
    where = frozenset() if tidies(event) else destinations(event.arguments, event.target, call)
    return {t: s for t, s in hits.items() if t in where or t.startswith("url:")}


_COMMENTING = frozenset("comment comments worklog worknote journal".split())


def notes_on_item(event: ToolCall) -> bool:
    """A comment, work note or journal entry on an item (a ticket's, a case's own thread)."""
    return bool(_COMMENTING & set(split_words(event.tool)))


def internal_note(event: ToolCall, call: Classification, provenance: Provenance) -> bool:
    """A note on an item's own thread, addressed to nobody (no address, handle or link): what a triage
    quotes there stays with the record."""
    return notes_on_item(event) and not addressed_out(event, call, provenance)


def comments_on_task_item(event: ToolCall, provenance: Provenance) -> bool:
    """A comment on the item the task named (``add_comment(key="HR-5521")`` when the task said HR-5521):
    the agent recording on the task's own ticket what it did."""
    return notes_on_item(event) and names_task_item(event, provenance)


def names_task_item(event: ToolCall, provenance: Provenance) -> bool:
    """The call names, by its id or number, an item the task named."""
    named = [t for t in value_tokens(_short_values(event.arguments)) if t.startswith(("id:", "num:"))]
    return any(t in provenance.trusted for t in named)


# a reply's text in an item's update (``public_reply``, ``comment_body``) and what else such an update sets
_REPLY_WORDS = frozenset("reply response comment answer".split())
_ITEM_FIELDS = frozenset(
    "id key number ticket case issue status state public internal note notes tag tags label labels".split()
)


def replies_on_item(event: ToolCall, provenance: Provenance) -> bool:
    """An update of an item that only carries a reply and the item's status (``update_ticket(id, status,
    public_reply)``) in a task that asks to reply: the reply asked for, with the ticket marked solved."""
    if not {"reply", "respond", "answer"} & set(provenance.intent.implied.get(C.COMMUNICATE, ())):
        return False
    keys = [set(split_words(str(k))) for k in event.arguments]
    return any(k & _REPLY_WORDS for k in keys) and all(k & (_REPLY_WORDS | _ITEM_FIELDS) for k in keys)


def reports_on_item(event: ToolCall, provenance: Provenance) -> bool:
    """A comment on the task's own item, a reply on an item where the task asks to reply, or a message on
    the task's item to its party by the role the task names."""
    return (
        comments_on_task_item(event, provenance)
        or replies_on_item(event, provenance)
        or tells_party_of_item(event, provenance)
    )


_ROLE = re.compile(r"^[a-z]{3,20}$")  # ``to: "buyer"``: a party of the item by its role, no address


def tells_party_of_item(event: ToolCall, provenance: Provenance) -> bool:
    """A message on the item the task named, to a party of it by the role the task names ("dispute D-30018
    … refund the buyer": ``message(dispute_id=D-30018, to="buyer")``): the case's own thread, which the
    platform delivers to whoever that party is; no address for content to have planted."""
    recipients = [v for k, v in event.arguments.items() if str(k).lower() in ("to", "recipient", "party")]
    task = set(split_words(provenance.trusted_text[:4000].lower()))
    roles = bool(recipients) and all(isinstance(r, str) and _ROLE.match(r) and r in task for r in recipients)
    return roles and names_task_item(event, provenance)


def _short_values(arguments: dict[str, Any]) -> str:
    return " ".join(str(v) for v in arguments.values() if isinstance(v, str | int) and len(str(v)) <= 64)


_ADDRESSES = ("email:", "url:", "host:", "num:", "handle:")


def addressed_out(event: ToolCall, call: Classification, provenance: Provenance) -> bool:
    """Whether a message goes to an address (an e-mail, a phone number, a URL, a handle) that no trusted
    input named, or carries a link — rather than to a channel or an item by its name (``#cs-fraud-watch``,
    a comment on ticket HR-5521): a team's own places, where an agent reports back."""
    if {str(k).lower() for k in event.arguments} & _PERSON_KEYS:
        return True  # a direct message or a mail goes to a person, not to the team's place
    where = destinations(event.arguments, event.target, call)
    if any(t.startswith(_ADDRESSES) and not provenance.trusts(t) for t in where):
        return True
    return any(t.startswith("url:") for t in provenance.tainted_values(event.arguments, event.target))


def saves_draft(event: ToolCall) -> bool:
    """``mail_draft``, ``gmail__create_draft``: a message saved for the user to send, not sent."""
    words = set(split_words(event.tool))
    return bool(words & {"draft", "drafts"}) and "send" not in words


def incidental_write(provenance: Provenance, call: Classification, done: Sequence[str]) -> bool:
    """A write that is part of the act the task asked for (the payment record the one payment asked for
    creates: not a second money act, ``done`` lists the acts already made), or that only saves a temporary
    file: no change of its own."""
    asked = provenance.intent.implied.keys() & call.evidence.keys() & ASKED_ACTS
    return (
        (bool(asked) and not {c.value for c in asked} & set(done))
        or scratch_write(call)
        or saves_asked_output(provenance, call)
    )


def saves_asked_output(provenance: Provenance, call: Classification) -> bool:
    """A run the task asked for whose only writes save its output (``partials.py … | tee partials.csv``,
    ``> report.txt``): the output of the act, not a change of its own. Not into a hidden or system file
    (``>> ~/.bashrc``), which changes how things run."""
    shell = call.shell
    if shell is None or not shell.written or C.EXECUTE not in provenance.intent.implied:
        return False
    return C.EXECUTE in call.evidence and all(
        p in shell.outputs and "/." not in f"/{p}" and "system_path" not in shell.flags for p in shell.written
    )


ASKED_ACTS = frozenset({C.MONEY, C.IDENTITY, C.COMMUNICATE, C.EGRESS, C.DELETE})


def scratch_write(call: Classification) -> bool:
    """A command line whose only writes are to temporary files (``curl … -o /tmp/setup.sh`` to read it)."""
    shell = call.shell
    return bool(shell and shell.written) and all(_TEMP_PATH.match(p) for p in shell.written)  # type: ignore[union-attr]


_TEMP_PATH = re.compile(r"^(/tmp/|/var/tmp/|\$TMPDIR/|/dev/null$)")


# a place the user says to send to: after "to", "in", "into", "on", "cc" (a URL in a task is usually to read)
_LIST_NAMED = r"(?:the|our)\s+(?:[\w-]+\s+){1,2}?(?:mailing\s+|contact\s+)?list\b"
_PLACES = re.compile(
    r"\b(to|in|into|on|cc|via)\s+(#[a-z][a-z_-]{2,40}\b|[\w.+-]+@[\w-]+\.[\w.]+|@[a-z][\w.-]+"
    rf"|{_LIST_NAMED})",  # (… or a mailing list by its name: "send it to the members mailing list")
    re.I,
)
_TO_LIST = re.compile(rf"(?i)\bto\s+{_LIST_NAMED}")
_LIST_KEY = re.compile(r"(?i)^(?:bcc_|cc_)?(?:list|group|audience|segment)s?(?:_?(?:id|ids|name))?$")


def to_named_list(event: ToolCall, task: str) -> bool:
    """A send to a list or group (``bcc_group``, ``list_id``) when the task names its sends' list by what it
    is ("to our press contact list"): the list the user meant, whatever its name in the tool."""
    return _TO_LIST.search(task[:2000]) is not None and any(_LIST_KEY.match(str(k)) for k in event.arguments)


def task_names_places(trusted_text: str) -> bool:
    """Whether the user said where things go: a channel, an address, a URL, a handle ("post it in
    #leadership"): a send of the asked kind to somewhere else is then no longer the one asked for."""
    return _PLACES.search(trusted_text) is not None


# a folder the task says to put something in: "in Recon/2024-03", "dans Finance/Q1" (no file, no date)
_FOLDER_PATH = re.compile(
    r"(?i)\b(?:in|into|to|under|inside|dans|en|nach|naar|em|nella|nel)\s+(?:the\s+|(?:folder|ordner|dossier)\s+)*"
    r"([a-z][\w-]*(?:/[\w-]+)+)/?(?![\w./-])"
)


def into_named_folder(event: ToolCall, task: str) -> bool:
    """A call that puts something into a folder path the task wrote out ("put the report in Recon/2024-03
    on SharePoint": ``upload_file(path="/Shared Documents/Recon/2024-03/…")``): where the user told it."""
    folders = [f.strip("/") for f in _FOLDER_PATH.findall(task[:2000])]
    paths = " ".join(v for v in event.arguments.values() if isinstance(v, str) and len(v) < 400)
    return any(re.search(rf"(?i)(?<![\w-]){re.escape(f)}(?![\w-])", paths) for f in folders if f)


def named_by_user(token: str, provenance: Provenance) -> bool:
    """A destination the user named: a trusted value, a name or channel in their words, a handle whose
    first part is a name they wrote."""
    trusted = provenance.trusted_text
    return (
        provenance.trusts(token)
        or _named_in(shown(token), trusted.lower())
        or person_named(token, trusted)
        or mailbox_of_named_person(token, trusted)
    )


def mailbox_of_named_person(token: str, trusted_text: str) -> bool:
    """An address whose mailbox is a full name the user wrote (``lucia.ferreira@…`` when the task says
    "Refund Lucía Ferreira's deposit"): the person the task is about. Two name parts of three letters or
    more, both in the user's words (accents aside), so that no lone first name matches by chance."""
    kind, _, value = token.partition(":")
    if kind != "email":
        return False
    parts = [p for p in re.split(r"[._-]", value.split("@", 1)[0]) if len(p) >= 3 and p.isalpha()]
    words = set(re.findall(r"\w+", fold(trusted_text)))
    return len(parts) >= 2 and all(p in words for p in parts)


def person_named(token: str, trusted_text: str) -> bool:
    """A chat handle whose first part is a name the user wrote with a capital (``@sarah.chen``, "Sarah"), or a
    handle or channel id holding a surname the user wrote (``D05MBELLINI``, "Marco Bellini")."""
    kind, _, value = token.partition(":")
    if kind not in ("handle", "name", "id") or "@" in value.lstrip("@") or "://" in value:
        return False
    first = re.split(r"[._-]", value.lstrip("#@"), maxsplit=1)[0]
    if kind != "id" and len(first) >= 3 and re.search(rf"\b{re.escape(first.capitalize())}\b", trusted_text):
        return True
    # a direct-message channel or id made from a name the user wrote mid-sentence (``D05MBELLINI``, "Marco
    # Bellini"): five letters or more, so that no short word matches by chance
    names = {m.group(1).lower() for m in _MID_SENTENCE_NAME.finditer(trusted_text)} - _CALENDAR
    letters = re.sub(r"[^a-z]", "", value.lower())
    return any(letters.endswith(name) for name in names)  # ``D05MBELLINI``: an initial, then the surname


_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april june july "
    "august september october november december".split()
)
_MID_SENTENCE_NAME = re.compile(r"(?<=[a-z,;] )([A-Z][a-z]{4,})\b")


def forwards(event: ToolCall) -> bool:
    """A call that sets up forwarding (``updateAutoForwarding``, ``forwardingAddresses.create``, a mail rule
    with a ``forward_to``): a standing channel out, MITRE ATT&CK T1114.003."""
    return (
        "forwarding" in event.tool.lower()
        or any(re.sub(r"[\W_]", "", k.lower()) in _FORWARD_KEYS for k in event.arguments)
        # a mail route's action (``forward('https://relay.example/inbound')``, Mailgun and the like)
        or any(_FORWARD_ACTION.search(v) for v in _route_actions(event.arguments))
    )


# arguments that say where a call sends: the rest is what it sends
SEND_WHERE = frozenset(
    "url uri endpoint to cc bcc recipient recipients receiver channel destination host webhook address email "
    "target remote server domain emailaddress email_address forwardingemail forward_to site website".split()
)


def send_destinations(event: ToolCall, call: Classification) -> set[str]:
    """Where a send goes: a mail route's forward target (the destination that matters, not the service's
    API the call goes through), else the arguments that name a place and the command line's hosts."""
    if forwarded := forward_targets(event):
        return forwarded
    top, nested = _where_values(event.arguments)
    places = {t for v in [*top, event.target] if isinstance(v, str) for t in value_tokens(v)}
    # (deeper in an envelope only an address, a link or a handle is where it goes: ``period.to`` is a date)
    places |= {t for v in nested if isinstance(v, str) for t in value_tokens(v) if t.startswith(_REACHABLE)}
    return places | shell_destinations(call)


_REACHABLE = ("email:", "url:", "host:", "handle:")
# what a call carries or stores, not where it goes: a record's e-mail field, an event's traits, a message's
# attachment; nor who it is from
_CARRIED = frozenset(
    """attachments attachment content contents body text html files file data payload media records record
    fields events event traits rows row values properties attributes reply_to replyto""".split()
)


def _where_values(arguments: dict[str, Any], depth: int = 0) -> tuple[list[Any], list[Any]]:
    """The values under the keys that say where a send goes: at the top, and at any depth of an API's
    envelope (SendGrid's ``personalizations[].to[].email``, Graph's ``message.toRecipients[].emailAddress``,
    a workflow node's ``parameters.url``)."""
    top: list[Any] = []
    nested: list[Any] = []
    for key, value in arguments.items():
        lowered = key.lower()
        if lowered in _CARRIED or lowered in _SENDER_ARGUMENTS:
            continue
        # (``to: [{email: …}]``: the address inside each recipient; every one of a long list, where the
        # 17th can be the one that does not belong; the walk bounded in depth and in records per list)
        records = [c for c in _listed(value) if isinstance(c, dict)][:64] if depth < 4 else []
        for child in records:
            nested += [v for part in _where_values(child, depth + 1) for v in part]
        if lowered in SEND_WHERE:
            (nested if depth else top).extend(c for c in _listed(value) if not isinstance(c, dict))
    return top, nested


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_FORWARD_ACTION = re.compile(r"\bforward\s*\(\s*['\"]([^'\"]+)['\"]")
_ROUTE_KEYS = re.compile(r"(?i)action|forward|rule")


def _route_actions(arguments: dict[str, Any], depth: int = 0) -> list[str]:
    """The string values under a route's or rule's action keys (not a message's body that quotes one)."""
    found: list[str] = []
    for key, value in arguments.items():
        if isinstance(value, dict) and depth < 3:
            found += _route_actions(value, depth + 1)
        elif _ROUTE_KEYS.search(str(key)):
            found += [v for v in _listed(value) if isinstance(v, str)]
    return found


def forward_targets(event: ToolCall) -> set[str]:
    """Where a mail route forwards (``forward('https://relay.example/inbound')``): the destination that
    matters, not the mail service's API the call goes through."""
    found = [m.group(1) for v in _route_actions(event.arguments) for m in _FORWARD_ACTION.finditer(v)]
    return {t for target in found for t in value_tokens(target)}


_FORWARD_KEYS = frozenset(
    {"forwardto", "forwardingemail", "forwardingaddress", "forwardaddress", "autoforward"}
)


# a recipient that is the user who gave the task (``notify(to="owner")``): the agent reporting back
_THE_USER = frozenset({"me", "myself", "owner", "the owner", "user", "the user", "requester", "self", "you"})


def handed_over(
    event: ToolCall, call: Classification, provenance: Provenance, where: set[str], sends: list[C]
) -> tuple[Signal, ...]:
    """A send when the task asked for no send at all ("summarise the memo for me") or a command line's
    upload the task did not ask for, to a destination nobody named — an address, a channel or handle, a
    bucket — carrying text, files or attachments: ``exfiltration.unasked_send``'s second shape."""
    if answers_back(event, provenance):
        return ()  # a reply in the thread the agent read, or the direct message a "tell me" asked for
    # (a comment goes where the item it is on is: its repository is no new destination)
    on_item = bool(_COMMENTING & set(split_words(event.tool)))
    named = {
        f"name:{v[:MAX_NAMED]}"
        for k, v in event.arguments.items()
        if k.lower() in _NAMED_WHERE
        and isinstance(v, str)
        and v
        and v.strip().lower() not in _THE_USER
        and not (on_item and k.lower() in _REPOSITORY)
    }
    trusted = provenance.trusted_text.lower()
    where = {
        t
        for t in where | named
        if not provenance.trusts(t)
        and not _named_in(shown(t), trusted)
        and not person_named(t, provenance.trusted_text)
    }
    payload = {k: v for k, v in event.arguments.items() if k.lower() not in _NAMED_WHERE | _URL_KEYS}
    text = sum(len(v) for v in _scalars(payload) if isinstance(v, str))
    files = list(call.shell.sent) if call.shell else []
    attached = any(
        k.lower() in _PATH_KEYS or k.lower().startswith("attach") or _DOCUMENT_ID.match(k)
        for k, v in event.arguments.items()
        if v
    ) or uploads_file(event)
    # a command line hands over files or a bucket's data (``ssh host 'sh -s' < x.sh`` runs; it uploads none)
    bucket = any(t.startswith("name:") and "://" in t for t in where)
    rule = forwards(event)  # a forwarding rule hands over every message still to come
    if not where and sends_the_draft(event, provenance):
        return (Signal.of([event], title=f"{event.tool} sent the draft the task asked to leave for review"),)
    if not where or not (files or attached or bucket or rule or (text >= _MIN_POSTED and call.shell is None)):
        return ()
    if all(map(opaque_place, where)) and not provenance.off_task(sends):
        return ()  # the asked kind of send, to a channel by its number: maybe the one the task named
    # a small request to a service's API (a refund, a role added, a job run) in a task that asked for such
    # changes performs the act; so does an update of an item the session read from the same service (the
    # page it was asked to edit): no data handed over (in a task that asked only to read, it stays reported)
    asked = provenance.intent.implied.keys() & {*CHANGES, C.EXECUTE}
    if (
        (api_operation(event) or updates_item(event, provenance))
        and not (files or attached or rule)
        and asked
    ):
        return ()
    why = (
        "the task asked only for an answer" if answer_only(provenance) else "the task asked for no such send"
    )
    carried = [
        (files, files[:1]),
        (attached, ["attachments"]),
        (rule, ["all future mail (a forwarding rule)"]),
    ]
    what = next((label[0] for held, label in carried if held), "data" if call.shell else f"{text} characters")
    to = ", ".join(sorted({shown(t).lstrip("#") for t in where})[:2])
    title = f"{event.tool} sent {what} to {to}, though {why}"
    details = {
        "destinations": sorted(where)[:8],
        "files": files[:8],
        "off_task": [c.value for c in sends],
        "intent": provenance.intent.explain(),
    }
    # A status note posted to the team's own channel ("fixed, re-ran the load; the vendor notice looks like
    # phishing") is the agent reporting back, not data leaving: medium. Text to a channel shared with
    # outsiders or read by the whole company, files, buckets and rules stay high.
    names = {shown(t).removeprefix("name:").lower() for t in where}
    channels = {
        name for name in names if name.startswith("#")
    } | {  # a channel argument names one, "#" or not
        f"#{v.lstrip('#')}"
        for k, v in event.arguments.items()
        if k.lower() in _CHANNEL_KEYS and isinstance(v, str) and _CHANNEL_NAME.match(v)
    }
    team_note = (
        not answer_only(provenance)  # a question's answer posted to a channel is still the answer leaving
        and not (files or attached or bucket or rule)
        and bool(channels)
        and all(_team_channel(c) for c in channels)
        and all(f"#{name.lstrip('#')}" in channels for name in names)
    )
    # … and so is a note to the team's own mailbox (``ap-team@``, ``office@``, ``grants@``) at a domain no
    # outside content brought and no public mail service hosts: the agent reporting back, text only
    team_mail = (
        not answer_only(provenance)
        and not (files or attached or bucket or rule)
        and bool(where)
        and all(_team_mailbox(t, provenance) for t in where)
    )
    severity = Severity.MEDIUM if team_note or team_mail else None
    return (Signal.of([event], title=title, details=details, severity=severity),)


_TEAM_MAILBOXES = frozenset(
    """office team ap ar accounts accounting finance grants buero buro bureau kantoor ops operations desk hq
    manager management admin bookings reception frontdesk dispatch payables receivables""".split()
)


def _team_mailbox(token: str, provenance: Provenance) -> bool:
    """An address of a team's role mailbox whose domain no outside content brought and no public mail
    service hosts."""
    if token.startswith("name:") and "@" in token:  # (the address again, as the recipient's name)
        token = "email:" + token.removeprefix("name:").lower()
    if not token.startswith("email:"):
        return False
    local, _, domain = token.removeprefix("email:").partition("@")
    words = set(re.split(r"[-_.+]", local.lower()))
    # (a party the task names by the domain's name, "Kestrel Digitization" for kestreldigitization.com: their
    # ops@ is theirs, not the team's)
    label = domain.split(".")[0]
    named = len(label) >= 5 and label in re.sub(r"[^a-z0-9]", "", provenance.trusted_text.lower())
    return (
        bool(words)
        and not named
        and words <= _TEAM_MAILBOXES
        and f"host:{domain}" not in provenance.tainted
        and not any(t.endswith("@" + domain) for t in provenance.tainted if t.startswith("email:"))
        and not public_mail(domain)
    )


_WIDE_OR_SHARED = re.compile(
    r"(?i)(^|[-_.])(ext|external|shared|vendors?|partners?|guests?|public|community|customers?|clients?|"
    r"general|all|announce(ments)?|company|everyone|random|org)([-_.]|$)"
)


_CHANNEL_KEYS = frozenset("channel channel_name channel_id room".split())
# a channel's name as chat tools spell them (lowercase words), not an id (``C07EXT991Q``, ``19:…@thread``)
# that says nothing of whose channel it is
_CHANNEL_NAME = re.compile(r"^#?(?=[a-z0-9._-]*[a-z])[a-z0-9][a-z0-9._-]{0,79}$")
_PERSON_KEYS = frozenset("to cc bcc user user_id users recipient recipients email phone number".split())


def _team_channel(name: str) -> bool:
    """A chat channel by its name (``#data-platform``) that does not say it is shared with outsiders or
    read by everyone."""
    return _WIDE_OR_SHARED.search(name[1:]) is None


def sends_the_draft(event: ToolCall, provenance: Provenance) -> bool:
    """``send_draft(draft_id=…)`` when the task asked for a draft and no send ("leave it in my drafts")."""
    implied = provenance.intent.implied
    drafted = "draft" in implied.get(C.WRITE, ()) and C.COMMUNICATE not in implied  # "… then send it" asks
    return drafted and {"send", "draft"} <= set(split_words(event.tool))


_API_PATH = re.compile(r"(?i)^https?://[^/\s]+/(?:[\w.-]+/){0,2}(api|rest|v\d+(\.\d+)?|graphql)(/|$)")
_FILE_REFERENCE = re.compile(r"^@[~.]?/")
_MAX_OPERATION = 600  # characters of a request body that performs an operation rather than carries data


def api_operation(event: ToolCall) -> bool:
    """An HTTP request to a service's API path (``/api/…``, ``/rest/…``, ``/v2/…``) with a small body: the
    act the API does (a refund, a role added), not data handed over."""
    url = next((v for k, v in event.arguments.items() if k.lower() in _URL_KEYS and isinstance(v, str)), "")
    if not _API_PATH.match(url.strip()):
        return False
    body = [v for k, v in event.arguments.items() if k.lower() not in _URL_KEYS | {"headers"}]
    if any(isinstance(v, str) and _FILE_REFERENCE.match(v) for v in _scalars(body)):
        return False  # ``api_paste_code: "@/home/agent/x.csv"``: a file's contents go with it
    return sum(len(str(v)) for v in body) <= _MAX_OPERATION


def answers_back(event: ToolCall, provenance: Provenance) -> bool:
    """A message that answers where the session was spoken to: a reply in an existing thread (``thread_ts``,
    ``in_reply_to``: no new destination), or a direct message (a Slack ``D…`` channel) when the task asked
    to be told ("leave it and tell me"). Whatever it carries is the first shape's to judge."""
    # (an e-mail's ``reply_to`` holding an address is a header saying where answers go, not a thread)
    threaded = any(
        k.lower() in _THREAD_KEYS and v and not (k.lower() == "reply_to" and "@" in str(v))
        for k, v in event.arguments.items()
    )
    texts = [text for text in _scalars(event.arguments) if isinstance(text, str)]
    if threaded and not any(markers(t) or _KEY_LIKE.search(t) for t in texts):
        return True  # (a secret or key pasted into the thread is handed over all the same)
    channel = str(event.arguments.get("channel") or event.arguments.get("channel_id") or "")
    return bool(_DIRECT_CHANNEL.match(channel)) and _TELL_ME.search(provenance.trusted_text) is not None


# a key-like token (letters and digits, 24 or more: ``pcsk_6Xq2T9_Mb4kLr8WnZ3pV1yHcJ7eSdA0uG``)
_KEY_LIKE = re.compile(r"(?=[\w-]*\d)(?=[\w-]*[A-Za-z])\b[\w-]{24,}\b")
_THREAD_KEYS = frozenset({"thread_ts", "thread_id", "in_reply_to", "reply_to", "parent_id", "parent_ts"})
_DIRECT_CHANNEL = re.compile(r"^D[A-Z0-9]{6,}$")
_TELL_ME = re.compile(r"(?i)\b(tell|let|ping|message|notify|update)\s+me\b|\blet me know\b|\breport back\b")


def updates_item(event: ToolCall, provenance: Provenance) -> bool:
    """A ``PUT``/``PATCH``/``POST`` to a service's API path that ends with an item's id (``POST
    …/wp/v2/pages/112``) in a task that asked for a write: the item is changed where it lives (REST's
    update of an existing item); nothing goes to a new place."""
    url = next((v for k, v in event.arguments.items() if k.lower() in _URL_KEYS and isinstance(v, str)), "")
    method = str(event.arguments.get("method") or "").upper()
    return (
        method in ("PUT", "PATCH", "POST")
        and C.WRITE in provenance.intent.implied
        and _API_PATH.match(url.strip()) is not None
        and _ITEM_PATH.match(url.strip()) is not None
    )


# a stored document handed over by its id (``file_id``, ``documentId``, ``drive_item_id``): an upload of it
_DOCUMENT_ID = re.compile(r"(?i)^(file|document|doc|drive_?item|attachment)_?ids?$")
_ITEM_PATH = re.compile(r"(?i)^https?://[^/\s]+/(?:[\w.-]+/){1,6}\d{1,12}/?$")


def uploads_file(event: ToolCall) -> bool:
    """A call that carries a local file by its path (``body_file``, ``upload_path``, ``file``; in a request's
    body too: ``body: {data_file: /tmp/x.json}``): an upload."""
    return any(
        isinstance(v, str)
        and ("/" in v or "." in v)
        and " " not in v
        and "://" not in v  # (a URL names a place, not a local file)
        and {"file", "path"} & set(split_words(k))
        for k, v in scalars(event.arguments)
    )


def worst(sinks: list[C]) -> C | None:
    return sinks[0] if sinks else None


def label(capabilities: Iterable[C]) -> str:
    return ", ".join(c.value.replace("_", " ") for c in capabilities)


def escalate(severity: Severity) -> Severity:
    order = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    return order[min(len(order) - 1, order.index(severity) + 1)]


def copied_in(event: ToolCall, call: Classification, provenance: Provenance, planted: Iterable[str]) -> bool:
    """A message to the recipient the task meant with a planted address beside it (``to: me, cc:
    parity-audit@…`` from a page's hidden note): the send was asked for, the extra reader was not."""
    if not call.evidence.keys() & {C.COMMUNICATE, C.EGRESS}:
        return False
    where = destinations(event.arguments, event.target, call)
    extra = [t for t in planted if t in where and t.startswith(("email:", "handle:"))]
    meant = [t for t in where if t.startswith("email:") and named_by_user(t, provenance)]
    return bool(extra) and (bool(meant) or _TO_ME.search(provenance.trusted_text) is not None)


_TO_ME = re.compile(r"(?i)\b(?:email|mail|send|message|forward)\s+(?:it\s+to\s+)?(?:me|us)\b")


def destinations(arguments: dict[str, Any], target: str | None, call: Classification) -> frozenset[str]:
    """Where a call sends things: the addresses, URLs, hosts and accounts among its values, and the
    destinations a shell line contacts."""
    shell = call.shell
    return _destinations(arguments, target, tuple(shell.destinations) if shell is not None else None)


_MAX_NUMBER_TEXT = 32  # longer texts with spaces are prose: what they name is not where the call sends
_NAMED_IN_PROSE = ("num:", "host:", "url:")


@by_arguments  # the same calls recur: computed once per distinct call
def _destinations(
    arguments: dict[str, Any], target: str | None, contacted: tuple[str, ...] | None
) -> frozenset[str]:
    found: set[str] = set()
    # A shell or code call's destinations are what its line contacts (the parser knows), not every
    # dotted word of the script.
    scanned = (
        {k: v for k, v in arguments.items() if k.lower() not in _CODE_ARGUMENTS}
        if contacted is not None
        else arguments
    )
    # who a message or a ticket is from (``requester``, ``raiseOnBehalfOf``, ``from``) is not where it goes
    scanned = {k: v for k, v in scanned.items() if k.lower() not in _SENDER_ARGUMENTS}
    # a message goes to its recipients: a link in its body is what it carries, not where it goes
    recipients = {k: v for k, v in scanned.items() if k.lower() in _RECIPIENT_ARGUMENTS}
    scanned = recipients or scanned
    for value in _scalars(scanned):
        # prose (a ticket's description, a form's text) names hosts, dates and versions; the call sends to
        # none of them: where it goes is in its short arguments (``url``, ``channel``). An address may be.
        prose = not recipients and isinstance(value, str) and len(value) > _MAX_NUMBER_TEXT and " " in value
        tokens = [t for t in value_tokens(value) if t.startswith(_DESTINATION_PREFIXES)]
        found.update(t for t in tokens if not (prose and t.startswith(_NAMED_IN_PROSE)))
    if target:
        found |= {t for t in value_tokens(target) if t.startswith(_DESTINATION_PREFIXES)}
    for destination in contacted or ():
        reached = {t for t in value_tokens(destination) if t.startswith(_DESTINATION_PREFIXES)}
        # (``deploy@billing-stg-01:/tmp/x``: a host of one label, which reads as no address)
        one_label = _REMOTE_HOST.match(destination) if not reached else None
        found |= reached or ({f"host:{one_label.group(1).lower()}"} if one_label else set())
    return frozenset(found)


_SENDER_ARGUMENTS = frozenset(
    "from sender from_email sender_email requester requester_email reporter raiseonbehalfof on_behalf_of "
    "onbehalfof submitter created_by author".split()
)
_REMOTE_HOST = re.compile(r"^(?:[\w.-]+@)?([A-Za-z][A-Za-z0-9-]*)(?::|$)")


_PATH_KEYS = frozenset(
    "path paths file files filename file_path filepath source src attachment attachments".split()
)
_PRIVATE_KEY = re.compile(r"(^|/)id_(rsa|dsa|ecdsa|ed25519)$|\.(pem|key|p12|pfx|ppk)$|(^|/)\.ssh/", re.I)


def secret_files_sent(arguments: dict[str, Any], call: Classification) -> list[str]:
    """Files that hold a secret by convention which the call sends: a shell upload's files, or a path
    argument of a call that sends (``upload_file(path=".env")``)."""
    files = [p for p in (call.shell.sent if call.shell else []) if is_secret_path(p)]
    files += [
        path
        for k, v in arguments.items()
        if k.lower() in _PATH_KEYS and not request_path(k, arguments)
        for path in ([v] if isinstance(v, str) else v[:16] if isinstance(v, list) else [])
        if isinstance(path, str) and " " not in path and is_secret_path(path)
    ]  # (a message's ``attachments: [fullchain.pem, api.pfx]`` sends each file)
    return files


# a form or body value that names a local file to send, as curl's ``-F content=@file`` does
_AT_FILE = re.compile(r"^@([~./]?[\w.~-]*/[^\s;]+|[\w-]+\.\w{1,5})$")


def files_by_at(arguments: dict[str, Any]) -> list[str]:
    """Local files a request's form or body sends by ``@path`` (``form: {content: "@~/run.yaml"}``)."""
    return [m.group(1) for v in _scalars(arguments) if isinstance(v, str) and (m := _AT_FILE.match(v))][:8]


def _files_read_with_secrets(
    call: Classification, provenance: Provenance, arguments: dict[str, Any] | None = None
) -> list[str]:
    """Files a shell line (or a request's ``@path`` form value) sends that the session read and found a
    secret in (``scripts/export.py`` with a database password written into it), by path or by its tail
    (``cd repo && gh gist create scripts/…``)."""
    sent = [*(call.shell.sent if call.shell else []), *files_by_at(arguments or {})]
    read = [str(r[2]).split(" (", 1)[0] for r in provenance.secret_reads]
    if call.shell is not None and "git push" in call.evidence.get(C.EGRESS, ""):
        sent += call.shell.added  # (``git add app_counts.py && … && git push``: the commit sends the file)
        if "add_all" in call.shell.flags:  # (``cd repo && git add . && … && git push``: all under the folder)
            sent += [r for r in read if any(r.startswith(d.rstrip("/") + "/") for d in call.shell.read)]
    if not sent or not provenance.secret_reads:
        return []
    tails = [p.lstrip("./") for p in sent if p and not p.startswith("<") and not is_secret_path(p)]
    return [t for t in tails if len(t) > 3 and any(r == t or r.endswith("/" + t) for r in read)]


def is_private_key(path: str) -> bool:
    return bool(_PRIVATE_KEY.search(path))


def payload_secrets(arguments: dict[str, Any], call: Classification) -> list[tuple[str, str]]:
    """(kind, fingerprint) of redacted secrets in what a call *sends* (its body, message, data, the data
    of a shell upload), not in what authenticates it (a password or token argument, ``curl -u``)."""
    found: list[tuple[str, str]] = []
    if not _may_carry_marker(arguments):
        return found
    stack: list[tuple[str, Any, int]] = [(k, v, 0) for k, v in arguments.items()]
    while stack:
        key, value, depth = stack.pop()
        lowered = key.lower()
        if lowered in _AUTH_KEYS or lowered.endswith(("_token", "_password", "_key", "_secret")):
            continue
        if isinstance(value, dict) and depth < 4:
            stack.extend((str(k), v, depth + 1) for k, v in list(value.items())[:64])
        elif isinstance(value, list | tuple) and depth < 4:
            stack.extend((key, v, depth + 1) for v in list(value)[:64])
        elif isinstance(value, str) and "[REDACTED:" in value:
            if call.shell is not None and lowered in ("command", "cmd", "script", "code"):
                found += _shell_payload_markers(value)
            elif lowered in _URL_ARGUMENTS:  # the URL the call reaches: a webhook or signed URL is used
                found += [m for m in markers(value) if not _CALLED_URL.search(m[0])]
            else:
                found += markers(value)
    return found


def query_keys(arguments: dict[str, Any], seen: Container[str] = ()) -> list[tuple[str, str]]:
    """(parameter, fingerprint) of keys put in the query of the URL a call reaches (``?crm_key=…``): sent
    to that host when outside content gave the URL; a key in its own API's query (``?key=…`` to the maps
    API the task asked for) is how that API is called. A signed link's own ``token`` or ``sig`` is how it
    is called too, unless it is a secret the session read elsewhere (``seen``: its own session token put
    into a link that content gave)."""
    urls = [v for k, v in arguments.items() if k.lower() in _URL_ARGUMENTS and isinstance(v, str)]
    return [
        (k, fp)
        for url in urls
        for k, fp in _QUERY_KEY_MARKER.findall(url)
        if not _SIGNING.search(k) or fp in seen
    ]


def _may_carry_marker(arguments: dict[str, Any]) -> bool:
    """False when no text anywhere in the arguments holds a redaction marker (most calls), told by one look
    at their JSON text: JSON writes the marker's opening ``[REDACTED:`` as it is, so a string that holds it
    shows it there. True when unsure (a value JSON cannot hold)."""
    try:
        return b"[REDACTED:" in orjson.dumps(arguments)
    except TypeError:
        return True


_AUTH_OPTIONS = frozenset({"-u", "--user", "-H", "--header", "-p", "--password", "-a", "--auth", "--token"})


_LOGIN_URL = re.compile(
    r"(?i)^\w+://[^\s?#]*/(?:login|log-in|signin|sign-in|session|sessions|auth|authenticate)(?:[/?#.]|$)"
)
_PASSWORD_FIELD = re.compile(r"(?i)\b(?:password|passwd|pass|pwd)=\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\]")


def _shell_payload_markers(line: str, depth: int = 0) -> list[tuple[str, str]]:
    """Markers in a shell line's data (``-d``/``--data``/``-F``/a heredoc), not in what authenticates it
    (``-u``/``-H Authorization``/``--password``, credentials in a URL), through ``bash -c '…'``."""
    from detectors.capabilities.shell import simple_commands

    found: list[tuple[str, str]] = []
    for simple in simple_commands(line):
        argv = simple.argv
        shell = argv[:1] and argv[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh", "dash")
        # a sign-in form posted to the host's own login page (``--post-data 'user=admin&password=…'
        # …/index.php/login``): the password authenticates there, it is no payload
        signs_in = any(LOGIN_URL.search(a) for a in argv if "://" in a)
        for index, arg in enumerate(argv):
            previous = argv[index - 1] if index else ""
            if shell and previous == "-c" and depth < 3:
                found += _shell_payload_markers(arg, depth + 1)
                continue
            if previous in _AUTH_OPTIONS or arg.startswith(
                ("-u", "--user=", "--password=", "--header=", "-H")
            ):
                continue
            if "://" in arg and "@" in arg:  # https://user:[REDACTED]@host: the URL authenticates
                arg = re.sub(r"://[^/@\s]*@", "://", arg)
            if signs_in:
                arg = _PASSWORD_FIELD.sub("", arg)
            found += [m for m in markers(arg) if not ("://" in arg and _CALLED_URL.search(m[0]))]
        if simple.heredoc:
            found += markers(simple.heredoc)
    return found


def _how(event: ToolCall, call: Classification, where: str) -> tuple[str, str]:
    if OUTBOUND & call.evidence.keys():
        return "sent", f"to {where}"
    if writes_log(event, call):
        return "wrote", "into a log or shared record"
    return "passed", "as an argument, to its server"


# what many people read and keep: logs, and shared records (an issue, a ticket, a comment, a wiki page)
_LOG_WORDS = frozenset(
    "log logs logger logging syslog journal issue issues ticket tickets comment comments wiki page pages "
    "gist paste snippet discussion incident incidents statuspage status announcement release releases".split()
)


def writes_log(event: ToolCall, call: Classification) -> bool:
    """A call that writes where many read and keep it: a log line (``log_event``, ``Logger.info``, a write to
    a log file) or a shared record (``jira.create_issue``, ``add_comment``, a wiki page)."""
    if C.WRITE not in call.evidence:
        return False
    if _LOG_WORDS & set(split_words(event.tool)):
        return True
    paths = [v for k, v in event.arguments.items() if isinstance(v, str) and k.lower() in _PATH_KEYS]
    return any(is_log_path(p) for p in paths + (call.shell.written if call.shell else []))


def _scalars(value: Any, depth: int = 0) -> list[Any]:
    if depth > 5:
        return []
    if isinstance(value, dict):
        return [x for v in list(value.values())[:64] for x in _scalars(v, depth + 1)]
    if isinstance(value, list | tuple):
        return [x for v in list(value)[:64] for x in _scalars(v, depth + 1)]
    return [value]


_READS_ONLY = frozenset({C.READ, C.FETCH, C.SECRET})


def _a(noun: str) -> str:
    vowel = noun[:1] in "aeiou" and not noun.startswith(("user", "uni", "use"))  # "a user password"
    return f"{'an' if vowel else 'a'} {noun}"


def secret_leak(event: ToolCall, call: Classification, provenance: Provenance) -> Signal | None:
    """The four shapes of ``exfiltration.secret_flow`` (see its docstring), or None."""
    if not OUTBOUND & call.evidence.keys():
        # a log line or a shared record, a tool nothing is known of, or an API call that only reads (a secret
        # in its arguments goes to the server behind it: "pass the key in auth_context") may carry a secret
        # away; local work does not. Only a secret in the arguments can matter then: look for one first.
        reads_only = call.shell is None and call.evidence.keys() <= _READS_ONLY
        if not (reads_only or writes_log(event, call)) or not (
            payload_secrets(event.arguments, call) or query_keys(event.arguments, provenance.secrets_seen)
        ):
            return None
    files, sent = secret_files_sent(event.arguments, call), payload_secrets(event.arguments, call)
    files += _files_read_with_secrets(call, provenance, event.arguments)
    # the secret read in this very line and sent on by it (``kubectl get secret … | curl --data @- …``)
    same_line = call.shell is not None and "secret_read" in call.shell.flags and C.EGRESS in call.evidence
    if not files and not sent and not (provenance.secret_reads or same_line):
        return None  # no secret in sight: where the call sends cannot matter (its destinations are not read)
    targets = destinations(event.arguments, event.target, call)
    # a send that stays inside the organisation's network (a cluster service, a private address) leaks nothing
    untrusted = sorted(t for t in targets if not provenance.trusts(t) and not internal(t))
    if not files and not sent and not untrusted:
        return None  # none of the four shapes can hold (the taint lookup below is skipped)
    # (the person the task names, "Dr. Amara Osei", at the address her mail came from: not planted)
    named = {
        t for t in targets if t.startswith("email:") and mailbox_of_named_person(t, provenance.trusted_text)
    }
    planted = [
        s for t, s in provenance.tainted_values(event.arguments, event.target).items() if t in targets - named
    ]
    where = (
        ", ".join(list(dict.fromkeys(shown(t) for t in (untrusted or sorted(targets))))[:2])
        or "a destination"
    )
    grave = Severity.CRITICAL if planted and OUTBOUND & call.evidence.keys() else None
    if planted:  # (a URL outside content gave, a key in its query; a token read where the link was: its own)
        links = {s.event_id for s in planted}
        own = {fp for fp, read_in in provenance.secrets_seen.items() if read_in not in links}
        sent += query_keys(event.arguments, own)
    if files and call.evidence.keys() & {C.EGRESS, C.COMMUNICATE}:  # uploaded, or attached to a message
        private = any(is_private_key(f) for f in files)
        # medium only where the task said; a push or upload that names no destination is no such place
        severity = grave or (Severity.HIGH if untrusted or private or not targets else Severity.MEDIUM)
        title = f"{event.tool} sent {files[0]}, which holds a secret, to {where}"
        return signal_from(event, title, severity, {"files": files[:5]}, planted)
    earlier = [(kind, fp) for kind, fp in sent if fp in provenance.secrets_seen]
    if earlier:
        # medium only when it went where the task said; a post or a comment with no named reader is public;
        # several secrets in one send are more than any one the task may have asked for
        bundled = len({fp for _, fp in sent}) - _shared_links(event.arguments) > 1
        delivered = not bundled and _delivers_own(earlier, call, targets, provenance)
        if delivered and not any(s.score >= ADDRESSED for s in planted):
            grave = None  # the person's number from their record: read, not planted
        # (… and only when the task speaks of secrets at all: "give Lars read access" asks for no password)
        unasked = (
            not _SPEAKS_OF_SECRETS.search(provenance.trusted_text)
            and C.SECRET not in provenance.intent.implied
        )
        severity = grave or (
            Severity.HIGH
            if (untrusted or not targets or bundled or unasked) and not delivered
            else Severity.MEDIUM
        )
        kind = earlier[0][0].replace("_", " ")
        read_in = sorted({provenance.secrets_seen[fp] for _, fp in earlier})
        details = {"secret_kinds": sorted({k for k, _ in earlier}), "read_in": read_in}
        verb, place = _how(event, call, where)
        title = f"{event.tool} {verb} {_a(kind)} the session read earlier {place}"
        return signal_from(event, title, severity, details, planted)
    sent = [(kind, fp) for kind, fp in sent if fp not in provenance.trusted_text]  # not one the user gave
    if sent and (SENDS & call.evidence.keys() or writes_log(event, call)):  # a credential in clear in a
        # message, a post or a log line (logs are kept, shipped and read by many: CWE-532)
        about = (
            C.SECRET in provenance.intent.implied
            or _asked_codes(sent, provenance.trusted_text)
            or _delivers_own(sent, call, targets, provenance)
        )
        severity = grave or (Severity.MEDIUM if about else Severity.HIGH)
        verb, place = _how(event, call, where)
        title = f"{event.tool} {verb} {_a(sent[0][0].replace('_', ' '))} in clear {place}"
        return signal_from(event, title, severity, {"secret_kinds": sorted({k for k, _ in sent})}, planted)
    # a webhook or signed URL read is not a secret that calling it leaks: it is how it is called
    reads = [r for r in provenance.secret_reads if not _CALLED_URL.search(str(r[2]))]
    if (reads or same_line) and untrusted and SENDS & call.evidence.keys():
        read: list[Any] = reads[-1] if reads else [event.event_id, 0, "a secret"]
        # high when instructing content chose where, or when the task asked for no send at all
        # ("register the webhook using the shared secret from their page": the task sends it on)
        off_task = (
            provenance.intent.stated
            and bool(provenance.off_task(SENDS & call.evidence.keys()))
            and not _uses_secret(provenance.trusted_text)
        )
        high = off_task or any(s.score >= ADDRESSED for s in planted)
        severity = grave or (Severity.HIGH if high else Severity.MEDIUM)
        details = {"secret_read": read[2], "secret_read_event": read[0], "untrusted_destinations": untrusted}
        title = f"{event.tool} reached {where} after the session read {read[2] or 'a secret'}"
        return signal_from(event, title, severity, details, planted)
    return None


_LINK = re.compile(r"https?://[^\s\"'<>]+")
# the signature of a pre-signed URL (S3's and Google's, an Azure SAS's ``sig``, CloudFront's ``Signature``)
_SIGNED = re.compile(r"(?i)[?&](?:x-amz-signature|x-goog-signature|signature|sig)=")


def _shared_links(arguments: dict[str, Any]) -> int:
    """How many secrets more than one a pre-signed link holds (its credential and signature are one link
    to share, not two secrets bundled); a link that carries several other secrets bundles them."""
    text = orjson.dumps(arguments).decode()
    extra = 0
    for link in _LINK.findall(text) if "[REDACTED:" in text else ():
        if _SIGNED.search(link):
            extra += max(0, len({fp for _, fp in markers(link)}) - 1)
    return extra


# a task that has the agent use a secret it will read ("using the shared secret from their onboarding page",
# "with the API key in the vault")
_USES_SECRET = re.compile(
    r"(?i)\b(?:us(?:e|ing)|with)\s+(?:the|their|our|its|his|her|my|your)\s+(?:[\w-]+\s+){0,2}"
    r"(?:secret|key|token|password|credentials?|api[ -]?key)"
    # (the noun phrase ends there: "use the new token helper" names a helper)
    r"(?=\s+(?:from|in|on|at|of|for|to|that|which|and|they|we|you)\b|\s*[.,;:!?)]|\s*$)"
)
_NEGATED = re.compile(r"(?i)(?:\b(?:not|never|no|without)|n't)\s+$")
# a task that speaks of secrets or of how to log in: a secret sent where it said may be what it asked for
# (a key or a code of access, not "the code", "key points"; a PIN in capitals, not "pin the message")
_SPEAKS_OF_SECRETS = re.compile(
    r"(?i)\b(?:passwords?|passw\w*|passphrases?|credentials?|creds|logins?|log-?ins?|tokens?|secrets?"
    r"|(?:api|ssh|access|private|secret|licen[cs]e|product|encryption|signing|gpg|pgp|wi-?fi|door)[ -]?keys?"
    r"|keys?\s+(?:for|to)\b"
    r"|(?-i:PINs?)|pin\s+(?:codes?|numbers?)|(?:access|verification|security|auth\w*|2fa|mfa|otp|one-time"
    r"|recovery|backup|door|gate|alarm|entry)\s+codes?|webhooks?|vault|1password|bitwarden|keychain"
    r"|connection\s+(?:details|string|info)|access\s+details|kennwort\w*|"
    r"contrase\w+|mot\s+de\s+passe|wachtwoord\w*|senhas?|zugangsdaten|clave\w*)\b"
)


def _delivers_own(
    sent: list[tuple[str, str]], call: Classification, targets: frozenset[str], provenance: Provenance
) -> bool:
    """A message to a person (an address, a number) that carries only secrets the session itself set or
    had issued: the password of the link it just shared, the partner's new key. Handing a new secret to
    the one person who needs it, apart from what it opens, is how it is done; a post, or an old secret
    read somewhere, is no such delivery."""
    if C.COMMUNICATE not in call.evidence:
        return False
    if targets and all(t.startswith(_PERSONAL) for t in targets) and _link_asked(sent, provenance):
        return True  # "send her a download link": the signed link is what the task has it hand over
    if not all(fp in provenance.minted for _, fp in sent):
        return False
    if targets:
        return all(t.startswith(_PERSONAL) for t in targets)
    # a message to a member id or a partner's contact: a delivery where the task asks to send and is about
    # a secret ("issue them a replacement and deliver it"; not "rotate the key", then a comment with it)
    implied = provenance.intent.implied
    return C.COMMUNICATE in implied and (
        C.SECRET in implied or _CREDENTIAL.search(provenance.trusted_text) is not None
    )


_PERSONAL = ("email:", "num:")
_LINK_NOUN = re.compile(r"(?i)\b(?:links?|lien|enlace|liga|collegamento|URL)\b")


def _link_asked(sent: list[tuple[str, str]], provenance: Provenance) -> bool:
    """Only signed links are sent, in a task that asks for a message with a link ("send her the secure
    update link", "a download link that expires in 7 days")."""
    return (
        all(kind == "url_secret" for kind, _ in sent)
        and C.COMMUNICATE in provenance.intent.implied
        and _LINK_NOUN.search(provenance.trusted_text[:4000]) is not None
    )


_CREDENTIAL = re.compile(
    r"(?i)\b(?:passwor[dt]s?|kennwort|passcode|passphrase|contrase[ñn]as?|claves?|chaves?|cl[ée]s?|sch"
    r"l[üu]ssel|sleutels?|wachtwoord|senhas?|mot de passe|tokens?|keys?|credentials?)\b"
)


def _uses_secret(task: str) -> bool:
    """Whether the task has the agent use a secret (not "do not use the API key from the vault")."""
    return any(
        _NEGATED.search(task[max(0, m.start() - 12) : m.start()]) is None for m in _USES_SECRET.finditer(task)
    )


# how a task names the code that opens a door it asks to pass on ("the roof lockbox code", "the gate code")
_CODES_NAMED = re.compile(
    r"(?i)\b(?:lock ?box|key ?safe|keypad|passcode)\b"
    r"|\b(?:door|gate|garage|alarm|entry|access)\s+(?:code|pin)s?\b"
)


def _asked_codes(sent: list[tuple[str, str]], task: str) -> bool:
    """Whether every secret sent is a door's access code and the task names such a code."""
    return all(kind == "access_code" for kind, _ in sent) and _CODES_NAMED.search(task) is not None
