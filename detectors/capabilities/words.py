"""Words to capabilities: what a tool's name, an argument's name or a task says it does, in plain English.

The vocabulary is general English (verbs and nouns of software and office work), not any toolkit's or
benchmark's names: a tool called ``GmailSendEmail``, ``send_email``, ``mail.send`` or ``post-message`` is
split into words (:func:`split_words`) and the words are looked up here. A name's *verb* decides most (the
first word that is a known verb: ``get_send_status`` reads, ``BankManagerTransferFunds`` transfers); its
*nouns* add what the object implies (``money``, ``password``, ``user``) and settle ambiguous verbs
(``transfer`` moves money only with a money noun or argument; ``post`` sends data to a URL but a message
to people).
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Sequence
from typing import Any

from schemas.types import Capability as C

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[a-z]+")


_ANNOTATIONS = frozenset("comment comments note notes memo remark remarks tag tags label labels".split())
# … but a credit or debit note (or memo) is a document of money owed: ``create_credit_note``
_MONEY_DOCUMENTS = frozenset("credit debit".split())


@functools.lru_cache(maxsize=8192)
def split_words(name: str) -> tuple[str, ...]:
    """``GmailSendEmail`` / ``send_email`` / ``send-email`` / ``mail.send`` / ``HTTPRequest`` -> words."""
    return tuple(_WORD.findall(_CAMEL.sub(" ", name).lower()))


# -- verbs: the first one in a name decides what the call does --------------------------------------------

READ_VERBS = frozenset(
    """get gets list lists read reads search searches find query lookup look view show describe check inspect
    retrieve scan count load peek cat head tail explore analyze analyse summarize summarise calculate compute
    verify validate preview watch monitor track print display review select fetch see estimate compare
    measure evaluate convert translate parse extract recognize recognise detect identify classify locate
    poll status stat ls grep diff inquire ask think reason plan recall note wait sleep finish done
    complete answer echo provide harvest collect gather capture dump sniff observe audit
    research study learn understand forecast predict recommend suggest assess diagnose test filter""".split()
)
WRITE_VERBS = frozenset(
    """create add update edit modify set put write save insert append patch replace rename move copy change
    configure enable disable install register schedule assign apply commit merge rebase squash amend mark tag
    label star pin tick
    import restore reset approve reject close reopen open toggle lock unlock start stop restart reboot
    deploy make new generate build record log store increase decrease adjust allocate reallocate
    upgrade downgrade reserve rebook reschedule mute unmute archive unarchive subscribe unsubscribe follow
    unfollow like accept decline confirm manage handle process fix resolve transfer migrate sync place
    submit fill type enter click press attach detach hijack modify tamper override alter encrypt decrypt
    optimize optimise draft compose prepare organize organise plant inject embed control arm disarm
    activate switch operate rotate regenerate renew reissue scale resize silence inhibit suppress snooze
    bypass docket quarantine pause unpause resume freeze unfreeze restrict unrestrict shelve
    unshelve turn ack acknowledge contain isolate touch extend transition finalize upsert reconcile
    whitelist allowlist blocklist blacklist redirect reroute divert defer postpone waive
    immobilize immobilise reassign block unblock""".split()
)
DELETE_VERBS = frozenset(
    """delete deletes remove rm drop destroy purge wipe erase truncate terminate kill uninstall unregister
    cancel clear clean prune shred format unlink rmdir discard empty revoke deactivate disconnect evict
    expunge nuke obliterate deprovision decommission teardown tear forget anonymise anonymize
    void voids unpublish yank forfeit invalidate""".split()
)
EXECUTE_VERBS = frozenset(
    """execute exec run eval invoke spawn launch interpret compile trigger dispatch perform rollout
    rerun""".split()
)
COMMUNICATE_VERBS = frozenset(
    """send email mail message reply forward comment tweet notify invite sms chat dm announce
    broadcast contact respond mention ping dial alert greet introduce""".split()
)
EGRESS_VERBS = frozenset(
    """upload share publish export push transmit exfiltrate sendfile beam leak disclose expose release
    distribute syndicate forward""".split()
)
FETCH_VERBS = frozenset("""navigate browse visit download crawl scrape goto go curl wget http""".split())
FORM_VERBS = frozenset("""fill type enter submit click press checkout sign efile""".split())
# groups of people a task or a result speaks of ("cancel the patients' visits", ``"patients_affected": 9``)
PEOPLE_PLURALS = (
    "patients customers clients members guests users students employees residents families tenants "
    "passengers donors people persons everyone everybody"
).split()
MONEY_VERBS = frozenset(
    """pay wire refund deposit purchase buy charge remit donate tip sell trade invest book
    order bill reimburse compensate disburse settle credit debit""".split()
)
IDENTITY_VERBS = frozenset(
    """grant revoke authorize deauthorize elevate escalate impersonate assume promote demote enroll
    unenroll onboard offboard provision chmod chown reinstate unsuspend unban ban suspend""".split()
)

# What a verb means by itself (nouns may add to it or settle it, see :func:`name_capabilities`).
VERB_CAPABILITIES: dict[str, frozenset[C]] = {}
for _verbs, _capability in (
    (READ_VERBS, C.READ),
    (WRITE_VERBS, C.WRITE),
    (DELETE_VERBS, C.DELETE),
    (EXECUTE_VERBS, C.EXECUTE),
    (COMMUNICATE_VERBS, C.COMMUNICATE),
    (EGRESS_VERBS, C.EGRESS),
    (FETCH_VERBS, C.FETCH),
    (FORM_VERBS, C.FORM_INPUT),
    (MONEY_VERBS, C.MONEY),
    (IDENTITY_VERBS, C.IDENTITY),
):
    for _verb in _verbs:
        VERB_CAPABILITIES[_verb] = VERB_CAPABILITIES.get(_verb, frozenset()) | {_capability}
# Words that are verbs in one name and nouns in another: only the *first* verb of a name counts, so
# ``book_reservation`` books while ``get_booking`` reads.
AMBIGUOUS = {
    # verb: what it means when a money noun or argument is present / what it means otherwise
    "transfer": (frozenset({C.MONEY}), frozenset({C.WRITE})),
    "post": (frozenset({C.EGRESS}), frozenset({C.COMMUNICATE})),
    "order": (frozenset({C.MONEY}), frozenset({C.READ})),
    "book": (frozenset({C.MONEY, C.WRITE}), frozenset({C.WRITE})),
    "open": (frozenset({C.FETCH}), frozenset({C.READ})),
    # (``withdraw_funds`` moves money; ``withdraw_entries``, ``withdraw_application`` take something back)
    "withdraw": (frozenset({C.MONEY}), frozenset({C.DELETE})),
}

# -- nouns: what the object of the call adds ---------------------------------------------------------------
# orders that are instructions, not purchases (the noun before "order" says which)
ORDERS_NOT_BOUGHT = frozenset(
    "switching work change sort job service maintenance court production batch restraining execution"
    " field destruction disposal repair recall inspection pick picking".split()
)

MONEY_NOUNS = frozenset(
    """money fund funds payment payments payout transaction transactions iban swift bic wire invoice invoices
    bill bills billing card cards credit debit balance balances bank banking crypto bitcoin
    btc eth ethereum wallet wallets coin coins stock stocks trade trades portfolio
    investment investments loan loans mortgage salary payroll price prices amount cash currency dollars
    euro euros refund refunds purchase purchases reservation booking tickets ticket fare fares subscription
    donation tip checkout cart order orders""".split()
)
# a support desk's ticket is a message to the people behind the desk when it is filed or answered
_SUPPORT_DESKS = frozenset("ticket tickets servicedesk helpdesk".split())
_FILES_A_TICKET = frozenset(
    "create open submit raise file new add post reply respond comment escalate".split()
)
# verbs that buy, sell or give back a ticket (a fare, a seat); any other act on a ticket is a support ticket's
_TICKET_SELLING = frozenset("buy book purchase order sell reserve refund cancel issue exchange void".split())
# Nouns that make a transfer, post or order about money (a narrower set than MONEY_NOUNS: a "reservation"
# is money only when booked, not when read).
MONEY_SETTLING = frozenset(
    """money fund funds payment payments transaction iban wire card credit debit bank crypto bitcoin btc eth
    wallet coin stock stocks amount cash currency dollars euro euros refund loan salary payroll""".split()
)
SECRET_NOUNS = frozenset(
    """secret secrets password passwords passwd passphrase credential credentials token tokens apikey
    key keys privatekey ssh certificate certificates cert certs vault keychain keyring
    otp mfa totp pin pins seed mnemonic shadow env dotenv kms""".split()
)
# codes that open a door, a gate or an alarm are credentials (a discount code, a country code are not)
_CODES = frozenset("code codes combination combinations".split())
_ENTRY_NOUNS = frozenset(
    "access door doors gate gates alarm alarms entry keypad lock locks lockbox garage".split()
)
IDENTITY_NOUNS = frozenset(
    """user users member members membership group groups role roles permission permissions privilege
    privileges policy policies access acl acls admin administrator administrators sudo sudoer sudoers owner
    owners collaborator collaborators guest guests invitation invite invites identity identities account
    accounts principal principals login profile profiles mfa iam grant grants trust sharing""".split()
)
COMMUNICATE_NOUNS = frozenset(
    """email emails mail mails message messages msg dm chat chats channel channels post posts tweet tweets
    comment comments reply replies notification notifications sms text call calls inbox conversation
    conversations thread threads human humans agent agents person people representative support
    contact contacts recipient recipients newsletter announcement issue issues discussion
    discussions forum forums community ticket tickets servicedesk helpdesk""".split()
)
WEB_NOUNS = frozenset(
    """url urls uri link links webpage webpages website websites web page pages site sites http https
    browser internet online homepage""".split()
)
FILE_NOUNS = frozenset("""file files document documents doc docs folder folders directory drive""".split())
EXEC_NOUNS = frozenset(
    """bash shell terminal console command commands cmd script scripts code python ipython jupyter
    notebook interpreter repl sandbox powershell subprocess process job jobs""".split()
)
FORM_NOUNS = frozenset("""form forms field fields button input""".split())


# Verbs that are as often the noun of a toolkit's name (``EmergencyDispatchSystemCreateDispatchRequest``,
# ``record_payment``): a plain verb elsewhere in the name wins over them.
NOUNISH_VERBS = frozenset(
    """dispatch order book post record log process handle manage track monitor plan note status chat
    message mail email comment reply trade bill tip charge deposit alert sign print display lock
    test audit study http https credit debit""".split()
)


def _known(word: str) -> bool:
    return word in VERB_CAPABILITIES or word in AMBIGUOUS


_PEOPLE_NOUNS = frozenset(
    "seller sellers buyer buyers trader traders dealer dealers bidder bidders adjuster adjusters".split()
)


@functools.lru_cache(maxsize=8192)
def verb_stem(word: str) -> str | None:
    """The verb a derived word names (``reallocation`` -> ``reallocate``, ``harvesting`` -> ``harvest``,
    ``uploader`` -> ``upload``, ``payment`` -> ``pay``, ``transfers`` -> ``transfer``), or None."""
    if _known(word):
        return word
    if word in _PEOPLE_NOUNS:
        return None  # a party to a trade, not the act: ``seller_admin`` administers sellers
    if word.startswith("re") and len(word) >= 6 and _known(word[2:]):
        return word[2:]  # ``resubmit``, ``repost``, ``reupload``: the verb again
    candidates: list[str] = []
    if word.endswith("ication"):
        candidates.append(word[:-7] + "y")
    if word.endswith("ation"):
        candidates += [word[:-5] + "ate", word[:-5] + "e", word[:-5]]
    if word.endswith("ion"):
        candidates += [word[:-3] + "e", word[:-3]]
    if word.endswith("ing"):
        candidates += [word[:-3], word[:-3] + "e", word[:-4]]
    if word.endswith("ment"):
        candidates.append(word[:-4])
    if word.endswith(("er", "or")):
        candidates += [word[:-2], word[:-1], word[:-2] + "e"]
    if word.endswith("al"):
        candidates += [word[:-2], word[:-2] + "e"]
    if word.endswith("es"):
        candidates.append(word[:-2])
    if word.endswith("s"):
        candidates.append(word[:-1])
    if word.endswith("ed"):
        candidates += [word[:-2], word[:-1]]
    return next((c for c in candidates if len(c) >= 3 and _known(c)), None)


def _verb_of(words: tuple[str, ...]) -> tuple[str | None, int]:
    """The name's verb and its position: the first known verb, unless it is noun-like and a plain verb
    follows (toolkit-plus-verb names put the toolkit's nouns first)."""
    first: tuple[str | None, int] = (None, -1)
    derived: tuple[str | None, int] = (None, -1)
    for index, word in enumerate(words):
        if _known(word):
            if word not in NOUNISH_VERBS:
                return word, index
            if first[0] is None:
                first = (word, index)
        elif derived[0] is None and (stem := verb_stem(word)) is not None:
            derived = (stem, index)  # a noun made from a verb: weaker than any verb of the name
    return first if first[0] is not None else derived


def name_verb(name: str) -> str | None:
    """The verb of a tool's or action's name (``gmail.send_draft``: send)."""
    return _verb_of(split_words(name))[0]


_HTTP_WORDS = frozenset({"http", "https", "rest", "webhook"})
# what an HTTP method does, for a ``method`` argument and for names like ``http_post``
HTTP_METHODS = {
    "get": C.FETCH,
    "head": C.FETCH,
    "options": C.FETCH,
    "post": C.EGRESS,
    "put": C.EGRESS,
    "patch": C.EGRESS,
    "delete": C.DELETE,
}
# what a "send" moves when it is money itself (an invoice or a payment reminder is still a message)
_MONEY_PAYLOADS = frozenset(
    "money funds fund payment payments transaction transactions crypto bitcoin btc eth cash coins "
    "tokens wire transfer".split()
)


# ``reply_user``, ``respond_to_user``, ``ask_user``, ``final_answer``: the conversation with the user
_REPLY_TO_USER = frozenset(
    "reply respond answer final ask tell message send to the user human clarify clarification".split()
)


_ISSUED_ACCESS = frozenset("key keys badge badges fob fobs keycard keycards pass passes credential".split())
_EDITS_TEXT = frozenset("append prepend insert replace edit update set type write put".split())


_REMOTE_TRANSFERS = frozenset("sftp ftp ftps scp rsync webdav".split())
_PUTS = frozenset("put mput upload send push copy cp write store transfer".split())


@functools.lru_cache(maxsize=8192)
def name_capabilities(name: str) -> tuple[tuple[C, str], ...]:
    """(capability, why) pairs a tool or action name implies; empty when no word is known."""
    words = split_words(name)
    if not words:
        return ()
    if set(words) <= _REPLY_TO_USER and set(words) & {"user", "human", "answer"}:
        return ((C.READ, f"{name}: the agent's reply to its own user, not a message to anyone else"),)
    found: dict[C, str] = {}

    def add(capability: C, why: str) -> None:
        found.setdefault(capability, why)

    method = next((w for w in words if w in HTTP_METHODS), None)
    if method is not None and _HTTP_WORDS & set(words):  # ``http_post``, ``HttpDelete``: the method decides
        return ((HTTP_METHODS[method], f"HTTP method '{method}'"),)
    verb, position = _verb_of(words)
    namespace = len(split_words(re.split(r"__|\.", name)[0])) if ("__" in name or "." in name) else 0
    namespace = namespace if "__" in name or namespace >= 2 else 0  # ``Refund.create``: a type, not a server
    outer = VERB_CAPABILITIES.get(verb or "", frozenset())
    # ``access_control__get_codes``: the server's name is no verb of the tool's (``pay_pal__payouts_create``
    # keeps the money its server's name says)
    if 0 <= position < namespace and not outer & {C.MONEY, C.DELETE, C.IDENTITY}:
        inner, at = _verb_of(words[namespace:])
        if inner is not None:
            verb, position = inner, at + namespace
    nouns = frozenset(w for i, w in enumerate(words) if i != position)
    if verb is not None:
        if verb in AMBIGUOUS:
            settled = bool(nouns & MONEY_SETTLING) if verb != "open" else bool(nouns & WEB_NOUNS)
            if verb == "post":
                settled = bool(nouns & (WEB_NOUNS | FILE_NOUNS))
            for capability in AMBIGUOUS[verb][0 if settled else 1]:
                add(capability, f"verb '{verb}'")
        for capability in VERB_CAPABILITIES.get(verb, ()):
            add(capability, f"verb '{verb}'")
    reads = verb is None or C.READ in found
    for word in sorted(nouns) if not reads else ():  # nouns made from verbs: ``ScheduleKeyDeletion``
        stem = verb_stem(word) if word not in VERB_CAPABILITIES else None
        for capability in VERB_CAPABILITIES.get(stem or "", ()):
            if capability in (C.DELETE, C.EGRESS, C.MONEY, C.IDENTITY):
                add(capability, f"noun '{word}'")
    if nouns & EXEC_NOUNS and verb in ("send", "submit", "start", "trigger", "schedule", "create", "invoke"):
        add(C.EXECUTE, f"noun '{sorted(nouns & EXEC_NOUNS)[0]}'")
    if nouns & EXEC_NOUNS and (verb is None or C.EXECUTE in found or verb in ("run", "execute", "exec")):
        add(C.EXECUTE, f"noun '{sorted(nouns & EXEC_NOUNS)[0]}'")
    if nouns & WEB_NOUNS and reads:
        add(C.FETCH, f"noun '{sorted(nouns & WEB_NOUNS)[0]}'")
    if nouns & SECRET_NOUNS:
        add(C.SECRET, f"noun '{sorted(nouns & SECRET_NOUNS)[0]}'")
    if nouns & _CODES and nouns & _ENTRY_NOUNS:  # ``building_access.get_codes``, ``get_door_codes``
        add(
            C.SECRET,
            f"nouns '{sorted(nouns & _ENTRY_NOUNS)[0]}' and '{sorted(nouns & _CODES)[0]}': an entry code",
        )
    if nouns & _REMOTE_TRANSFERS and verb in _PUTS:  # ``sftp_put``, ``ftp_upload``: a file to another host
        add(C.EGRESS, f"'{verb}' over {sorted(nouns & _REMOTE_TRANSFERS)[0]}")
    money_nouns = nouns & MONEY_NOUNS
    if money_nouns <= {"order", "orders"} and nouns & ORDERS_NOT_BOUGHT:
        money_nouns = (
            frozenset()
        )  # a switching order, a work order, a change order: instructions, no purchase
    if money_nouns <= {"ticket", "tickets"} and verb not in _TICKET_SELLING:
        money_nouns = frozenset()  # ``tickets.bulk_update``, ``close_ticket``: a support ticket, no fare
    if words[-1] in _ANNOTATIONS and not (len(words) > 1 and words[-2] in _MONEY_DOCUMENTS):
        money_nouns = frozenset()  # ``add_order_comment``, ``update_invoice_tags``: a note on it, no money
    if money_nouns and not reads and verb not in ("transfer", "post", "open"):
        add(C.MONEY, f"noun '{sorted(money_nouns)[0]}' with a changing verb")
    if (
        nouns & IDENTITY_NOUNS
        and not reads
        and (found.keys() & {C.WRITE, C.DELETE, C.COMMUNICATE})
        and not _owned_content(words)
    ):
        add(C.IDENTITY, f"noun '{sorted(nouns & IDENTITY_NOUNS)[0]}' with a changing verb")
    # (not a read of a tracker's "issue key", ``jira_get_issue_keys``: no verb of its own hands access out)
    issued = (
        "issue" in words and bool(nouns & _ISSUED_ACCESS) and not nouns & MONEY_NOUNS and C.READ not in found
    )
    if issued:  # ``issue_mobile_key``, ``IssueBadge``: access handed to its holder (the verb, no issue filed)
        add(C.WRITE, "verb 'issue'")
        add(C.IDENTITY, f"issues a {sorted(nouns & _ISSUED_ACCESS)[0]}: access for whoever holds it")
    talks = nouns & COMMUNICATE_NOUNS - ({"issue"} if issued else set())
    if talks == {"text"} and verb in _EDITS_TEXT:
        talks = frozenset()  # ``docs__append_text``, ``insert_text``: a document's text, no text message
    if talks <= _SUPPORT_DESKS and verb not in _FILES_A_TICKET:
        talks = frozenset()  # ``update_ticket``, ``tickets.bulk_close``: the desk's record, no message sent
    if talks and (C.WRITE in found or C.COMMUNICATE in found) and verb != "transfer":
        add(C.COMMUNICATE, f"noun '{sorted(talks)[0]}'")
    if verb == "send" and words[-1] in _MONEY_PAYLOADS and C.MONEY in found:
        found.pop(
            C.COMMUNICATE, None
        )  # ``send_money``, ``SendTransaction``: the payload is money, no message
    if (
        nouns & {"gist", "gists", "paste", "pastebin"} and C.WRITE in found
    ):  # ``github__create_gist``: publishes
        add(C.EGRESS, f"noun '{sorted(nouns & {'gist', 'gists', 'paste', 'pastebin'})[0]}': published")
    if nouns & {"draft", "drafts"} and verb != "send":
        found.pop(C.COMMUNICATE, None)  # ``create_draft_reply``: a draft is saved for a person to send
        found.pop(C.EGRESS, None)
    if verb == "transfer" and nouns & COMMUNICATE_NOUNS and C.MONEY not in found:
        add(C.COMMUNICATE, "a hand-off to a person")
    if verb == "select" and nouns & {
        "option",
        "options",
        "dropdown",
    }:  # ``browser.select_option`` fills a form
        found.pop(C.READ, None)
        add(C.FORM_INPUT, "a choice made in a form")
    if nouns & FORM_NOUNS and not reads:
        add(C.FORM_INPUT, f"noun '{sorted(nouns & FORM_NOUNS)[0]}'")
    if verb is None:
        # A name without a verb names its object: a shell, a browser, a web page, a mailbox.
        if nouns & EXEC_NOUNS:
            add(C.EXECUTE, f"noun '{sorted(nouns & EXEC_NOUNS)[0]}'")
        if nouns & {"browser", "web", "webpage", "website", "http", "url"}:
            add(C.FETCH, "a web tool")
        if nouns & FILE_NOUNS and not found:
            add(C.READ, f"noun '{sorted(nouns & FILE_NOUNS)[0]}'")
    return tuple(found.items())


def capabilities_of_words(words: frozenset[str]) -> dict[C, str]:
    """What a bag of words (a task, a description) *mentions* doing: every known verb and the nouns that
    imply an action of their own (``payment``, ``password``). Used for descriptions and tasks, where the
    grammar is free and there is no single verb."""
    found: dict[C, str] = {}
    for word in sorted(words):
        for capability in VERB_CAPABILITIES.get(word, ()):
            found.setdefault(capability, f"'{word}'")
        if word in AMBIGUOUS:
            for capability in AMBIGUOUS[word][1]:
                found.setdefault(capability, f"'{word}'")
    return found


# What an SQL statement does, by its first word.
_SQL = re.compile(
    r"^\s*(select|with|show|describe|explain|insert|update|merge|upsert|replace|create|alter|"
    r"delete|drop|truncate|grant|revoke)\b",
    re.I,
)
_TRANSACTION = re.compile(r"(?i)\s*(?:begin(?:\s+(?:transaction|work))?|start\s+transaction)\s*;")
_SQL_CAPABILITY = {
    "select": C.READ,
    "with": C.READ,
    "show": C.READ,
    "describe": C.READ,
    "explain": C.READ,
    "insert": C.WRITE,
    "update": C.WRITE,
    "merge": C.WRITE,
    "upsert": C.WRITE,
    "replace": C.WRITE,
    "create": C.WRITE,
    "alter": C.WRITE,
    "delete": C.DELETE,
    "drop": C.DELETE,
    "truncate": C.DELETE,
    "grant": C.IDENTITY,
    "revoke": C.IDENTITY,
}


def sql_capability(text: str) -> tuple[C, str] | None:
    """What an SQL statement does, by its first word, with the word (``DROP``), or None."""
    if opened := _TRANSACTION.match(text):  # ``BEGIN; UPDATE …; COMMIT;``: the statement it holds
        text = text[opened.end() :]
    match = _SQL.match(text)
    if match is None:
        return None
    verb = match.group(1).lower()
    if verb in ("alter", "create") and _SQL_IDENTITY.match(text):  # ``ALTER ROLE app WITH SUPERUSER``
        return C.IDENTITY, f"{verb.upper()} ROLE"
    if verb == "select" and (acting := _SQL_ACTING.search(text[:4000])):  # a SELECT that acts
        return C.DELETE, acting.group(1).lower()
    if verb in ("create", "insert", "replace") and (table := replaced_by_its_subset(text)):
        return C.DELETE, f"replaces {table} with a filtered copy of itself"
    return _SQL_CAPABILITY[verb], verb.upper()


_SELF_REPLACE = re.compile(
    r"(?is)^\s*(?:create\s+or\s+replace\s+table|insert\s+overwrite(?:\s+table)?|replace\s+table)\s+"
    r"(?P<target>[`\"\[\]\w.-]+)(?P<between>.*?)\bfrom\s+(?P<source>[`\"\[\]\w.-]+)(?P<rest>.*)$"
)


def replaced_by_its_subset(text: str) -> str | None:
    """The table a statement overwrites with a filtered selection of its own rows (``CREATE OR REPLACE
    TABLE t AS SELECT DISTINCT * FROM t WHERE day = '05-14'``): every row outside the filter is gone. A
    whole-table rewrite (``SELECT DISTINCT * FROM t``, a dedup) or one partition's overwrite is not."""
    match = _SELF_REPLACE.match(text[:4000])
    if match is None or re.search(r"(?i)\bpartition\b", match.group("between")):
        return None
    target, source = (re.sub(r"[`\"\[\]]", "", match.group(g)).lower() for g in ("target", "source"))
    return target if target == source and re.search(r"(?i)\bwhere\b", match.group("rest")) else None


# server functions a SELECT calls to act (PostgreSQL): end sessions, drop a replication slot, remove a file
_SQL_ACTING = re.compile(
    r"\b(pg_terminate_backend|pg_cancel_backend|pg_drop_replication_slot|pg_file_unlink|pg_promote)\s*\(",
    re.I,
)
_SQL_IDENTITY = re.compile(r"^\s*(alter|create)\s+(role|user|group|login)\b", re.I)


# command-line programs that agent runtimes wrap as a tool of the same name with an argument list
CLI_PROGRAMS = frozenset(
    "git kubectl oc terraform tofu pulumi docker helm aws gcloud az rm curl wget ssh scp rsync psql mysql "
    "sqlite3 gh glab vault doppler infisical op bq snowsql gsutil ansible ansible-playbook mlflow mc".split()
)
_ARGV_KEYS = ("args", "argv", "arguments")
_PROGRAM_KEYS = (
    *_ARGV_KEYS,
    "cmd",
)  # (a program's own tool: ``fleetctl(cmd="geofence set …")``, its subcommand)
_PROGRAM_NAME = re.compile(r"[a-z][a-z0-9-]{1,24}")
_RUNNER_WORDS = frozenset("run exec execute command cmd shell terminal subprocess spawn".split())


def argv_line(tool: str, arguments: dict[str, Any]) -> str | None:
    """The command line a program-named tool runs with its argument list, or None."""
    program = re.sub(r"[_.-]cli$", "", tool.lower())  # ``aws_cli`` runs ``aws``
    runner = program not in CLI_PROGRAMS and bool(_RUNNER_WORDS & set(split_words(tool)))
    # a tool that is one word no vocabulary knows (``velero``, ``spacectl``), given an argument list: the
    # program of that name (a word of the vocabulary, ``search``, is a tool named for what it does)
    unknown = _PROGRAM_NAME.fullmatch(program) is not None and not name_capabilities(program)
    if program not in CLI_PROGRAMS and not runner and not unknown:
        return None
    keys = _ARGV_KEYS if runner else _PROGRAM_KEYS  # (a runner's ``cmd`` is a shell line, read as one)
    argv = next((arguments[k] for k in keys if isinstance(arguments.get(k), list | str)), None)
    if argv is None and not runner and isinstance(line := arguments.get("command"), str):
        # ``kubectl(command="kubectl delete namespace x")``: the program's own line under ``command`` (only
        # when it starts with the program: ``ssh(command="nvidia-smi")`` runs on the host, not as ssh's list)
        argv = line if line.split(maxsplit=1)[:1] == [program] else None
    if isinstance(argv, str):  # ``git(args="push --force origin main")``: the same list, written as a line
        line = argv.strip()
        if not line or "\n" in line:
            return None
        own = runner or line.split(maxsplit=1)[0] == program  # (``kubectl(cmd="kubectl get pods")``)
        return line if own else f"{program} {line}"
    if not argv or not all(isinstance(a, str) for a in argv):
        return None
    return shlex.join(argv if runner else [program, *argv])  # ``run_command(args=[curl, …])`` runs curl


_STATE_KEY = re.compile(r"(?i)^(status|state|disposition|decision|action|outcome)$")
_ONE_WORD = re.compile(r"^[A-Za-z]{3,20}(?:_[A-Za-z]{2,20}){0,3}$")
_SETTERS = frozenset("set update change modify edit patch put mark transition move apply save record".split())


# what a user owns, named after the user in an API's path (``users.messages``, ``users/{id}/drafts``)
_OWNED_CONTENT = frozenset(
    "messages message drafts draft threads thread labels events files photos documents".split()
)


def _owned_content(words: Sequence[str]) -> bool:
    """Whether a person noun is whose content the call acts on (``gmail.users.messages.send``: the user is
    whose mailbox, the messages what is sent), not the object itself."""
    first = next((i for i, w in enumerate(words) if w in IDENTITY_NOUNS), len(words))
    return bool(_OWNED_CONTENT & set(words[first + 1 :]))


def sets_state(tool: str) -> bool:
    """Whether a call of this name sets the state its arguments give (a setter's verb, or none): not the
    state a call of another verb filters by (``tickets.export(status="closed")`` closes nothing)."""
    verb, _ = _verb_of(tuple(split_words(tool)))
    return verb is None or verb in _SETTERS


def call_verbs(event: Any, command: str | None) -> set[str]:
    """The words of a call's name and of its command line, as verbs where they are derived words."""
    words = set(split_words(event.tool)) | set(split_words(event.action))
    # (the state a call sets says its act too: ``set_disposition(disposition="RELEASED")`` releases)
    # (``status: RELEASED_FOR_DISTRIBUTION``: its first word, the state)
    setter = sets_state(event.tool)
    words |= {
        str(v).split("_", 1)[0].lower()
        for k, v in event.arguments.items()
        if setter and _STATE_KEY.match(str(k)) and _ONE_WORD.match(str(v))
    }
    if command:
        words |= set(_WORD.findall(command[:2000].lower()))
    words |= _states_set_by_sql(event.arguments)
    return words | {stem for w in words if (stem := verb_stem(w))}


SQL_KEY = re.compile(r"^(sql|query|statement)$", re.I)  # an argument that holds an SQL statement
# an UPDATE's assignment of a state column: ``SET status = 'closed'`` closes, as ``set_status("closed")`` does
# (not a state its WHERE picks rows by: ``SET priority = 'low' WHERE status = 'closed'`` closes nothing)
_SQL_STATE_SET = re.compile(
    r"(?i)\bset\b(?:(?!\bwhere\b)[^;]){0,300}?"
    r"\b(?:status|state|disposition|decision|outcome)\s*=\s*'([A-Za-z]{3,20})'"
)


def _states_set_by_sql(arguments: dict[str, Any]) -> set[str]:
    """The states an UPDATE statement in the arguments sets (``closed`` of ``SET status='closed'``)."""
    found: set[str] = set()
    for key, value in arguments.items():
        sql = isinstance(value, str) and SQL_KEY.match(str(key)) and "=" in value
        if sql and (sql_capability(value) or (None, ""))[1] == "UPDATE":
            found |= {m.lower() for m in _SQL_STATE_SET.findall(value[:4000])}
    return found
