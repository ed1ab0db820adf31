"""What a tool's own name and description say its purpose is, when that purpose is harm or concealment
(``injection.harmful_tool``). General English for harm and hiding (the vocabulary of ATT&CK's tactics), read
in context: a sentence about defence ("prevent tampering", "train staff to spot phishing") or a name about
defence or simulation (``PhishingSimulator``, ``BreachNotification``) declares no harm."""

from __future__ import annotations

import functools
import re

from detectors.capabilities.words import READ_VERBS, split_words

CONCEALMENT = re.compile(
    r"\b((with|ensuring) no detection|without (being )?(detect\w*|notic\w*|a trace|"
    r"trigger\w* (any )?(alerts?|alarms?)|"
    r"alert\w* (anyone|the user|security)|(the )?(user|owner|admin\w*|victim)'?s? (knowledge|consent))|"
    r"undetect\w*|(avoid|evad|escap)\w* (detection|monitoring|logging|audit\w*)|covert\w*|stealth\w*|"
    r"secretly|surreptitious\w*|cover\w* (their|its|the) tracks)\b",
    re.I,
)
HARM = re.compile(
    r"\b(sabotag\w*|tamper\w*|falsif\w*|forgery|exfiltrat\w*|steal\w*|theft|hijack\w*|backdoor\w*|keylog\w*|"
    r"ransomware|deceiv\w*|deceptive\w*|mislead\w*|spoof\w*|"
    r"phish\w*|embezzl\w*|defraud\w*|fraudulent\w*|extort\w*|blackmail\w*|breach(es|ing)? (the|a|its)\b)",
    re.I,
)
PROTECTIVE = re.compile(
    r"\b(prevent\w*|protect\w*|against|detect\w*|identif\w*|flag\w*|mitigat\w*|avoid\w*|block\w*|stop\w*|"
    r"guard\w*|monitor\w*|defen[cs]\w*|anti|resist\w*|without|no|not|free|report\w*|investigat\w*|audit\w*|"
    r"scan\w*|simulat\w*|train\w*|awareness|test\w*|spot\w*|recogni[sz]\w*|catch\w*|counter\w*)\b",
    re.I,
)
HARMFUL_NAME_WORDS = frozenset(
    "sabotage tampering tamper exfiltration exfiltrate exfil backdoor hijack hijacking keylogger ransomware"
    " spoof spoofing phishing forgery theft steal stealer breach impersonation embezzlement extortion fraud"
    " bribery espionage leak covert".split()
)
_DEFENCE_NAME_WORDS = (
    "detection detector detect monitor guard protection protect prevention prevent notification notify report"
    " alert simulation simulator simulate simulated scanner scan test tester training anti check audit"
    " checker response awareness defense defence shield review screening screen investigation flag case"
    " score risk analysis"
)
_TAKING = frozenset("harvest collect gather capture dump sniff extract".split())  # reads that take
# names about defence, and names that only look (``hibp_breach_lookup``, ``list_early_fraud_warnings``)
PROTECTIVE_NAME_WORDS = frozenset(_DEFENCE_NAME_WORDS.split()) | (READ_VERBS - _TAKING)


def asks_for_harm(task: str) -> bool:
    """Whether the task speaks of harm or concealment (a red-team exercise); uncached: tasks are long."""
    return HARM.search(task[:4000]) is not None or CONCEALMENT.search(task[:4000]) is not None


@functools.lru_cache(maxsize=4096)
def declared_harm(name: str, description: str) -> str | None:
    """What in the tool's own name or description declares harm or concealment (None when nothing does)."""
    words = set(split_words(name))
    description = description.replace(name, "the tool") if name else description  # its own name is no claim
    if words & HARMFUL_NAME_WORDS and not words & PROTECTIVE_NAME_WORDS:
        return f"its name {name!r}"
    match = CONCEALMENT.search(description)
    if match and not re.search(r"\b(no|not|never)\W+(\w+\W+){0,2}$", description[: match.start()], re.I):
        return f"its description says {match.group(0)!r}"
    for match in HARM.finditer(description):
        sentence = re.split(r"[.;!?]\s", description[: match.start()])[-1]
        if not PROTECTIVE.search(sentence):  # "prevent tampering", "train staff to spot phishing"
            return f"its description says {match.group(0)!r}"
    return None
