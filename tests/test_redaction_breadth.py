"""Redaction that is broad, linear and cannot be fooled (issue 15).

Before: of a corpus of secret shapes, most were stored raw (command-line passwords, secret-named keys
holding lists or dicts, ``pwd``, Kubernetes name/value pairs, header shapes, many service tokens, tokens in
base64); the fields tool, action, credential_id, principal, approved_by and task_scope were never redacted;
dead letters skipped key-name redaction; a fake ``[REDACTED:…]`` marker in front of a real secret made the
redactor skip it; and 256 KB of repeated JWT-like prefixes took ~20 s. Each test below failed then.

``detect-secrets`` (Yelp) is the oracle for the service-token shapes: whatever its token plugins find in
our corpus lines must be gone after redaction. It is not the redactor itself: at ~340 µs per line it is
~75x slower than this module's hinted RE2 scan (measured by benchmarks/redaction_bench.py).
"""

from __future__ import annotations

import base64
import json
import random
import string
from typing import Any

import pytest

from schemas.adapters import parse_bytes
from schemas.adapters.base import DeadLetter
from schemas.errors import InvalidRecord
from schemas.events import event_from_dict
from schemas.redaction import redact_text, redact_value
from tests.test_redaction import best_redaction_time

RNG = random.Random(1515)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def r(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def pw() -> str:
    return r(ALNUM, 14) + "!" + r(ALNUM, 3)


# (name, secret, how it is written: "{}" is the secret). Every secret is random, none is real.
TEXT_SHAPES: list[tuple[str, str, str]] = [
    ("mysql -p", pw(), "mysql -u root -p{} -h db.internal prod"),
    ("mysqldump -p", pw(), "mysqldump --single-transaction -uadmin -p{} shop > dump.sql"),
    ("sshpass -p", pw(), "sshpass -p {} ssh deploy@10.0.0.4 uptime"),
    ("sshpass -p'…'", pw(), "sshpass -p{} scp a.txt host:"),
    ("docker login -p", pw(), "docker login -u ci -p {} registry.example.com"),
    ("podman login --password", pw(), "podman login --username ci --password {} quay.io"),
    ("redis-cli -a", pw(), "redis-cli -h cache -a {} FLUSHALL"),
    ("curl -u", pw(), "curl -u deploy:{} https://ci.example.com/api"),
    ("curl --user=", pw(), "curl --user=deploy:{} https://ci.example.com/api"),
    ("curl -uuser:pass", pw(), "curl -sS -uadmin:{} http://localhost:9200"),
    ("curl -u quoted", pw(), 'curl -u "deploy:{}" https://ci.example.com/api'),
    ("curl --user quoted", pw(), "curl -X POST https://git.example.org/api --user 'root:{}' -F name=x"),
    (
        "form field user[password]=",
        pw(),
        'curl -d "user[login]=root" -d "user[password]={}" https://git.example.org/users/sign_in',
    ),
    ("openssl pass:", pw(), "openssl enc -aes-256-cbc -in a -out b -pass pass:{}"),
    ("openssl -passin", pw(), "openssl pkcs12 -in c.p12 -passin pass:{} -nodes"),
    ("openssl -k", pw(), "openssl enc -d -aes256 -k {} -in x.enc"),
    ("zip -P", pw(), "zip -r -P {} backup.zip /srv/data"),
    ("7z -p", pw(), "7z a -p{} -mhe=on secrets.7z notes/"),
    ("ssh-keygen -P", pw(), "ssh-keygen -p -P {} -N newpass123 -f id_ed25519"),
    ("PGPASSWORD=", pw(), "PGPASSWORD={} psql -h db -U app -c 'select 1'"),
    ("export _TOKEN=", r(ALNUM, 32), "export DEPLOY_TOKEN={} && ./deploy.sh"),
    ('export _PASSWORD="…"', pw(), 'export DB_PASSWORD="{}"'),
    ("aws configure set", r(ALNUM + "/+", 40), "aws configure set aws_secret_access_key {} --profile prod"),
    ("--password value", pw(), "vault login -method=userpass username=ops --password {}"),
    ("--token=", r(ALNUM, 30), "gh auth login --token={}"),
    ("--api-key", r(ALNUM, 32), "datadog-ci upload --api-key {} ."),
    ("Cookie:", r(ALNUM, 40), "curl -H 'Cookie: sessionid={}; theme=dark' https://x"),
    ("Cookie second value", r(ALNUM, 40), "Cookie: theme=dark; auth_session={}"),
    ("Authorization: ApiKey", r(ALNUM, 36), 'curl -H "Authorization: ApiKey {}" https://es:9200'),
    ("Authorization: Digest-ish", r(ALNUM, 30), "Authorization: {}"),
    ("X-Api-Key:", r(ALNUM, 32), "curl -H 'X-Api-Key: {}' https://api.example.com"),
    ("X-Auth-Token:", r(ALNUM, 32), "X-Auth-Token: {}"),
    ("PRIVATE-TOKEN:", r(ALNUM, 20), "curl --header 'PRIVATE-TOKEN: {}' https://gitlab.example.com/api/v4"),
    ("short bearer", r(ALNUM, 10), "Authorization: Bearer {}"),
    ("bearer in text", r(ALNUM, 12), "retrying with bearer {} now"),
    ("slack xapp", "xapp-1-A0" + r(ALNUM, 8) + "-" + r("0123456789", 13) + "-" + r(HEX, 64), "SLACK_APP={}"),
    (
        "slack webhook",
        f"T{r(ALNUM, 8)}/B{r(ALNUM, 8)}/{r(ALNUM, 24)}",
        "post to https://hooks.slack.com/services/{}",
    ),
    ("discord webhook", r(ALNUM + "_-", 68), "https://discord.com/api/webhooks/123456789012345678/{}"),
    (
        "azure AccountKey",
        r(ALNUM + "+/", 86) + "==",
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey={};EndpointSuffix=core.windows.net",
    ),
    (
        "azure SharedAccessKey",
        r(ALNUM + "+/", 43) + "=",
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=R;SharedAccessKey={}",
    ),
    (
        "azure SAS sig",
        r(ALNUM + "%", 44),
        "https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2026&sp=r&sig={}",
    ),
    (
        "presigned S3",
        r(HEX, 64),
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature={}",
    ),
    ("gitlab pat", "glpat-" + r(ALNUM + "_-", 20), "git clone https://oauth2:{}@gitlab.com/g/p.git"),
    ("gitlab pat bare", "glpat-" + r(ALNUM + "_-", 20), "token is {}"),
    ("hugging face", "hf_" + r(ALNUM, 34), "HF_HUB={} python train.py"),
    ("npm", "npm_" + r(ALNUM, 36), "//registry.npmjs.org/:_authToken={}"),
    ("npm bare", "npm_" + r(ALNUM, 36), "publish with {}"),
    ("stripe webhook", "whsec_" + r(ALNUM, 32), "endpoint secret {}"),
    ("sendgrid", "SG." + r(ALNUM + "_-", 22) + "." + r(ALNUM + "_-", 43), "mail key {}"),
    ("vault", "hvs." + r(ALNUM + "_-", 90), "VAULT_ADDR=x vault read -address x secret/db # {}"),
    ("pypi", "pypi-AgEIcHlwaS5vcmc" + r(ALNUM + "_-", 60), "twine upload -u __token__ -p {}"),
    ("google oauth", "ya29." + r(ALNUM + "_-", 60), "access {}"),
    ("google client secret", "GOCSPX-" + r(ALNUM + "_-", 28), "client {}"),
    ("shopify", "shpat_" + r(HEX, 32), "X-Shopify-Access-Token {}"),
    ("databricks", "dapi" + r(HEX, 32), "databricks configure {}"),
    ("digitalocean", "dop_v1_" + r(HEX, 64), "doctl auth init -t {}"),
    ("telegram", "1234567890:AA" + r(ALNUM + "_-", 33), "bot {} online"),
    ("age key", "AGE-SECRET-KEY-1" + r("ACDEFGHJKLMNPQRSTUVWXYZ023456789", 58), "{}"),
    ("groq", "gsk_" + r(ALNUM, 52), "key {}"),
    ("anthropic", "sk-ant-api03-" + r(ALNUM + "_-", 90), "ANTHROPIC_API_KEY {}"),
    # network devices' running configurations (Cisco IOS/NX-OS, Junos)
    ("cisco type 7 key", r("0123456789ABCDEF", 22), "tacacs-server host 10.0.0.40 key 7 {}"),
    ("cisco type 7 neighbor password", r("0123456789ABCDEF", 18), " neighbor 203.0.113.9 password 7 {}"),
    ("cisco enable secret 9", "$9$" + r(ALNUM, 14) + "$" + r(ALNUM + "./", 43), "enable secret 9 {}"),
    ("junos $9$ secret", "$9$" + r(ALNUM, 20), 'authentication-key "{}";'),
    ("cisco enable password", pw(), "hostname r1\nenable password {}"),
    (
        "cisco username secret",
        "$1$" + r(ALNUM, 4) + "$" + r(ALNUM, 22),
        "username ops privilege 15 secret 5 {}",
    ),
    ("cisco username password 0", pw(), "username bob password 0 {}"),
    ("snmp community", r(ALNUM, 10), "snmp-server community {} RW"),
    ("junos snmp community", r(ALNUM, 10), "set snmp community {} authorization read-only"),
    ("tacacs key", pw(), "tacacs-server key {}"),
    ("junos encrypted-password", "$6$" + r(ALNUM, 8) + "$" + r(ALNUM + "./", 86), 'encrypted-password "{}";'),
    (
        "shadow hash",
        "$y$j9T$" + r(ALNUM + "./", 22) + "$" + r(ALNUM + "./", 43),
        "root:{}:19800:0:99999:7:::",
    ),
    # a login written as "user / password" in notes and mails
    ("user label / password", pw(), "Service user: svc_ops / {} | VPN profile ops.ovpn"),
    ("account name / password", pw(), "SCADA HMI (10.20.0.10): admin / {} | Park controller"),
    ("login / password in prose", pw(), "your engineers can look directly: user svc_ops / {}"),
    # JSON inside a JSON string (a request body logged as a string, then serialised again)
    ("JSON escaped once", pw(), '"{{\\"password\\": \\"{}\\", \\"user\\": \\"bob\\"}}"'),
    ("JSON escaped twice", pw(), '"{{\\\\\\"api_key\\\\\\": \\\\\\"{}\\\\\\"}}"'),
    ("JSON escaped, single quotes", pw(), "{{\\'db_password\\': \\'{}\\'}}"),
    ("base64-wrapped github token", "", ""),  # filled below
    ("dockerconfig auth", "", ""),  # filled below
]
_github = "ghp_" + r(ALNUM, 36)
TEXT_SHAPES[-2] = (
    "base64-wrapped github token",
    base64.b64encode(_github.encode()).decode(),
    "echo {} | base64 -d",
)
TEXT_SHAPES[-1] = (
    "dockerconfig auth",
    base64.b64encode(f"ci:{pw()}".encode()).decode(),
    '{{"auths": {{"registry.example.com": {{"auth": "{}"}}}}}}',
)

# Structured shapes: secrets under keys or in pairs (name, value, secret).
SECRET_LIST, SECRET_DICT, K8S, TAG, HDR_PAIR, PWD = (pw() for _ in range(6))
STRUCTURED: list[tuple[str, dict[str, Any], str]] = [
    ("secret key holding a list", {"api_keys": [SECRET_LIST, "other"]}, SECRET_LIST),
    ("secret key holding a dict", {"credentials": {"user": "app", "pass": SECRET_DICT}}, SECRET_DICT),
    ("key pwd", {"pwd": PWD}, PWD),
    ("kubernetes env pair", {"env": [{"name": "DB_PASSWORD", "value": K8S}]}, K8S),
    ("AWS tag pair", {"Tags": [{"Key": "api_token", "Value": TAG}]}, TAG),
    ("header [name, value] pair", {"headers": [["Authorization", HDR_PAIR], ["Accept", "json"]]}, HDR_PAIR),
]


def hidden(secret: str, text: str) -> bool:
    windows = {secret} | {secret[i : i + 12] for i in range(0, max(1, len(secret) - 11), 4)}
    return not any(w in text for w in windows)


@pytest.mark.parametrize(("name", "secret", "context"), TEXT_SHAPES, ids=[s[0] for s in TEXT_SHAPES])
def test_every_secret_shape_is_redacted_in_free_text(name: str, secret: str, context: str) -> None:
    text = context.format(secret)
    out = redact_text(text)
    assert hidden(secret, out), out
    assert redact_text(out) == out  # idempotent


@pytest.mark.parametrize(("name", "value", "secret"), STRUCTURED, ids=[s[0] for s in STRUCTURED])
def test_secrets_under_keys_and_in_pairs_are_redacted(name: str, value: dict[str, Any], secret: str) -> None:
    out = json.dumps(redact_value(value))
    assert hidden(secret, out), out


def test_identifiers_stay_readable() -> None:
    value = {"env": [{"name": "LOG_LEVEL", "value": "debug"}], "headers": [["Accept", "application/json"]]}
    assert redact_value(value) == value
    for text in (
        "mkdir -p /srv/app",
        "gzip -9 big.log",
        "git push -u origin main",
        "sort -u names.txt",
        "rotate the key 7 days before expiry",
        "awk '{print $1$2}' totals.txt",
        "show snmp community",
        "Username and password are required",
        "10-mile radius, key stores open late",
        "awk '{print $1$2$3$4$5$6$7$8}' totals.txt",
        "echo $1$HOME/bin/tool",
        "grant the user read / write access",
        "admin / console settings",
        "TCP / IP v4 stack",
        "account owner / billing",
        # a variable the same line set is where the secret is, not one (escaped JSON or not)
        'NEWPW=$(openssl rand -base64 24) && curl -d \'{"password":"$NEWPW"}\' https://h/u/1',
        'NEWPW=$(openssl rand -hex 9); curl -d "{\\"password\\":\\"$NEWPW\\"}" https://h/u/1',
    ):
        assert redact_text(text) == text


def tool_call(**fields: Any) -> dict[str, Any]:
    return {
        "kind": "tool_call",
        "event_id": "e1",
        "event_time": "2026-01-01T00:00:00Z",
        "source": "native",
        "session_id": "s1",
        "tool": "bash",
        "action": "run",
        **fields,
    }


def test_every_stored_text_field_is_redacted() -> None:
    token = "ghp_" + r(ALNUM, 36)
    event = event_from_dict(
        tool_call(
            tool=f"curl --token={token}",
            action=f"login {token}",
            credential_id=token,
            principal=f"user {token}",
            approved_by=token,
            agent_id=token,
            task_scope=[f"repo:{token}"],
            decision="approved",
        )
    )
    assert hidden(token, event.model_dump_json()), event.model_dump_json()


def test_dead_letters_get_key_name_redaction() -> None:
    secret = pw()
    record = {
        "kind": "tool_call",
        "event_id": "x",
        "pwd": secret,
        "env": [{"name": "API_TOKEN", "value": secret}],
    }
    letter = DeadLetter.from_error(InvalidRecord("bad"), record)
    assert hidden(secret, letter.raw), letter.raw
    data = json.dumps([record]).encode()
    [dead] = [p for p in parse_bytes(data, "x.json", "native") if isinstance(p, DeadLetter)]
    assert hidden(secret, dead.raw)


@pytest.mark.parametrize(
    "forged",
    [
        "https://u:[REDACTED:x:000000000000]{}@host/",
        "password=[REDACTED:named_secret:0123456789ab]{}",
        'password="[REDACTED:named_secret:0123456789ab] {}"',
        "https://[REDACTED:a:000000000000]:{}@host/",
        "Authorization: Bearer [REDACTED:bearer:0123456789ab]{}",
    ],
)
def test_a_forged_marker_does_not_shield_a_secret(forged: str) -> None:
    secret = pw()
    assert hidden(secret, redact_text(forged.format(secret)))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit",
    [
        "eyJ-",
        "eyJabcdefgh.",
        "Bearer ",
        "password=",
        "https://a:",
        "AKIA" + "A" * 16 + " ",
        "ghp_",
        "https://[REDACTED:a:000000000000]:hunter2@h ",  # every match cuts into a marker
    ],
)
def test_hostile_text_costs_linear_time(unit: str) -> None:
    """A ratio inside one run (not a timed test): 16x the text must cost about 16x, not 256x (quadratic).
    The bound leaves room for a busy machine (4x linear). Before, 256 KB of repeated 'eyJ-' took ~20 s."""
    small, large = unit * (16_384 // len(unit)), unit * (262_144 // len(unit))
    assert best_redaction_time(large) / max(best_redaction_time(small), 1e-5) < 64, unit


def test_oversized_values_are_cut_before_scanning() -> None:
    out = redact_text("a" * 300_000)
    assert len(out) < 270_000 and "cut:" in out


def test_detect_secrets_finds_nothing_after_redaction() -> None:
    """The oracle: detect-secrets' token plugins (its entropy plugins flag every random word) over each
    corpus line, before and after our redaction."""
    scan = pytest.importorskip("detect_secrets.core.scan")
    from detect_secrets.settings import transient_settings

    plugins = [
        {"name": n}
        for n in (
            "AWSKeyDetector",
            "AzureStorageKeyDetector",
            "BasicAuthDetector",
            "DiscordBotTokenDetector",
            "GitHubTokenDetector",
            "GitLabTokenDetector",
            "JwtTokenDetector",
            "MailchimpDetector",
            "NpmDetector",
            "OpenAIDetector",
            "PrivateKeyDetector",
            "PypiTokenDetector",
            "SendGridDetector",
            "SlackDetector",
            "SquareOAuthDetector",
            "StripeDetector",
            "TelegramBotTokenDetector",
            "TwilioKeyDetector",
        )
    ]
    found_before = 0
    with transient_settings({"plugins_used": plugins}):
        for _, secret, context in TEXT_SHAPES:
            line = context.format(secret)
            before = [s.secret_value for s in scan.scan_line(line)]
            found_before += len(before)
            after = [s.secret_value for s in scan.scan_line(redact_text(line))]
            assert after == [], (line, after)
    assert found_before >= 5  # the oracle does recognise part of the corpus
