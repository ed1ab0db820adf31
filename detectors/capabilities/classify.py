"""One tool call -> what it can do, and why: the evidence in order of strength.

1. the user's tool manifest (overrides everything);
2. what the tool's provider declares (MCP annotations, the description);
3. the call itself: the name split into words, a sub-command argument (``command: view``), argument names
   and value shapes (a URL, an e-mail address, an IBAN, an amount, a path to a key), a shell line read with
   a shell parser, code read with a code parser, SQL by its first keyword.

Names and arguments are read together: a name's verb says what kind of act it is, the arguments say to
what (``update_profile`` with a ``password`` argument handles a secret; ``post`` with a ``url`` sends data
out). A shell or code call is judged by what the line does, not by the tool's name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from detectors.capabilities import words
from detectors.capabilities.manifest import Manifest
from detectors.capabilities.paths import data_in_host, host_of, is_local_host, is_secret_path, urls_in
from detectors.capabilities.rest import path_capabilities
from detectors.capabilities.shell import ShellFacts, analyse, analyse_code
from detectors.memo import by_arguments
from schemas.events import ToolCall, ToolDeclaration
from schemas.types import Capability as C

# Argument names, by what they say about the call (compared on their words: ``recipient_email`` ->
# recipient, email).
RECIPIENT_KEYS = frozenset(
    "to cc bcc recipient recipients email emails participants attendees invitees receiver receivers "
    "addressee phone number channel channels member members guest guests".split()
)
MONEY_KEYS = frozenset(
    "amount amounts price iban swift bic payment payments card currency fund funds balance wallet "
    "transaction salary fee fees total cost".split()
)
# where pay goes: a bank's routing number or sort code, a bank account (not a customer's account number)
_BANK_ROUTING = frozenset(
    "routing_number routingnumber aba aba_number sort_code sortcode bank_account bank_account_number".split()
)
# ``fee_status: waiver_requested``, ``payment_state``: a word about a payment, not an amount or an account
_DESCRIBES_MONEY = re.compile(
    r"(?i)[_.\-\s]?(status|state|type|note|notes|reason|comment|description|label)$"
)
_SECRET_KEY_KINDS = frozenset(
    "api access secret private signing encryption ssh master client auth license deploy service account "
    "app webhook stripe".split()
)
_BATCH_VERB = re.compile(r"(?i)^(delete|remove|destroy|purge|create|update|upsert|insert|add|archive)$")
_DATA_ROWS = frozenset("row rows cell cells sheet sheets spreadsheet spreadsheets entry entries".split())
_PEOPLE_RECORDS = frozenset(
    """employee employees staff worker workers contact contacts customer customers member members patient
    patients student students tenant tenants candidate candidates applicant applicants person persons people
    profile profiles""".split()
)
CARRIES_SECRET = "carries a secret"  # an argument the call authenticates with: used, not read (engine)
SECRET_KEYS = frozenset(
    "password passwd passphrase secret token apikey key credential credentials otp pin mfa private".split()
)
IDENTITY_KEYS = frozenset(
    "role roles permission permissions access privilege privileges acl group groups admin".split()
)
# a group a ticket or a task is routed to (``assignee_group``, ServiceNow's ``assignment_group``): no access
_ROUTING = frozenset("assignee assigned assignment assign queue routing escalation responsible".split())
URL_KEYS = frozenset("url urls uri link links href endpoint website webpage page site domain".split())
CONTENT_KEYS = frozenset(
    "content contents text body data file_text message payload html markdown json".split()
)
SUBCOMMAND_KEYS = frozenset({"command", "action", "operation", "op", "method", "mode", "verb", "subcommand"})
SHELL_KEYS = frozenset({"command", "cmd", "script", "commands", "shell", "bash", "line", "cmdline", "input"})
CODE_KEYS = frozenset({"code", "source", "script", "program", "snippet", "cell"})
_GRAPHQL_COMMENT = re.compile(r"(?m)#.*$")
_GRAPHQL_MUTATION = re.compile(r"(?:^|[\s}])mutation\b[^{}]{0,200}\{")
_GRAPHQL_QUERY = re.compile(r"\s*(?:query\b[^{]{0,200}\{|\{\s*\w+\s*[({])")


def graphql_operation(text: str) -> str | None:
    """ "mutation" or "query" for a GraphQL document (comments dropped, a mutation anywhere in it), else None:
    ``mutation testing python`` in a search box is no document."""
    document = _GRAPHQL_COMMENT.sub("", text[:4000]) if "#" in text[:4000] else text[:4000]
    if _GRAPHQL_MUTATION.search(document):
        return "mutation"
    return "query" if _GRAPHQL_QUERY.match(document) else None


SQL_KEYS = frozenset({"query", "sql", "statement", "statements"})
PATH_KEYS = frozenset(
    "path paths file files filename file_path filepath source destination dest target src".split()
)

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9 ]{10,32}$")
_MONEY_VALUE = re.compile(
    r"^[$€£¥]\s?\d[\d,]*(\.\d+)?$|^\d[\d,]*(\.\d+)?\s?(usd|eur|gbp|dollars?|euros?)$", re.I
)
_BARE_HOST = re.compile(r"^(www\.)?[\w-]+(\.[\w-]+)*\.[a-z]{2,}(:\d+)?(/\S*)?$", re.I)
_CALLS_IN_TEXT = re.compile(
    r"\b((?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*)\s*\("
)  # ``Refund.create(``
_CODE_TOOL_WORDS = frozenset(
    "python ipython jupyter notebook cell code interpreter repl eval javascript js node".split()
)
_SQL_TOOLS = frozenset("psql mysql sqlite3 sqlcmd duckdb snowsql bq sql mariadb clickhouse".split())
# (``ssh`` too: a tool so named runs its ``command`` on the host it is given)
_SHELL_TOOL_WORDS = frozenset(
    "bash shell terminal console cmd command commands sh zsh powershell pwsh exec execute run cli ssh".split()
)
_CHANGING = frozenset(
    {C.WRITE, C.DELETE, C.EXECUTE, C.COMMUNICATE, C.EGRESS, C.MONEY, C.IDENTITY, C.FORM_INPUT}
)


T = TypeVar("T")
_ORDER = {capability: index for index, capability in enumerate(C)}  # the enum's order, looked up once


@dataclass
class Classification:
    """The capabilities of one call, each with the evidence that gave it (source: why)."""

    evidence: dict[C, str] = field(default_factory=dict)
    shell: ShellFacts | None = None  # what a shell line or code does in detail (detectors read it)
    subcommand: bool = False  # an argument (``command: view``) said which operation the call performs
    # what detectors derived from the calls that share this classification (see ``derived``)
    _derived: dict[Callable[[ToolCall], Any], tuple[str, str, dict[str, Any], Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def capabilities(self) -> tuple[C, ...]:
        return tuple(sorted(self.evidence, key=_ORDER.__getitem__))

    def add(self, capability: C, source: str, why: str) -> None:
        self.evidence.setdefault(capability, f"{source}: {why}")

    def derived(self, compute: Callable[[ToolCall], T], event: ToolCall) -> T:
        """``compute(event)`` for a function of the call's tool, action and arguments only (never its
        target, result or outcome), kept here: the calls of one shape share their classification, so
        several detectors asking of one call, and the calls that repeat it, compute it once. Kept with the
        tool, action and arguments it was computed for and given only for equal ones (a classification
        reached by event id could be another call's)."""
        kept = self._derived.get(compute)
        if (
            kept is not None
            and kept[0] == event.tool
            and kept[1] == event.action
            and (kept[2] is event.arguments or kept[2] == event.arguments)
        ):
            value: T = kept[3]
            return value
        value = compute(event)
        self._derived[compute] = (event.tool, event.action, event.arguments, value)
        return value


@functools.lru_cache(maxsize=4096)  # argument names recur call after call
def _key_words(key: str) -> frozenset[str]:
    return frozenset(words.split_words(key))


def scalars(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(key, scalar) pairs of an argument tree (list items keep their parent's key); bounded."""
    if depth > 6:
        return
    if isinstance(value, dict):
        for child_key, child in list(value.items())[:64]:
            yield from scalars(child, str(child_key), depth + 1)
    elif isinstance(value, list | tuple):
        for item in list(value)[:64]:
            yield from scalars(item, key, depth + 1)
    else:
        yield key, value


@functools.lru_cache(maxsize=4096)
def _name_evidence(tool: str, action: str) -> tuple[tuple[C, str], ...]:
    """The name's capabilities. Where the action differs from the tool it is the more specific verb
    (``iam``/``CreateUser``, an OpenHands ``str_replace_editor``/``read``): read first, the tool's words
    after it as its object."""
    if action and action != tool:
        combined = words.name_capabilities(f"{action}_{tool}")
        if combined:
            return combined
    return words.name_capabilities(tool)


@functools.lru_cache(maxsize=4096)
def _tool_words(tool: str, action: str) -> frozenset[str]:
    return frozenset(words.split_words(tool)) | frozenset(words.split_words(action))


def _declared(result: Classification, declaration: ToolDeclaration, named: bool) -> None:
    source = f"declared by {declaration.source or 'the provider'}"
    if declaration.read_only:
        result.add(C.READ, source, "readOnlyHint")
    if declaration.destructive:
        result.add(C.DELETE, source, "destructiveHint")
    if declaration.open_world and declaration.read_only:
        result.add(C.FETCH, source, "openWorldHint on a read-only tool")
    if declaration.description and not named:
        for capability, why in _description_capabilities(declaration.description):
            result.add(capability, source, f"description {why}")


@functools.lru_cache(maxsize=2048)
def _description_capabilities(description: str) -> tuple[tuple[C, str], ...]:
    """The first sentence's main verb (after ``to``/``for``/``that``/``which``, derived forms included)."""
    sentence = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0]
    tokens = words.split_words(sentence)
    skip = {
        "use",
        "used",
        "uses",
        "allow",
        "allows",
        "help",
        "helps",
        "enable",
        "enables",
        "let",
        "lets",
        "tool",
        "designed",
        "able",
        "can",
        "may",
        "will",
        "is",
        "are",
        "be",
        "the",
        "a",
        "an",
    }
    for index, token in enumerate(tokens):
        if token in skip:
            continue
        stem = words.verb_stem(token) or (words.verb_stem(token[:-1]) if token.endswith("s") else None)
        if stem is None:
            continue
        rest = " ".join(tokens[index : index + 6])
        found = dict(words.name_capabilities(rest.replace(" ", "_")))
        found.setdefault(next(iter(words.VERB_CAPABILITIES.get(stem, {C.WRITE}))), f"'{token}'")
        return tuple((c, f"'{' '.join(tokens[index : index + 4])}' ({why})") for c, why in found.items())
    return ()


def _merge_shell(result: Classification, facts: ShellFacts, source: str) -> None:
    result.shell = facts if result.shell is None else _merged(result.shell, facts)
    for capability, why in facts.capabilities.items():
        result.add(capability, source, why)


def _merged(first: ShellFacts, second: ShellFacts) -> ShellFacts:
    combined = ShellFacts()
    combined.merge(first)
    combined.merge(second)
    return combined


_TAKEN_DOWN = re.compile(r"(?i)^(unpublish(ed)?|retract(ed)?|withdrawn|taken[ _-]?down|depublished)$")
_STATE_KEY = re.compile(r"(publish|state|status|visibility)")


def _arguments(
    result: Classification, arguments: dict[str, Any], tool_words: frozenset[str], named: frozenset[C]
) -> None:
    changing = bool(named & _CHANGING) or not named
    shell_tool = bool(tool_words & _SHELL_TOOL_WORDS)
    code_tool = bool(tool_words & _CODE_TOOL_WORDS)
    # a batch call's verbs are its keys (``products_batch(delete=[1102, …], update=[…])``), where its name
    # has none (``modify_labels(remove=[…])`` is the name's modify)
    for key, value in arguments.items() if not named else ():
        if isinstance(value, list | dict) and value and _BATCH_VERB.match(str(key)):
            for capability, why in words.name_capabilities(str(key)):
                result.add(capability, "argument", f"{key} lists items ({why})")
    # a row written to a sheet or a table (``tracker.add_row(row={amount: …})``): its amounts are data
    rows = bool(tool_words & _DATA_ROWS) and C.MONEY not in named
    # a person's record made or changed (``employees.create(body={personalDetails: {email: …}, payAmount:
    # …})``): its nested fields describe the person; they message and pay no one
    record = bool(tool_words & _PEOPLE_RECORDS) and C.MONEY not in named and C.COMMUNICATE not in named
    top = {str(k) for k, v in arguments.items() if not isinstance(v, dict | list)} if record else set()
    # records a call makes in a batch (``create_bowlers(bowlers=[{name, email, …}, …])``, an import): the
    # keys of its rows are the records' fields, no one to message (a list of addresses is still whom)
    # (not a payout's or an account's rows: ``payouts.create(items=[{receiver: …}])`` pays whom they name)
    batch = tool_words & _MAKES_RECORDS and not tool_words & _MESSAGING and not named & _NAMES_WHOM
    row_keys = {k for k in _row_keys(arguments) if not _key_words(k) & _WHOM} if batch else set()
    for key, value in scalars(arguments):
        kw = _key_words(key)
        if value is True and changing and kw & _WAIVES:  # ``waive_fare_difference: true``: money given up
            result.add(C.MONEY, "argument", f"{key}=true gives up a charge")
        if isinstance(value, bool) or value is None:
            continue
        text = str(value).strip()
        if not text:
            continue
        lowered_key = key.lower()
        if changing and _TAKEN_DOWN.match(text) and _STATE_KEY.search(lowered_key):
            # ``publish_state: "unpublished"``: what readers could read is taken down (an unpublish deletes)
            result.add(C.DELETE, "argument", f"{key}={text} takes it down")
        if (
            lowered_key in SUBCOMMAND_KEYS
            and _IDENT.match(text)
            and not (shell_tool and lowered_key in SHELL_KEYS and " " in text)
        ):
            method = words.HTTP_METHODS.get(text.lower())
            if method is not None:
                result.subcommand = True
                result.add(method, "argument", f"{key}={text}")
                if text.lower() in ("put", "patch"):  # it replaces or changes the resource it names
                    result.add(C.WRITE, "argument", f"{key}={text} changes the resource")
                continue
            sub = words.name_capabilities(text)
            if sub and lowered_key == "mode" and changing and named and {c for c, _ in sub} <= {C.READ}:
                sub = ()  # ``update_rule(mode="monitor")``: a setting the change makes, not a read
            if sub:
                result.subcommand = True
                for capability, why in sub:
                    result.add(capability, "argument", f"{key}={text} ({why})")
                continue
        if isinstance(value, str) and lowered_key in SHELL_KEYS and shell_tool:
            _merge_shell(result, analyse(text), f"shell `{text[:60]}`")
            continue
        if isinstance(value, str) and (lowered_key in CODE_KEYS or lowered_key in SHELL_KEYS) and code_tool:
            _merge_shell(result, analyse_code(text), "code")
            continue
        sql_key = kw & SQL_KEYS or (lowered_key in ("command", "cmd", "c", "e") and tool_words & _SQL_TOOLS)
        if isinstance(value, str) and sql_key and (sql := words.sql_capability(text)):
            result.add(sql[0], "argument", f"SQL {sql[1]}")
            continue
        if isinstance(value, str) and sql_key and (graphql := graphql_operation(text)):
            # a GraphQL document: ``mutation { … }`` changes, ``query { … }`` or ``{ … }`` reads
            result.add(C.WRITE if graphql == "mutation" else C.READ, "argument", f"GraphQL {graphql}")
            continue
        if isinstance(value, str) and "(" in text and kw & (CODE_KEYS | {"action", "actions", "steps"}):
            # a small call language (a browser's goto(…), fill(…), click(…)): read each call's name
            for name in dict.fromkeys(_CALLS_IN_TEXT.findall(text[:2000])):
                for capability, why in words.name_capabilities(name):
                    result.add(capability, "argument", f"{name}() ({why})")
            for url in urls_in(text[:2000])[:3]:
                if not is_local_host(host_of(url)):
                    result.add(C.FETCH, "argument", f"a call reaches {url[:80]}")
            continue
        if (
            isinstance(value, str)
            and (kw & URL_KEYS or text.startswith(("http://", "https://")))
            and (urls_in(text) or (kw & URL_KEYS and _BARE_HOST.match(text)))
        ):
            url = (urls_in(text) or ["http://" + text])[0]
            if not is_local_host(host_of(url)):
                # a URL the call sends to: the name says so, or the call also carries a body to send
                carries = changing and any(_key_words(k) & CONTENT_KEYS for k in arguments if k != key)
                outbound = (named | result.evidence.keys()) & {C.EGRESS, C.COMMUNICATE} or carries
                result.add(C.EGRESS if outbound else C.FETCH, "argument", f"{key} is a URL ({url[:80]})")
                for capability, why in path_capabilities(url, _method_of(arguments)):
                    result.add(capability, "argument", why)  # ``POST …/refunds``: what the request makes
                if (state := _state_set(arguments)) is not None:
                    result.add(C.WRITE, "argument", f"the request's body sets {state}")
                if not outbound and (smuggled := data_in_host(url)):
                    result.add(C.EGRESS, "argument", f"{key}: {smuggled}")
                # (a query that carries people's addresses sends them: ``…?members=a@x.nl,b@y.com,c@z.nl``)
                elif not outbound and len(set(_EMAIL_IN.findall(url.partition("?")[2]))) >= _MANY_ADDRESSES:
                    result.add(C.EGRESS, "argument", f"{key}: its query carries e-mail addresses")
            continue
        field = (record and key not in top) or key in row_keys
        if (
            kw & RECIPIENT_KEYS
            and changing
            and not field
            and not _NOT_RECIPIENT.search(key)  # ``in_reply_to_uid`` names a message, not whom it goes to
            and not tool_words & _DRAFTS  # a draft is saved for the user to send: a write
            # (``add_flag(email=…)``, ``tag_member(email=…)``: the key of the record marked, no message)
            and not (kw <= _ADDRESS_AS_KEY and tool_words & _MARKING and not tool_words & _MESSAGING)
            and not tool_words
            & _REMOVES_SOMEONE  # ``subscribers.forget(email=…)``: whom it removes, no message
            and not _IBAN.match(text.upper())  # a payee's account: the payment check below says money
            # (``channels: ALL`` of a rate or stock update: every sales channel, nobody messaged; a
            # message to everyone is named by its tool or its audience: ``post_message``, ``@channel``)
            and not (kw & {"channel", "channels"} and text.strip().lower() in ("all", "*"))
            and (
                _EMAIL.match(text)
                or lowered_key in _TO_KEYS  # (``to_cabin`` is where a guest moves, no one messaged)
                or kw
                & {
                    "recipient",
                    "recipients",
                    "cc",
                    "bcc",
                    "participants",
                    "attendees",
                    "invitees",
                    "channel",
                    "channels",
                }
            )
        ):
            result.add(C.COMMUNICATE, "argument", f"{key} names a recipient")
            continue
        if (
            (
                (kw & MONEY_KEYS and not _DESCRIBES_MONEY.search(key))
                or lowered_key in _BANK_ROUTING
                or _IBAN.match(text.upper())
                or _MONEY_VALUE.match(text)
            )
            and changing
            and not rows
            and not field
        ):
            result.add(C.MONEY, "argument", f"{key} is a payment detail")
            continue
        if (
            kw & SECRET_KEYS
            and not kw & {"keyword", "keywords", "key_id", "keys"}
            and key.lower() not in ("key",)
            and (kw & SECRET_KEYS != {"key"} or kw & _SECRET_KEY_KINDS)  # ``issue_key`` names an issue
        ):
            result.add(C.SECRET, "argument", f"{key} {CARRIES_SECRET}")
            continue
        if kw & IDENTITY_KEYS and changing and not kw & _ROUTING:
            result.add(C.IDENTITY, "argument", f"{key} sets access")
            continue
        if isinstance(value, str) and request_path(key, arguments):
            for capability, why in path_capabilities(text, _method_of(arguments)):
                result.add(capability, "argument", why)
            continue
        if isinstance(value, str) and kw & PATH_KEYS and is_secret_path(text):
            result.add(C.SECRET, "argument", f"{key} is {text[:80]}, which holds a secret")
            continue


_HTTP_METHODS = frozenset("GET POST PUT PATCH DELETE HEAD OPTIONS".split())
# the keys that name whom a message goes to by "to" (``to_cabin``, ``defer_to`` name a place or a time)
_TO_KEYS = frozenset("to to_address to_addresses to_email to_emails to_list to_recipients".split())
# a charge forgone by a flag: a fee waived, a balance written off, a difference comped
_WAIVES = frozenset("waive waived waiver waivers writeoff forgive forgiven comp comped exonerate".split())
_BARE_REPLY = frozenset("reply respond answer final say".split())
_REPLY_TEXT = frozenset("text message content answer response".split())  # (a ``body`` is a mail's)
# whom a message is from (``senderEmail``, ``from_address``) or which one it answers: not where it goes
_EMAIL_IN = re.compile(r"[\w.+-]+(?:@|%40)[\w-]+\.[\w.-]+")
_MANY_ADDRESSES = 3
_NOT_RECIPIENT = re.compile(r"(?i)^in_?reply_?to|message_?id$|thread_?id$|^sender|^from(_|[A-Z]|$)")
_DRAFTS = frozenset({"draft", "drafts"})
_NAMES_WHOM = frozenset({C.MONEY, C.COMMUNICATE, C.IDENTITY})
_WHOM = frozenset(
    "to receiver receivers recipient recipients payee beneficiary cc bcc".split()
)  # a row's addressee
_MAKES_RECORDS = frozenset("create add import insert upsert register enrol enroll bulk batch".split())


def _row_keys(arguments: dict[str, Any]) -> set[str]:
    """The keys found only inside the rows (dicts in a list) of a call's arguments."""
    inside = {
        str(k)
        for v in arguments.values()
        if isinstance(v, list)
        for row in v[:64]
        if isinstance(row, dict)
        for k in row
    }
    return inside - {str(k) for k in arguments}


_ADDRESS_AS_KEY = frozenset({"email", "address", "user", "member", "customer", "contact"})
_MARKING = frozenset("flag flags tag tags label labels mark annotate note notes".split())
_MESSAGING = frozenset(
    "send mail email emails message messages notify notification invite invites reply post dm chat sms text "
    "share forward remind broadcast newsletter campaign compose".split()
)
_REMOVES_SOMEONE = frozenset(
    "forget delete remove erase anonymise anonymize unsubscribe deactivate suspend block ban purge "
    "offboard".split()
)


_STATE_KEYS = frozenset("status state enabled active disabled archived cancelled canceled".split())


def _state_set(arguments: dict[str, Any]) -> str | None:
    """The state a changing request's body sets (``POST …/bulk-status`` with ``{"status": "cancelled"}``):
    the request changes the items it selects, whatever its path is called."""
    if _method_of(arguments).upper() not in ("POST", "PUT", "PATCH"):
        return None
    for key in ("body", "json", "data", "payload"):
        body = arguments.get(key)
        if isinstance(body, dict) and (found := sorted(k for k in body if str(k).lower() in _STATE_KEYS)):
            value = body[found[0]]
            # a state is a flag or one token (``cancelled_weather``, ``false``), not a line of prose posted
            # to a chat ("alerts muted")
            if isinstance(value, bool) or (isinstance(value, str) and value and " " not in value.strip()):
                return str(found[0])
    return None


def _method_of(arguments: dict[str, Any]) -> str:
    """The HTTP method a request's arguments name ("" when none)."""
    method = arguments.get("method") or arguments.get("http_method") or arguments.get("verb")
    return method if isinstance(method, str) else ""


def request_path(key: str, arguments: dict[str, Any]) -> bool:
    """``path`` of an HTTP request (the call has ``method: POST``): a URL's path such as
    ``/v1/webhook_endpoints/…/roll_secret``, not a file on disk."""
    return key.lower() == "path" and _method_of(arguments).upper() in _HTTP_METHODS


def classify(event: ToolCall, manifest: Manifest | None = None) -> Classification:
    """What ``event`` can do, with the evidence for each capability."""
    return _classify(event.arguments, event.tool, event.action, event.tool_declaration, manifest)


def classify_shared(event: ToolCall, manifest: Manifest | None = None) -> Classification:
    """:func:`classify`, computed once per distinct call (arguments, tool, action, declaration): agents
    repeat their calls. The result is shared by the events that make the call: read it, never change it."""
    return _classify_shared(event.arguments, event.tool, event.action, event.tool_declaration, manifest)


def _classify(
    arguments: dict[str, Any],
    tool: str,
    action: str,
    declaration: ToolDeclaration | None,
    manifest: Manifest | None,
) -> Classification:
    result = Classification()
    if manifest is not None and (entry := manifest.lookup(tool, action)) is not None:
        for capability in entry.capabilities:
            result.add(capability, manifest.origin, f"entry '{entry.match}'")
        return result
    tool_words = _tool_words(tool, action)
    named = _name_evidence(tool, action)
    if tool_words and tool_words <= _BARE_REPLY and arguments.keys() <= _REPLY_TEXT and declaration is None:
        # ``reply(text=…)``: nothing says to whom or to which message: the agent answering its own user
        result.add(C.READ, "name", f"{tool}: a reply with only its text, to the agent's own user")
        return result
    if declaration is not None:
        _declared(result, declaration, bool(named))
    if arguments:
        if (line := words.argv_line(tool, arguments)) is not None:  # ``git`` with ``args: [push, …]``
            _merge_shell(result, analyse(line), f"argv `{line[:60]}`")
        _arguments(result, arguments, tool_words, frozenset(c for c, _ in named))
        # only a computer-use or browser tool's ``action`` is a screen action (``bash(action="wait")`` is not)
        ui_action = (
            str(arguments.get("action") or "").lower() if tool_words & _UI_TOOLS and not result.shell else ""
        )
        if ui_action in _NAVIGATION:  # a computer-use agent looking around: a context menu, a scroll
            result.evidence.clear()
            result.subcommand = True
            result.add(C.READ, "argument", f"action={ui_action} only moves around the screen")
        elif ui_action in ("type", "key", "keypress"):  # keys into whatever field has the focus
            result.evidence.clear()
            result.subcommand = True
            result.add(C.FORM_INPUT, "argument", f"action={ui_action} types into a form")
        elif (tool_words & _CLICKS and not result.evidence) or ui_action in _UI_CLICKS:
            _clicked(result, arguments)
    # The name counts unless the call's own line or sub-command already said what it does: ``execute_bash``
    # running ``ls`` reads (not "executes"), ``str_replace_editor`` with ``command: view`` reads.
    label = tool if action == tool else f"{tool}/{action}"
    if not result.subcommand:
        for capability, why in named:
            if not (capability is C.EXECUTE and result.shell is not None):
                result.add(capability, "name", f"{label}: {why}")
    if C.FORM_INPUT in result.evidence and (attached := _form_upload(arguments)) is not None:
        result.add(C.EGRESS, "argument", f"uploads {attached[:80]} through the form")
    return result


_UPLOAD_WORDS = frozenset("upload uploads attach attachment attachments files".split())


def _form_upload(arguments: dict[str, Any]) -> str | None:
    """The local file a form filling attaches (``uploads: {q2_file: /tmp/cases.csv}``, ``files: [...]``): the
    file leaves with the form, whatever the form's fields say."""
    for key, value in scalars(arguments):
        path = value.strip() if isinstance(value, str) else ""
        words_of_key = set(words.split_words(key))
        if (
            path.startswith(("/", "~/", "./", "C:\\"))
            and " " not in path
            and "." in path.rsplit("/", 1)[-1]
            and words_of_key & (_UPLOAD_WORDS | {"file"})
        ):
            return path
    return None


_classify_shared = by_arguments(_classify)

_CLICKS = frozenset({"click", "tap", "press"})
_UI_TOOLS = frozenset("computer browser screen desktop mouse playwright puppeteer selenium ui".split())
_UI_CLICKS = frozenset({"click", "left_click", "double_click", "tap"})  # a computer-use tool's ``action``
_NAVIGATION = frozenset(
    {"right_click", "hover", "mouse_move", "scroll", "screenshot", "zoom", "wait", "cursor_position"}
)
# the label of what a click hits: ``aria-label='Delete'``, ``:has-text('Place order')``, ``#buy-now-button``
_LABEL_IN_SELECTOR = re.compile(
    r"(?:aria-label|title|value|has-text|text|name)\s*[=(]\s*['\"]([^'\"]{1,60})['\"]", re.I
)
_LABEL_KEYS = ("text", "label", "element", "button", "name", "target")
_CONFIRMATIONS = frozenset({"ok", "okay", "yes", "confirm", "continue", "proceed", "got it", "done"})


def click_labels(arguments: dict[str, Any]) -> list[str]:
    """The labels of the control a click hits: from its selector, its text, and an id or class named for
    its act."""
    selector = str(arguments.get("selector") or arguments.get("ref") or "")
    labels = [m.group(1) for m in _LABEL_IN_SELECTOR.finditer(selector)]
    labels += [str(arguments[k]) for k in _LABEL_KEYS if isinstance(arguments.get(k), str)]
    return labels + re.findall(r"[#.]([A-Za-z][\w-]{2,40})", selector)


def _clicked(result: Classification, arguments: dict[str, Any]) -> None:
    """A click does what the control it hits says: "Delete" deletes, "Send" sends, "Buy now" buys; a
    control without a known verb (``OK``, a checkbox) leaves the click a generic form input."""
    for label in click_labels(arguments):
        if label.strip().lower() in _CONFIRMATIONS:  # the act was the click that opened the dialog
            result.subcommand = True
            result.evidence.clear()
            result.add(
                C.READ, "argument", f"clicked {label.strip()!r}: confirms what the previous click asked"
            )
            return
        if found := words.name_capabilities(label.strip().replace(" ", "_")):
            result.subcommand = True
            result.evidence.clear()  # the control's verb, not the generic click
            for capability, why in found:
                result.add(capability, "argument", f"clicked {label.strip()[:40]!r} ({why})")
            return


def capabilities_of(event: ToolCall, manifest: Manifest | None = None) -> tuple[C, ...]:
    return classify(event, manifest).capabilities
