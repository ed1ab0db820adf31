"""Secret redaction for tool arguments, results and task text, applied before anything is stored or sent.

A redacted value becomes ``[REDACTED:<kind>:<fingerprint>]``. The fingerprint is the first 12 hex
digits of SHA-256 over the secret, so analysts can see that two events used the same secret without
seeing it. AWS access key *ids* (AKIA…/ASIA…) are identifiers, not secrets — AWS prints them in
CloudTrail and the console, and an analyst needs one to revoke it — so they are kept; the secret
access key and session token beside them are redacted.

Cost and safety (issue 15, docs/security.md):

- **linear**: every pattern runs in RE2, whose matching time is linear in the text whatever the input
  (Python's backtracking engine took ~20 s on 256 KB of repeated JWT-like prefixes);
- **pre-scanned**: one pass of an RE2 set over a text says which patterns match anywhere in it, and only
  those run, so ordinary arguments cost a few microseconds (and a JSON value none: see ``redact_value``);
- **bounded**: a text longer than :data:`MAX_VALUE_CHARS` is cut to it before scanning;
- **markers cannot be forged**: a match is left alone only when its secret part *is* a marker; a marker
  glued to a real secret no longer shields it.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import hashlib
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import re2

from schemas.secret_memory import KNOWN_SECRETS

MAX_VALUE_CHARS = 256 * 1024  # per text value; past it the value is cut (and marked) before scanning
_MAX_ROUNDS = 4
_MAX_B64_CANDIDATE = 8192  # longer base64 runs are data (files, images), not wrapped tokens

# Dictionary keys whose values are secrets whatever they look like.
_SECRET_KEY_NAMES = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|private[_-]?key|authorization|"
    r"secret[_-]?(access[_-]?)?key|account[_-]?key|shared[_-]?access[_-]?key|"
    r"client[_-]?secret|credentials?|session[_-]?token|access[_-]?token|refresh[_-]?token|cookie|"
    r"x-api-key|x-auth-token|private-token|signature|(^|[_-])auth|"
    r"api[_-]?keys|secrets|passwords|private[_-]?keys|access[_-]?tokens|auth[_-]?tokens|"
    # a pre-shared key (a VPN's, a Wi-Fi's), and raw key material under its encoding (``key_hex``)
    r"(^|[_-])psk|pre[_-]?shared[_-]?key|(^|[_-])key[_-]?(hex|b64|base64|material|bytes)|"
    # the codes that open a door, a gate, an alarm panel or a lockbox, and PINs
    r"(lock[_-]?box|key[_-]?safe|door|keypad|garage|gate)[_-]?(code|pin|combo|combination)|(^|[_-])pin)$",
    re.IGNORECASE,
)
# Keys that contain a secret-ish word but hold identifiers, not secrets.
_NOT_SECRET_KEY_NAMES = re.compile(
    r"(access[_-]?key[_-]?id|token[_-]?type|secret[_-]?(id|name|arn)|credentials?[_-]?(id|type|source|arn)|"
    r"tokens?_?(count|used|usage)|max[_-]?tokens|password[_-]?(last[_-]?used|reset[_-]?required)|"
    r"(next|page|continuation|client|idempotency)[_-]?token|(version|map|location|geo|drop)[_-]?pin|"
    r"public[_-]?key[_-]?(hex|b64|base64|material|bytes))$",
    re.IGNORECASE,
)
# Keys of a {name, value} pair (Kubernetes env, AWS tags and parameters, HTTP header lists).
_PAIR_NAME_KEYS = ("name", "key", "header", "parametername", "field")
_PAIR_VALUE_KEYS = ("value", "val", "parametervalue", "secretstring")

_SEP = r"[\s\"'=]"  # what may stand before a command-line program name
_TAIL = r"[^\n|;&]*?"  # the rest of one shell command, up to its flag

# (kind, RE2 pattern). The secret is group 1 when the pattern has groups (the first that matched, for
# alternatives), else the whole match. Order matters: wider shapes first.
_SPECS: list[tuple[str, str]] = [
    (
        "private_key",
        r"-----BEGIN (?:[A-Z0-9 ]+ )?PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9 ]+ )?PRIVA"
        r"TE KEY-----|$)",
    ),
    ("private_key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{50,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # Authorization headers: everything after the scheme (Basic, Bearer, ApiKey, Digest, AWS4 …).
    ("basic_auth", r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?basic\s+([A-Za-z0-9+/=]{8,})"),
    ("bearer", r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{6,})"),
    ("bearer", r"(?i)\btoken[ \t]+([A-Za-z0-9._~+/=-]{16,})"),
    (
        "authorization",
        r"(?i)\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|token|apikey|api-ke"
        r"y|digest|negotiate|ntlm|sso-key|key|aws4-hmac-sha256|basic)\s+)?([^\s\"']{4,})",
    ),
    (
        "secret_header",
        r"(?i)(?:^|[^\w-])(?:x-api-key|x-auth-token|x-access-token|private-token|x-[a-z0-9-]*("
        r"?:token|secret|api-key|apikey|password))[\"']?\s*:\s*[\"']?([^\s\"'\r\n][^\"'\r\n]{2"
        r",})",
    ),
    # The whole header value; each `name=value` in it is redacted on its own (_COOKIE_VALUE).
    ("cookie", r"(?i)\b(?:set-)?cookie[\"']?\s*:\s*[\"']?([^\"'\r\n]{3,})"),
    # Greedy up to the last "@" before the host, so a password containing "@" is not half kept.
    ("url_password", r"(?:^|[^a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^\s:/@]+:([^\s/]+)@"),
    (
        "url_secret",
        # any parameter named for a secret (``crm_key``, ``authToken``, ``x-amz-signature``), not ``monkey``
        r"(?i)[?&;](?:sig|auth|code|[\w.-]*(?:signature|token|secret|password|passwd|pwd|credential)|(?:"
        r"[\w.-]*[_.-])?(?:api|access|secret|private|auth|client)?key)=([^&\s#\"'<>]{4,})",
    ),
    ("webhook_url", r"(?i)\bhooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9/_-]{16,})"),
    ("webhook_url", r"(?i)\bdiscord(?:app)?\.com/api/webhooks/[0-9]+/([A-Za-z0-9_-]{20,})"),
    (
        "connection_string",
        r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|SharedSecretValue)\s*=\s*("
        r"[^;\"'\s]{4,})",
    ),
    (
        "aws_secret_access_key",
        r"(?i)(?:aws_?secret_?access_?key|secret_?access_?key|secretkey)[\"']?\s*[:= ]\s*[\"']"
        r"?([A-Za-z0-9/+=]{40})",
    ),
    # A key id followed by its unlabelled secret (CSV exports, `aws configure` echo, …).
    (
        "aws_secret_access_key",
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b[\s,;:|\"'=]{1,6}([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|"
        r"$)",
    ),
    ("aws_session_token", r"\b(?:IQoJ|FwoG|FQoG)[A-Za-z0-9/+=]{40,}"),
    ("openai_key", r"\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
    (
        "gitlab_token",
        r"\b(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat|gloas)-[A-Za-z0-9_-]{20,}",
    ),
    ("slack_token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}"),
    ("slack_token", r"\bxapp-[0-9]+-[A-Za-z0-9-]{10,}"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}"),
    ("google_oauth", r"\b(?:ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[A-Za-z0-9_-]{20,})"),
    ("stripe_key", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    ("stripe_webhook_secret", r"\bwhsec_[A-Za-z0-9+/=]{24,}"),
    ("huggingface_token", r"\b(?:hf_[A-Za-z0-9]{30,}|api_org_[A-Za-z0-9]{30,})"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36,}"),
    ("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"),
    ("vault_token", r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}"),
    ("mailgun_key", r"\bkey-[0-9a-zA-Z]{32}\b"),
    ("shopify_token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}"),
    ("databricks_token", r"\bdapi[a-f0-9]{32}"),
    ("atlassian_token", r"\bATATT3[A-Za-z0-9_=-]{100,}"),
    ("doppler_token", r"\bdp\.(?:st|ct|sa|scim|audit|pt)\.[A-Za-z0-9_.-]{40,}"),
    ("postman_key", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
    ("grafana_token", r"\b(?:glsa|glc)_[A-Za-z0-9_=+/-]{32,}"),
    ("linear_key", r"\blin_api_[A-Za-z0-9]{40}"),
    ("notion_token", r"\b(?:secret_[A-Za-z0-9]{43}|ntn_[A-Za-z0-9]{40,})"),
    ("groq_key", r"\bgsk_[A-Za-z0-9]{48,}"),
    ("replicate_token", r"\br8_[A-Za-z0-9]{37,}"),
    ("telegram_bot_token", r"\b[0-9]{8,10}:AA[A-Za-z0-9_-]{33}"),
    ("square_token", r"\b(?:EAAA[A-Za-z0-9_-]{60}|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,})"),
    # (also JSON inside a JSON string, escaped once or more: ``"{\\"password\\": \\"x\\"}"``)
    (
        "password_assignment",
        r"(?i)(?:^|[^\w:/-])[\w-]{0,64}?(?:password|passwd|passphrase|pwd|secret|api[_-]?key|t"
        r"oken|credentials?|signature|auth|signing[_-]?key|[_-]pw|psk|pre[_-]?shared)(?:[_-]?(?:access[_-]?)?key)?(?:\\+[\"']|[\"'\]])?"
        # (an escaped value runs to its escaped closing quote: the other quote, ``it's``, and an escaped
        # backslash, ``\\\\``, are in it; an escaped tab or newline may stand before it)
        r"\s*[:=]\s*(?:(?:\\[tnr]\s*)*\\+\"((?:[^\"\n\\]|\\+[^\"\n\\]){3,})"
        r"|(?:\\[tnr]\s*)*\\+'((?:[^'\n\\]|\\+[^'\n\\]){3,})|[\"']([^\"'\n]{3,})|([^\s\"',;&]{3,}))",
    ),
    # `pass: Xk9$mP2!qR` in a chat line, `SMTP_PASS=…`: a short key, so only a value with a digit or
    # a symbol inside
    (
        "password_assignment",
        r"(?i)(?:^|[^\w:/-])(?:[\w-]{0,64}?[_-])?pass\s*[:=]\s*([^\s\"',;&]{2,}[0-9!@#$%^*+=?~][^\s\"',;&]{2,})",
    ),
    # a secret's name and its value as two quoted arguments or a hash pair: PHP's
    # ``define('DB_PASS', 'x')``, ``os.environ.setdefault("API_TOKEN", "x")``, Ruby's ``"token" => "x"``;
    # the name ends in the secret's word (not ``max_tokens``), the value has a digit or a sign (not a list
    # of names, ``'password', 'token'``)
    (
        "argument_secret",
        r"(?i)[\"'][\w.-]{0,64}?(?:password|passwd|passphrase|pwd|secret|api[_-]?key|token|credentials?|"
        r"signing[_-]?key|[_-]pw|[_-]pass|psk|pre[_-]?shared)(?:[_-]?(?:access[_-]?)?key)?[\"']\s*(?:,|=>)\s*"
        r"[\"']([^\"'\s]{0,200}?[0-9!#$%^&*+=?~@][^\"'\s]{0,200})[\"']",
    ),
    # a key named for what it unlocks, in prose: "Stream key: live_5820…", "backup key: 8k2e-9vq1-…",
    # "licence key is ABCD-1234-…" — the value has a letter and a digit and twelve or more characters (not
    # "Stream key: see the vault", nor a primary key's column name)
    (
        "named_key",
        r"(?i)\b(?:stream|backup|licen[cs]e|product|activation|recovery|master|encryption|signing|webhook|"
        r"ingest|rtmp|wifi|wi-fi|wpa2?)[\s_-]*key\b(?:\s+is)?\s*[:=]?\s*[\"']?"
        r"([A-Za-z0-9][A-Za-z0-9_-]{11,})",
    ),
    # a door, gate, alarm or lockbox code in prose: "lockbox 7316", "gate code: 4482#", "alarm code is 1234"
    (
        "access_code",
        r"(?i)(?:\b|_)(?:lock ?box|keypad|door|gate|garage)[\s_]*(?:code|pin|combo|combination)"
        r"[\"']?(?:\s+is)?\s*[:=#-]?\s*[\"']?#?([0-9]{3,8}[#*]?)\b",
    ),
    # … a key safe's code a few words on in the same sentence ("Key safe by the bin store, code 5190"),
    # and a code that says whose it is ("user code 2846", "master code", "disarm code"; not an equipment
    # alarm's "alarm code 4021")
    (
        "access_code",
        r"(?i)\b(?:key ?safe|keysafe|lock ?box)\b[^.\n]{0,48}?\bcode\b\s*[:=#-]?\s*#?([0-9]{4,8})\b",
    ),
    (
        "access_code",
        r"(?i)\b(?:user|master|disarm|access|entry)\s+(?:code|pin)\b(?:\s+is)?\s*[:=#-]?\s*#?([0-9]{4,8})\b",
    ),
    # `password=x`, `"password": "x y"`, `DB_PASSWORD: x`, `"access_token": "x"` — but not an
    # ARN's `:secret:name` (hence nothing word-like, ':' or '/' right before the key).
    # Command-line credentials.
    ("cli_password", r"(?:^|\s)(?:-u\s*|--user(?:\s+|=))[\"']?[^\s:\"']+:([^\s\"']{3,})"),
    (
        "cli_password",
        r"(?:^|\s)--(?:password|passwd|pass|token|secret|api-key|apikey|access-token|auth-toke"
        r"n|client-secret|private-key)(?:\s+|=)([^\s\"']{3,}|\"[^\"]{3,}\"|'[^']{3,}')",
    ),
    (
        "cli_password",
        r"(?i:\b(?:mysql|mysqldump|mysqladmin|mysqlsh|mariadb|mariadb-dump))\b[^\n|;&]*?\s-p(["
        r"^\s\"'-][^\s\"']*)",
    ),
    ("cli_password", r"\bsshpass\b[^\n|;&]*?\s-p\s*([^\s\"']+)"),
    (
        "cli_password",
        r"\b(?:docker|podman|nerdctl|buildah|skopeo|helm|oras)\b[^\n|;&]*?\blogin\b[^\n|;&]*?\s"
        r"-p\s+([^\s\"']+)",
    ),
    ("cli_password", r"\bredis-cli\b[^\n|;&]*?\s-a\s+([^\s\"']+)"),
    ("cli_password", r"(?:^|[\s\"'=])pass:([^\s\"']+)"),
    # a login written as "user / password" in prose or notes ("Service user: svc_ops / Holl3rland!Ops#2024",
    # "HMI (10.20.0.10): admin / WpH-scada-7731"): after a user label or a usual account name; the password
    # must hold a letter and a digit (checked in ``_sub``: "read / write" is none)
    (
        "user_password",
        r"(?i)(?:\b(?:user(?:name)?|login|logon|account|creds?|credentials?)\b\s*[:=]?\s*[\w.@-]{2,40}|(?:^|[\s:(,;])"
        r"(?:admin|administrator|root|operator|svc_[\w-]+|sa|postgres|ubuntu|sysadmin))\s+/\s+([^\s/,;'\"]{6,64})",
    ),
    # … and after an e-mail address as the user ("jo@shop.example / Marsh4l-Sat!": a sign-in sent in a text)
    ("user_password", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s+/\s+([^\s/,;'\"|]{6,64})"),
    ("cli_password", r"\bopenssl\b[^\n|;&]*?\s-k\s+([^\s\"']+)"),
    ("cli_password", r"\b(?:zip|unzip|zipcloak)\b[^\n|;&]*?\s-P\s*([^\s\"']+)"),
    ("cli_password", r"\b(?:7z|7za|7zr|rar|unrar)\b[^\n|;&]*?\s-p([^\s\"']+)"),
    ("cli_password", r"\bssh-keygen\b[^\n|;&]*?\s-[PN]\s*([^\s\"']{3,})"),
    (
        "cli_password",
        r"(?i)\baws\s+configure\s+set\s+(?:[\w.-]*\.)?(?:aws_secret_access_key|aws_session_tok"
        r"en)\s+([^\s\"']+)",
    ),
    # Network devices' configurations (Cisco IOS/NX-OS/ASA, Junos, Arista): a ``show running-config``
    # carries its secrets in shapes of its own. Type-7 "encryption" is reversible and crypt hashes
    # (``$1$``, ``$6$``, Junos ``$9$`` …) can be cracked or, for ``$9$``, decoded: both are secrets.
    # ``$id$salt$hash`` (``$1$HOME/bin`` or awk's ``$1$2`` is none); Junos' quoted ``$9$`` secrets
    (
        "password_hash",
        r"(\$(?:1|2[abxy]?|5|6|7|8|9|y|gy|apr1|sha1)\$[./A-Za-z0-9]{1,64}\$[./A-Za-z0-9]{8,}[./A-Za-z0-9$]*)",
    ),
    (
        "password_hash",
        r"(?i)\b(?:secret|encrypted-password|authentication-key|pre-shared-key)\s+\"(\$9\$[^\"\s]{6,})\"",
    ),
    (
        "device_secret",
        r"(?i)\b(?:secret|password|key-string|key|pre-shared-key|authentication-key|md5|psk)\s+7\s+([0-9A-F]{8,})",
    ),
    (
        "device_secret",
        r"(?i)(?:^|\n)\s*(?:enable\s+(?:secret|password)|username\s+\S+(?:\s+privilege\s+\d+)?\s+(?:secret|p"
        r"assword))\s+(?:0\s+)?([^\s$]*[\d!@#%^&*+=?~][^\s]*)",  # a password has a digit or a symbol
    ),
    ("device_secret", r"(?i)\bsnmp-server\s+community\s+([^\s\"']{3,})"),
    ("device_secret", r"(?i)\bset\s+snmp\s+community\s+([^\s\"']{3,})"),
    (
        "device_secret",
        r"(?im)^\s*(?:tacacs-server|radius-server)\b[^\n]{0,120}?\bkey\s+(?:0\s+)?([^\s\"'][^\s\"']{2,})",
    ),
    # Raw key material in a key file or a config: 32 or more hex digits under a name ending in "key"
    # (``"key": "9f1c…"`` of an AES-256 key, ``aes_key = …``, ``DB_ENCRYPTION_KEY=…``, ``hmacKey: …``);
    # not a public key (``_sub``) or a key's id
    (
        "symmetric_key",
        r"(?i)(?:^|[^\w-])[\w-]{0,40}?key(?:[_-]?(?:hex|b64|base64|material|bytes|raw))?[\"']?\s*[:=]\s*[\"']?"
        r"([0-9a-f]{32,})\b",
    ),
    # A wallet's recovery (seed) phrase: 12 to 24 lowercase words after its name. Whoever has it owns the
    # wallet (BIP-39).
    (
        "seed_phrase",
        r"(?i)\b(?:recovery|seed|mnemonic|backup|secret)[ _-]?(?:phrase|words)\b(?:[ \t]+[a-zA-Z]+){0,3}"
        r"[ \t]*[:=][ \t]*[\"']?((?:[a-z]{3,8}[ ,]+){11,23}[a-z]{3,8})",
    ),
    # … or under a bare "Mnemonic" label with a remark before its colon ("Mnemonic (23 words):") and the
    # words on the next line, in backticks
    (
        "seed_phrase",
        r"(?i)\bmnemonic\b[^:=\n]{0,60}[:=]\s{0,4}[\"'`]?((?:[a-z]{3,8}[ ,]+){11,23}[a-z]{3,8})",
    ),
    # A settings listing's line (``SH_LTE_APN_PASS  Hk7!pLz29qR``, a parameter dump, ``SHOW ALL``): a name
    # for a secret, blanks, its value (a digit in it). An UPPER_SNAKE constant's name may stand one blank
    # before its value; any other name only a column apart (two blanks or a tab): prose has single blanks
    (
        "spaced_assignment",
        r"(?m)^[ \t]*(?:[A-Z][A-Z0-9]*_[A-Z0-9_]*?(?:PASS|PASSWORD|PASSWD|PWD|TOKEN|SECRET|KEY|PSK)[ \t]+"
        r"|(?i:[a-z][\w.-]*?(?:pass|password|passwd|token|secret|api_?key|private_?key|sign(?:ing)?_?key))"
        r"(?:[ ]{2,}|\t)[ \t]*)[\"']?([^\s\"']*[0-9][^\s\"']*)",  # (quoted or not)
    ),
    # a PIN by whose it is ("HSM PIN 77194402", "SIM PIN: 0472", "card PIN code 4821"), four digits or more,
    # or a bare "PIN" with other than six (a bare "PIN 560001" is an Indian postal code; "Hall 3: PIN 7731")
    (
        "access_code",
        r"(?i:\b(?:hsm|sim|so|user|admin|master|access|device|phone|bank|debit|credit|atm|card|token|security"
        r"|login|unlock|puk|safe|alarm|door))\s+PIN\b(?:\s+(?:code|number|no\.?))?(?:\s+is)?\s*[:=#-]?\s*"
        r"([0-9]{4,12})\b",
    ),
    ("access_code", r"\bPIN\b(?:\s+is)?\s*[:=#-]?\s*([0-9]{4,5}|[0-9]{7,12})\b"),
]

_REDACTED = re.compile(r"\[REDACTED:[a-z0-9_]+:[0-9a-f]{12}\]")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 32 << 20
_COMPILED = [(kind, re2.compile(pattern, _RE2_OPTIONS)) for kind, pattern in _SPECS]
# Base64 that may wrap a token: long, and mixing cases and digits (hex digests and words do not).
_BASE64_RUN_PATTERN = r"[A-Za-z0-9+/_-]{32,}={0,2}"
_BASE64_RUN = re2.compile(_BASE64_RUN_PATTERN)
_BASE64_RUN_IN_BYTES = re2.compile(_BASE64_RUN_PATTERN.encode())  # the same runs: they are ASCII
_URL_PIECE = re.compile(r"[^/]{32,}={0,2}")
# Every pattern (and the base64 run) in one RE2 set: one linear pass over a text says which patterns
# match anywhere in it, so only those run (most texts match none). This is the hint pre-scan, exact.
_ALL = re2.Set.SearchSet(_RE2_OPTIONS)
for _, _pattern in _SPECS:
    _ALL.Add(_pattern)
_BASE64_INDEX = _ALL.Add(_BASE64_RUN_PATTERN)
# a secret's name with a URL-encoded ``=`` or ``:`` after it (``storePassword%3D…``; JSON's closing quote
# between, ``%22password%22%3A%22…``): a secret sent encoded
_PERCENT_INDEX = _ALL.Add(r"(?i)(?:pass|secret|token|key|auth|credential|session)[\w-]*(?:%2[27])?%3[ad]")
# Any line (a key or a text of a JSON value) that ends in a secret's name: redact_value's fast path asks
# for it in the same pass; it never makes redact_text run anything.
_NAME_INDEX = _ALL.Add("(?im)" + _SECRET_KEY_NAMES.pattern)
# a table's header cell that names a secret (``user,password``, ``| modem_admin_pw |``): its column's cells
# are redacted (``_redact_secret_columns``)
_SECRET_COLUMN = (
    r"[\w -]*?(?:password|passwd|pwd|_pw|passcode|passphrase|secret|token|api[_ -]?key|private[_ -]?key|pin"
    # (the code that opens a gate, a door, a keypad or a lockbox: ``slip,customer,gate_code``)
    r"|(?:gate|door|keypad|garage|lock[_ -]?box|key[_ -]?safe)[_ -]?(?:codes?|combo|combination))"
)
_COLUMN_INDEX = _ALL.Add(
    rf"(?im)(?:^|[|,;\t]|\\n)[ \t]*(?:{_SECRET_COLUMN}|codes?|combo|combination)[ \t]*(?:[|,;\t]|$|\\[rn])"
)
_ALL.Compile()


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _marker(kind: str, secret: str) -> str:
    return f"[REDACTED:{kind}:{fingerprint(secret)}]"


def _matching(text: str, *, names: bool = False) -> list[int]:
    """Indexes of the patterns that match somewhere in ``text`` (ascending: the order they run in), with
    _NAME_INDEX only when ``names`` asks for it."""
    matches: Any = _ALL.Match(text)  # a list of indexes, or None (the stubs say bool)
    found = sorted(matches or ())
    if not names and found and found[-1] == _NAME_INDEX:
        found.pop()
    return found


def may_hold_secret(text: str) -> bool:
    """Cheap pre-check: False means :func:`redact_text` would return ``text`` unchanged."""
    return len(text) >= 8 and (bool(_matching(text)) or KNOWN_SECRETS.found_in(text))


def may_need_redaction(text: str, *, names: bool) -> bool:
    """False: neither :func:`redact_text` on any line of ``text`` nor, with ``names`` (``text`` holds the
    keys and texts of a JSON value, as :func:`texts_of` lists them), :func:`redact_value` would change
    anything. One pass of the RE2 set over ``text``."""
    if KNOWN_SECRETS.found_in(text):
        return True
    found = set(_matching(text, names=names))
    if names and _NAME_INDEX in found:
        return True
    if len(text) < 8 or not found:  # redact_text leaves texts under 8 characters alone
        return False
    if found == {_BASE64_INDEX}:  # a path or an id often looks like base64: only a wrapped secret counts
        return next(_wrapped_secrets(text), None) is not None
    return True


def line_may_need_redaction(line: bytes, *, names: bool) -> bool:
    """False: no string of the JSON text ``line`` (a key or a value) would be changed by :func:`redact_text`
    and, with ``names`` (the name of a key or of a pair matters: ``line`` holds a value for
    :func:`redact_value`), no value in it by :func:`redact_value`. Decided on the raw text, without decoding
    it: one pass of the RE2 set, as :func:`may_need_redaction` makes over the decoded texts.

    Why the raw text is enough: JSON text without a backslash has no escapes, so each of its strings is
    the very run of characters between two quotes. With every quote made a newline, each string stands on
    a line of its own, as in the texts joined by newlines that :func:`may_need_redaction` scans, and a
    pattern matching inside one string matches there too: what a pattern asks of the characters around a
    secret (``\\b``, ``(?:^|\\s)``, ``[^\\w:/-]``, the multiline ``^`` and ``$``, a base64 run's end) a
    newline gives. The rest of the text (colons, commas, brackets, numbers) can only make more patterns
    match: a needless full pass, never a missed secret. Text with a backslash is always a yes.
    """
    if b"\\" in line or (KNOWN_SECRETS.active() and KNOWN_SECRETS.found_in(line.decode("utf-8", "replace"))):
        return True
    text = line.replace(b'"', b"\n")
    matches: Any = _ALL.Match(text)  # a list of indexes, or None
    if not matches:
        return False
    found = set(matches)
    if not names:
        found.discard(_NAME_INDEX)
    if found == {_BASE64_INDEX}:
        runs = _BASE64_RUN_IN_BYTES.finditer(text)  # scanned as bytes: no decoding, no offsets to convert
        return any(_secret_in_run(run.group(0).decode("ascii")) is not None for run in runs)
    return bool(found)


def _run_patterns(text: str, found: list[int]) -> str:
    for index in found:
        if index < len(_COMPILED):
            kind, pattern = _COMPILED[index]
            text = _sub(text, kind, pattern)
    return text


def redact_text(text: str) -> str:
    """Replace every secret-shaped substring of ``text`` by its marker."""
    if len(text) < 8:
        return text
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + f"…[cut: {len(text) - MAX_VALUE_CHARS} more characters]"
    # Until nothing changes: a marker can open a new match (``xAKIA…`` becomes ``]AKIA…``, now at a
    # word boundary), and redacting twice must change nothing. Each round only removes secrets.
    hinted = False
    for _ in range(_MAX_ROUNDS):
        found = _matching(text)
        if not found:
            break
        if _COLUMN_INDEX in found:  # (each round: a row another pattern brought into line is read too)
            text = _redact_secret_columns(text)
        hinted = hinted or _PERCENT_INDEX in found
        before = text
        text = _run_patterns(text, found)
        if _BASE64_INDEX in found:
            text = _redact_base64(text)
        if text == before:
            break
    # (only where its hint showed: a secret's name before an encoded ``=``; most texts hold none)
    if hinted and "%" in text:
        text = _redact_percent_encoded(text)
    # a secret redacted earlier for its place (a password under its key), now in free text
    return KNOWN_SECRETS.replace(text, _marker, _REDACTED)


_COLUMN_NAME = re.compile(rf"(?i)^{_SECRET_COLUMN}$")
_LINE_BREAK = re.compile(r"(\r?\n|(?:\\r)?\\n)")
_OPENED = re.compile(r"door|gate|keypad|lock|entrance|entry")
_BARE_CODES = frozenset({"code", "codes", "pin", "combo", "combination"})
_CODE_COLUMN = re.compile(r"code|combo|combination|(?:^|[_ -])pin$")
_NO_VALUE = re.compile(r"(?i)^(|-+|none|null|n/?a|\*+|x+)$")
_RULE = re.compile(r"^\s*[|+=:-][\s|+=:-]*$")  # a table's rule line (``---+---``, ``|:--|``); not a blank one


def _redact_secret_columns(text: str) -> str:
    """The cells under a header cell that names a secret (``password``, ``modem_admin_pw``, ``api_key``,
    ``pin``) in a table of ``|``, tab, comma or semicolon separated lines: a listing of accounts or sites
    with their passwords. Cells are split as written (a comma table's quoted cells are not re-parsed: a
    line whose cells do not line up with the header is left to the other patterns); lines end at a line
    break or at an escaped one (``\\n`` in JSON text kept raw, a dead letter's line)."""
    pieces = _LINE_BREAK.split(text)  # lines at even places, their breaks between
    lines = pieces[::2]
    columns: list[int] = []
    names: list[str] = []
    width, separator = 0, ""
    for number, line in enumerate(lines):
        if columns and _RULE.match(line):
            continue
        cells = line.split(separator) if columns else []
        if columns and len(cells) != width:
            if line.strip() and ('"' in line or "\\" in line):
                continue  # a quoted or escaped separator misaligns only its own row
            columns = []  # the table ended (a blank line, another shape): this line may head another
        if not columns:
            separator = next((c for c in "|\t;," if c in line), "")
            cells = [c.strip() for c in line.split(separator)] if separator else []
            # a header starts a table (the line before is no row of it: ``| api_key | string |`` under
            # ``|---|---|`` is a row), and is no sentence (``First, rotate the token``: prose's ", ")
            before = lines[number - 1] if number else ""
            row = (
                separator
                and before.count(separator) == line.count(separator)
                and not _prose(before, separator)
            )
            header = len(cells) >= 2 and not row and not _prose(line, separator)
            names = [c.lower() for c in cells]
            # (a bare "code" beside a door's, a gate's or a keypad's column is the code that opens it)
            openers = header and any(_OPENED.search(n) for n in names)
            columns = [
                i
                for i, c in enumerate(cells)
                if header and (_COLUMN_NAME.match(c) or (openers and names[i] in _BARE_CODES))
            ]
            width = len(cells)
            continue
        for index in columns:
            value = cells[index].strip().strip('"')  # (a raw JSON line's closing quote is not the value's)
            if _NO_VALUE.match(value) or "[REDACTED:" in value or _placeholder(value):
                continue  # (a cell another pattern redacted, in full or in part, is done)
            if not _cell_secret(value, names[index]):
                continue
            kind = "access_code" if _CODE_COLUMN.search(names[index]) else "password_assignment"
            _remember(value, kind)
            cells[index] = cells[index].replace(value, _marker(kind, value), 1)
        lines[number] = separator.join(cells)
    pieces[::2] = lines
    return "".join(pieces)


def _prose(line: str, separator: str) -> bool:
    """Whether a line split by commas or semicolons is a sentence: the separator followed by a space, and
    a cell of several words (``Fix login, refresh token``; not ``user, password``)."""
    return (
        separator in ",;" and f"{separator} " in line and any(" " in c.strip() for c in line.split(separator))
    )


def _cell_secret(value: str, column: str) -> bool:
    """Whether a cell under a secret's column holds one: any value under a password's (``letmein``); under
    a token's, a key's or a PIN's, one with a digit or a sign (not a word list's ``the | 412``)."""
    if re.search(r"pass|pwd|pw$", column):
        return len(value) >= 3
    return len(value) >= 4 and re.search(r"[\d\W_]", value) is not None


# a run of URL-encoded text (``cfg=storePassword%3DTr41…%0AkeyPassword%3D…``), up to a query's separators
# (a run starts after a separator or ``=``: tried from inside a run, the leading ``*`` made it quadratic)
_PERCENT_RUN = re.compile(r"(?<![^\s&?#=\"'<>])[^\s&?#=\"'<>]*%[0-9A-Fa-f]{2}[^\s&?#\"'<>]*")


def _redact_percent_encoded(text: str) -> str:
    """A secret written URL-encoded (a query parameter's value that holds ``password=…``) is redacted whole,
    with the fingerprint of the secret inside: the same password read in clear and sent encoded is one."""
    pieces: list[str] = []
    done = 0
    for match in _PERCENT_RUN.finditer(text):
        decoded = urllib.parse.unquote_plus(match.group(0))
        if decoded == match.group(0) or not may_hold_secret(decoded):
            continue
        inner = markers(_decoded_secrets(decoded))
        if not inner:
            continue
        pieces += [text[done : match.start()], f"[REDACTED:encoded_secret:{inner[0][1]}]"]
        done = match.end()
    return "".join([*pieces, text[done:]]) if pieces else text


def _secret_span(match: Any) -> tuple[int, int]:
    for index in range(1, (match.re.groups or 0) + 1):
        start, end = match.span(index)
        if start >= 0:
            return int(start), int(end)
    start, end = match.span(0)
    return int(start), int(end)


_COOKIE_VALUE = re.compile(r"(=\s*)([^;\s]+)")


def _cookie_values(header: str) -> str:
    """``a=1; session=…`` with each value redacted on its own (a value that is a marker stays)."""

    def one(match: re.Match[str]) -> str:
        value = match.group(2)
        return match.group(0) if _REDACTED.fullmatch(value) else match.group(1) + _marker("cookie", value)

    return _COOKIE_VALUE.sub(one, header)


def _widened(start: int, end: int, starts: list[int], ends: list[int]) -> tuple[int, int]:
    """``start..end`` grown to cover every marker it cuts into (markers are sorted and never overlap, so
    the ones it touches sit just before the first marker starting at or after ``end``: a bisection)."""
    index = bisect.bisect_left(starts, end) - 1
    while index >= 0 and ends[index] > start:
        start, end = min(start, starts[index]), max(end, ends[index])
        index -= 1
    return start, end


_MASK = re.compile(r"\*{3,}|•{3,}|x{6,}|X{6,}|\[redacted\]|<redacted>|\(redacted\)", re.I)
_SECRET_RUN = re.compile(r"(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{8,}")


# a shell reference as a whole value: a command substitution, or an environment variable named in capitals
# (``${NAME}`` closed, a bare ``$NAME`` shaped as an environment variable: ``$SUMMER2024`` may be a password)
_SHELL_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}$|\$[A-Z][A-Z0-9]*_[A-Z0-9_]+$")


def _shell_reference(secret: str, following: str, before: str = "") -> bool:
    """``$(cat f)`` with its closing parenthesis in the same line, ``${NPM_TOKEN}``, ``$DB_PASSWORD``, and
    any ``$NAME`` the same command line assigned before (``NEWPW=$(openssl rand …) && curl -d …$NEWPW``)."""
    if secret.startswith("$("):
        return ")" in following.split("\n", 1)[0][:400]
    if _SHELL_REFERENCE.match(secret) is not None:
        return True
    name = _SHELL_NAME.fullmatch(secret)
    return name is not None and re.search(rf"(?:^|[\s;&|(]){name[1]}=\S", before[-2000:]) is not None


_SHELL_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


_PLACEHOLDER = re.compile(r"<([^<>\n]{1,40})>")


def _placeholder(value: str) -> bool:
    """A template's slot for a secret (``<whsec_...>``, ``<your password>``, ``<API_KEY>``): angle brackets
    around a name or an elision, with no run of letters and digits a real secret would have."""
    slot = _PLACEHOLDER.match(value)
    if slot is None:
        return False
    name = slot.group(1)
    # a name for the secret, not one (``<hunter2!>`` is a password someone wrapped in brackets)
    named = " " in name or "..." in name or "\u2026" in name or name.lower().startswith("your")
    return (named or re.fullmatch(r"[A-Z][A-Z0-9_]*", name) is not None) and _SECRET_RUN.search(name) is None


def _masked(secret: str) -> bool:
    """A value someone already masked (``sk_live_51Lr****``, ``Bearer ****[redacted]``): what is left
    around the mask holds no run of eight letters and digits, so nothing secret remains to hide."""
    if not _MASK.search(secret):
        return False
    return _SECRET_RUN.search(_MASK.sub(" ", secret)) is None


_KEY = re.compile(r"[A-Za-z_][\w.-]*:")


def _next_key(secret: str, before: str, after: str) -> bool:
    """The "value" is the next key of a YAML block, on its own line (``tc_auth:\n  mode: bypass``): a
    section, no secret."""
    on_next_line = before.rstrip(" \t").endswith("\n")
    return on_next_line and after in ("", " ", "\t", "\n", "\r") and _KEY.fullmatch(secret) is not None


# a form's validation rules, not its value (Laravel's ``'password' => 'required|string|min:8'``)
_RULE_LIST = re.compile(r"^[a-z_]+(?::[\w,.-]*)?(?:\|[a-z_]+(?::[\w,.-]*)?)+$")
_MIN_SPACED = 6  # characters of a secret in a settings listing (``PRIMARY_KEY 1`` is none)


def _sub(text: str, kind: str, pattern: Any) -> str:
    spans = [m.span() for m in _REDACTED.finditer(text)] if "[REDACTED:" in text else []
    starts, ends = [s for s, _ in spans], [e for _, e in spans]
    pieces: list[str] = []
    done = 0
    for found in pattern.finditer(text):
        queue = [_secret_span(found)]
        while queue:
            start, end = queue.pop()
            # A secret part that cuts into a marker (a URL pattern reading "[REDACTED:github_token:…]" as
            # user:password) is widened to the whole marker; if what remains *is* one marker, it is already
            # redacted (idempotence). A marker glued to more text shields nothing: the part is redacted.
            if spans:
                start, end = _widened(start, end, starts, ends)
            if kind in _FOUND_BY_PLACE and _SENTENCE_STOP.match(text, end - 1) and end - start > 4:
                end -= 1  # "Password: NLFF-7Qv2. Links expire …": the sentence's full stop is not the value's
            secret = text[start:end]
            if start < done or not secret or _REDACTED.fullmatch(secret) or _masked(text[start : end + 16]):
                continue
            if kind == "password_assignment" and _next_key(
                secret, text[max(0, start - 80) : start], text[end : end + 1]
            ):
                # the next key may itself name a secret (``auth:\n  password: …``): read on from just before
                # it, in a window (a search per skipped key over the whole text would be quadratic)
                window = text[start - 1 : start + _FOLLOW_WINDOW]
                if (follow := pattern.search(window)) is not None and follow.start() <= 1:  # (that key only)
                    first, last = _secret_span(follow)
                    queue.append((start - 1 + first, start - 1 + last))
                continue
            if kind == "password_assignment" and (
                _shell_reference(secret, text[start:], text[:start]) or _placeholder(text[start : start + 64])
            ):
                continue  # ``TOKEN=$(cat f)``, ``${NPM_TOKEN}``, ``$NPM_TOKEN``: where a secret is, not it
            if kind == "authorization" and secret.lower() in _AUTH_SCHEMES:
                continue  # the scheme alone, a pattern after it (``s/(Authorization: Basic )[A-Z…]+/…/``)
            if kind in _LABELLED and _PATTERN_SYNTAX.match(secret):
                continue  # a pattern where the value would be (``grep 'X-Api-Token: [^<]'``): no secret
            if kind in ("user_password", "named_key") and not (
                _HAS_DIGIT.search(secret) and _HAS_LETTER.search(secret)
            ):
                continue  # "user read / write", "admin / console": no password
            if kind == "argument_secret" and (
                len(secret) < _MIN_SPACED or _placeholder(secret) or _RULE_LIST.match(secret)
            ):
                continue  # ``define('DB_PASS', 'x1')``: too short to be a secret of its own
            if kind == "spaced_assignment" and (len(secret) < _MIN_SPACED or _placeholder(secret)):
                continue  # ``PRIMARY_KEY 1``, ``SESSION_TIMEOUT_KEY 30``: a setting, not a secret
            if kind == "symmetric_key" and "public" in text[max(0, start - 48) : start].lower():
                continue  # a public key is meant to be shared
            replacement = _cookie_values(secret) if kind == "cookie" else _marker(kind, secret)
            if replacement == secret:
                continue
            if kind in _FOUND_BY_PLACE:
                _remember(secret, kind)
            pieces.append(text[done:start])
            pieces.append(replacement)
            done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


# secrets found by where they stand (after a label, a flag, in a URL's password), not by a shape of their
# own: remembered, so that the same value is redacted where it turns up again without its label
_FOUND_BY_PLACE = frozenset(
    "cli_password device_secret access_code password_assignment argument_secret spaced_assignment"
    " authorization secret_header url_password"
    " url_secret bearer user_password symmetric_key seed_phrase basic_auth connection_string"
    " aws_secret_access_key named_key".split()
)


def _remember(secret: str, kind: str) -> None:
    """Remembered for the session, unless it is an access key's id: kept where it stands alone."""
    if _ACCESS_KEY_ID.fullmatch(secret) is None:
        KNOWN_SECRETS.remember(secret, kind)


_ACCESS_KEY_ID = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}")
# a full stop that ends a sentence: followed by a space or the end of the text (not "!" or "?": passwords
# end in them far more often than sentences follow one, ``Welcome2024!``)
_SENTENCE_STOP = re.compile(r"\.(?=\s|$)")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[^\W\d_]")  # a letter of any script (Cyrillic too)
_FOLLOW_WINDOW = 512
_LABELLED = frozenset({"authorization", "secret_header", "password_assignment"})
# a regular expression's class or group where a labelled value starts (``[^& ]+``, ``[A-Za-z0-9]+``, ``)``):
# the class closed and then quantified, alternated or ended (a password ``[a-z]Summer24!`` is no pattern)
_PATTERN_SYNTAX = re.compile(
    r"\)?\[(?:\^|[A-Za-z0-9]-[A-Za-z0-9])(?:[^\]\s]*\](?:[+*?{|/)]|$)|[^\]\s]{0,3}$)"
)
_AUTH_SCHEMES = frozenset("basic bearer token digest negotiate ntlm apikey key".split())


def _redact_base64(text: str) -> str:
    """A token wrapped in base64 (``Z2hwX…``, a dockerconfig ``auth``) is redacted whole."""
    pieces: list[str] = []
    done = 0
    for start, end in _wrapped_secrets(text):
        pieces.append(text[done:start])
        # the fingerprint of the secret inside: the same key read in clear and sent encoded is recognised
        inner = markers(_decoded_secrets(_decode_base64(text[start:end]) or ""))
        pieces.append(
            f"[REDACTED:base64_secret:{inner[0][1]}]" if inner else _marker("base64_secret", text[start:end])
        )
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _wrapped_secrets(text: str) -> Iterator[tuple[int, int]]:
    """Spans of base64 runs that decode to a secret (see :func:`_secret_in_run`)."""
    for match in _BASE64_RUN.finditer(text):
        found = _secret_in_run(match.group(0))
        if found is not None:
            yield match.start() + found[0], match.start() + found[1]


def _secret_in_run(run: str) -> tuple[int, int] | None:
    """Where in one base64 run (a whole match of ``_BASE64_RUN``) a secret is wrapped: the whole run, or
    the first piece of it between a URL's slashes (``https://<base64>.host/``, ``/a/<base64>/x``)."""
    if len(run) > _CACHED_RUN_CHARS:
        return _find_secret_in_run(run)
    return _cached_secret_in_run(run)


def _find_secret_in_run(run: str) -> tuple[int, int] | None:
    spans = [(0, len(run))]
    if "/" in run:
        spans += [m.span() for m in _URL_PIECE.finditer(run)]
    return next((span for span in spans if _wraps_secret(run[span[0] : span[1]])), None)


# The same runs come back again and again (a repository's paths, ids): their answer is kept, for runs short
# enough that the cache stays small (4,096 of at most 512 characters: about 2 MB).
_CACHED_RUN_CHARS = 512
_cached_secret_in_run = functools.lru_cache(maxsize=4096)(_find_secret_in_run)


def _wraps_secret(run: str) -> bool:
    """Whether a base64 run decodes to text holding a secret (mixed case and digits: hex digests, paths
    and words are skipped undecoded)."""
    if len(run) > _MAX_B64_CANDIDATE or run.islower() or run.isupper() or run.isdigit():
        return False
    decoded = _decode_base64(run)
    return decoded is not None and may_hold_secret(decoded) and _decoded_secrets(decoded) != decoded


def _decode_base64(run: str) -> str | None:
    data = run.rstrip("=")
    data += "=" * (-len(data) % 4)
    try:
        raw = base64.urlsafe_b64decode(data) if ("-" in run or "_" in run) else base64.b64decode(data)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in decoded)
    return decoded if decoded and printable >= 0.9 * len(decoded) else None


def _decoded_secrets(decoded: str) -> str:
    """The decoded text redacted by the patterns alone (no further base64 layer: bounded work)."""
    return _run_patterns(decoded, _matching(decoded))


def is_secret_key(name: str) -> bool:
    return bool(_SECRET_KEY_NAMES.search(name)) and not _NOT_SECRET_KEY_NAMES.search(name)


# Inside a dict held by a secret-named key (``"credentials": {...}``), entries that describe the secret
# rather than being it keep their value (an analyst needs the key id and the expiry to revoke it).
_SECRET_METADATA_KEYS = re.compile(
    r"(expir\w*|type|kind|user(_?name)?|id|arn|region|created\w*|issued\w*|scope|provider)$", re.IGNORECASE
)


# A dict (or list of dicts) under these names describes credentials (ids, state, TTL: chainwatch's own alert
# view; AWS STS responses), so its entries are judged by their own names (sessionToken, secretAccessKey are
# redacted, accessKeyId kept); a plain value under them is still redacted whole.
_DESCRIPTIVE_KEYS = re.compile(r"(^|[_-])credentials?$", re.IGNORECASE)


def _redact_all(value: Any) -> Any:
    """Every scalar inside a value held by a secret-named key (a list of keys, a dict of parts)."""
    if isinstance(value, dict):
        return {
            redact_text(str(k)): redact_value(v)
            if _NOT_SECRET_KEY_NAMES.search(str(k)) or _SECRET_METADATA_KEYS.fullmatch(str(k))
            else _redact_all(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_all(v) for v in value]
    if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
        text = str(value)
        if _REDACTED.fullmatch(text):
            return text
        _remember(text, "named_secret")
        return _marker("named_secret", text)
    return value


def _pair_name(value: dict[str, Any]) -> str | None:
    """The name of a {name: …, value: …} pair (``{"name": "DB_PASSWORD", "value": "…"}``), if any."""
    if len(value) > 6:
        return None
    lowered = {str(k).lower(): v for k, v in value.items()}
    name = next((lowered[k] for k in _PAIR_NAME_KEYS if isinstance(lowered.get(k), str)), None)
    if name is None or not any(k in lowered for k in _PAIR_VALUE_KEYS):
        return None
    return str(name)


def texts_of(value: Any) -> list[str]:
    """Every key and text inside a JSON-like value (iterative: safe at any depth)."""
    texts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            texts.extend(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return texts


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact a JSON-like value recursively; values under secret-named keys are redacted whole, and so
    are the values of name/value pairs and header pairs whose name is a secret's."""
    # The common case, cheaply: one scan over all keys and texts together finds no hint, no base64 run
    # and no secret's name, so nothing inside can change.
    if (
        key is None
        and isinstance(value, dict | list)
        and not may_need_redaction("\n".join(texts_of(value)), names=True)
    ):
        return value
    return _redact(value, key)


def _redact(value: Any, key: str | None = None) -> Any:
    if key is not None and is_secret_key(key):
        if _DESCRIPTIVE_KEYS.search(key):
            if isinstance(value, dict):
                return {redact_text(str(k)): _redact(v, str(k)) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [_redact(v, key) for v in value]
        return _redact_all(value)
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        name = _pair_name(value)
        if name is not None and is_secret_key(name):
            return {
                redact_text(str(k)): _redact_all(v) if str(k).lower() in _PAIR_VALUE_KEYS else _redact(v)
                for k, v in value.items()
            }
        # Keys are redacted too: a token can be a map key (``{"ghp_…": "alice"}``).
        return {redact_text(str(k)): _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) == 2 and isinstance(value[0], str) and is_secret_key(value[0]):
            return [value[0], _redact_all(value[1])]  # a header as a [name, value] pair
        return [_redact(v) for v in value]
    return value


def markers(text: str) -> list[tuple[str, str]]:
    """(kind, fingerprint) of every redaction marker in ``text``: the same secret gets the same fingerprint
    wherever it was redacted, so a secret read in one place can be recognised where it leaves."""
    if "[REDACTED:" not in text:
        return []
    return [tuple(m.group(0)[10:-1].rsplit(":", 1)) for m in _REDACTED.finditer(text)]  # type: ignore[misc]
