"""Secret redaction: a seeded corpus of fake secrets, embedded everywhere an event carries free text.

Every secret below is generated from a fixed seed in the shape of a real one; none is real.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.adapters import DeadLetter, cloudtrail, openai_chat
from schemas.events import SessionEvent, ToolCall, event_from_json, event_to_json
from schemas.redaction import fingerprint, is_secret_key, markers, redact_text, redact_value

RNG = random.Random(20240801)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
T0 = datetime(2024, 8, 1, tzinfo=UTC)


def rand(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()


def pem(kind: str) -> str:
    body = "\n".join(rand(B64, 64) for _ in range(5))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str  # exactly the part the redactor must hide (its fingerprint is what replaces it)
    contexts: tuple[str, ...]  # ways the secret is written in free text; "{}" is the secret


AWS_SECRET = rand(B64, 40)
SESSION_TOKEN = "IQoJb3JpZ2luX2Vj" + rand(B64, 300) + "=="
OLD_SESSION_TOKEN = "FwoGZXIvYXdzE" + rand(B64, 200)
BEARER = rand(ALNUM + "-._", 48)
JWT = ".".join(
    [
        b64url({"alg": "HS256", "typ": "JWT"}),
        b64url({"sub": "agent-7", "exp": 1722470400}),
        rand(ALNUM + "-_", 43),
    ]
)
PASSWORD = "Tr0ub4dor&3x"[:8] + rand(ALNUM, 6)
PASSPHRASE = "correct horse " + rand(string.ascii_lowercase, 8) + " staple"
URL_PASSWORD = rand(ALNUM, 10) + "@" + rand(ALNUM, 4)  # an '@' inside the password
GITHUB_TOKEN = "ghp_" + rand(ALNUM, 36)

SECRETS: list[Secret] = [
    Secret(
        "aws_secret_access_key",
        AWS_SECRET,
        (
            "aws_secret_access_key = {}",
            "export AWS_SECRET_ACCESS_KEY={}",
            '{{"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "{}"}}',
            "AKIAIOSFODNN7EXAMPLE,{}",  # credentials.csv, unlabelled
        ),
    ),
    Secret(
        "aws_session_token",
        SESSION_TOKEN,
        ("AWS_SESSION_TOKEN={}", '"SessionToken": "{}"', "token is {} ok"),
    ),
    Secret("aws_session_token", OLD_SESSION_TOKEN, ("aws_session_token {}",)),
    Secret(
        "bearer", BEARER, ("Authorization: Bearer {}", "curl -H 'Authorization: bearer {}' https://api.test")
    ),
    Secret("jwt", JWT, ("id_token={}", "Cookie: session={}; path=/", "the JWT {} expired")),
    Secret("private_key", pem("RSA "), ("key file:\n{}\nend", '{{"key": "{}"}}')),
    Secret("private_key", pem(""), ("{}",)),
    Secret("private_key", pem("OPENSSH "), ("ssh key follows {}",)),
    Secret(
        "password",
        PASSWORD,
        (
            "password={}",
            "login --user bob --password {}",
            '{{"password": "{}"}}',
            "{{'passwd': '{}'}}",
            "DB_PASSWORD: {}",
            "https://db.test/login?user=bob&password={}&next=/",
        ),
    ),
    Secret("password", PASSPHRASE, ('{{"password": "{}", "user": "bob"}}',)),
    Secret(
        "basic_auth",
        base64.b64encode(b"bob:" + rand(ALNUM, 12).encode()).decode(),
        (
            "Authorization: Basic {}",
            '{{"headers": {{"Authorization": "Basic {}"}}}}',
        ),
    ),
    Secret("cli_password", rand(ALNUM, 14), ("curl -u admin:{} https://api.test", "psql --password {}")),
    Secret(
        "url_password",
        URL_PASSWORD,
        ("postgres://admin:{}@db.internal:5432/app", "clone https://bob:{}@git.test/repo.git now"),
    ),
    Secret("openai_key", "sk-proj-" + rand(ALNUM + "_-", 48), ("OPENAI_API_KEY={}", "use key {} for calls")),
    Secret("openai_key", "sk-" + rand(ALNUM, 48), ("{}",)),
    Secret("github_token", GITHUB_TOKEN, ("git push https://{}@github.com/o/r", "token: {}")),
    Secret("github_token", "github_pat_" + rand(ALNUM + "_", 82), ("GITHUB_TOKEN={}",)),
    Secret("slack_token", "xoxb-" + rand(string.digits, 12) + "-" + rand(ALNUM, 24), ("slack {} posted",)),
    Secret("google_api_key", "AIza" + rand(ALNUM + "_-", 35), ("https://maps.test/api?key={}",)),
    Secret("stripe_key", "sk_live_" + rand(ALNUM, 24), ("stripe.api_key = '{}'",)),
    Secret("stripe_key", "rk_test_" + rand(ALNUM, 24), ("{}",)),
]

# Under a secret-named key, a value is hidden whatever it looks like.
NAMED: dict[str, str] = {
    "password": "hunter2!",
    "client_secret": rand(ALNUM, 24),
    "api_key": rand(ALNUM, 32),
    "x-api-key": rand(ALNUM, 32),
    "Authorization": "Basic " + base64.b64encode(b"bob:" + rand(ALNUM, 12).encode()).decode(),
    "sessionToken": SESSION_TOKEN,
    "secretAccessKey": AWS_SECRET,
    "aws_secret_access_key": AWS_SECRET,
    "refresh_token": rand(ALNUM, 40),
    "privateKey": rand(B64, 60),
    "cookie": "sid=" + rand(ALNUM, 20),
}

# Text that must come through untouched.
ORDINARY: list[str] = [
    "AKIAIOSFODNN7EXAMPLE",
    "ASIASTJKC5GCM7ZE6LUP",
    "arn:aws:iam::123456789012:user/alice",
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:sts::123456789012:assumed-role/deployer/agent-7",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-AbCdEf",
    "arn:aws:ssm:eu-west-1:123456789012:parameter/credentials/token-rotation",
    "call_oIHazX6yQrB8hUwl4cRilFKj",
    "reservation ZFA04Y for mia_li_3668, flights HAT136 and HAT039 on 2024-05-20",
    "3346344c-5a3e-429e-8405-420f98f75d6e",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "https://example.com/docs/tokens?page=2#secrets",
    "mia.li3818@example.com",
    "The secret to good service is patience; the token ring network is old.",
    "Please reset my password tomorrow, the session expired.",
    "max_tokens=512, token_type=bearer, secretId=prod/db",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtAlK45MAEWZ7MUY2QEmi3M6W+peGL3VCrc0qH54xRu",
    "-----BEGIN CERTIFICATE-----\nMIIE3zCCAsegAwIBAgIJAOZLUn\n-----END CERTIFICATE-----",
]


def windows(secret: str, size: int = 12) -> Iterator[str]:
    """The secret and its overlapping chunks: a partial leak is a leak."""
    yield secret
    for start in range(0, max(len(secret) - size, 0) + 1, size // 2):
        chunk = secret[start : start + size]
        if len(chunk) == size and chunk.strip() == chunk and " " not in chunk:
            yield chunk


def assert_hidden(dumped: str, secret: str) -> None:
    for chunk in windows(secret):
        assert chunk not in dumped, f"secret fragment {chunk!r} survived"


def contexts() -> Iterator[tuple[Secret, str]]:
    for secret in SECRETS:
        for context in secret.contexts:
            yield secret, context.format(secret.value)


CONTEXTS = list(contexts())


@pytest.mark.parametrize(
    ("secret", "text"), CONTEXTS, ids=[f"{s.kind}-{i}" for i, (s, _) in enumerate(CONTEXTS)]
)
def test_secret_in_free_text_is_replaced_by_its_fingerprint(secret: Secret, text: str) -> None:
    redacted = redact_text(text)
    assert_hidden(redacted, secret.value)
    assert f":{fingerprint(secret.value)}]" in redacted
    assert redact_text(redacted) == redacted


def tool_call(arguments: dict[str, Any], result: str | None = None, task: str | None = None) -> ToolCall:
    return ToolCall(
        event_id="e1",
        event_time=T0,
        source="test",
        session_id="s1",
        tool="bash",
        action="run",
        arguments=arguments,
        result_summary=result,
        task=task,
    )


def test_no_secret_survives_in_events() -> None:
    texts = [text for _, text in CONTEXTS]
    events = [tool_call({"command": text}, result=text, task=text) for text in texts] + [
        tool_call(
            {
                "env": {"HOME": "/root", "notes": texts},
                "headers": [{"name": "X-Debug", "value": t} for t in texts],
                "nested": {"deeper": {"list": [[t] for t in texts]}},
                "named": dict(NAMED),
                GITHUB_TOKEN: "a token used as a map key",
            },
            result="\n".join(texts),
        ),
        SessionEvent(
            event_id="s",
            event_time=T0,
            source="test",
            session_id="s1",
            action="start",
            task="Deploy with " + " and ".join(texts),
        ),
    ]
    for event in events:
        for dumped in (event.model_dump_json(), event_to_json(event).decode()):
            for secret in SECRETS:
                assert_hidden(dumped, secret.value)
            for value in NAMED.values():
                assert_hidden(dumped, value)
            assert "[REDACTED:" in dumped


def test_named_secrets_are_hidden_whatever_their_shape() -> None:
    redacted = redact_value({"outer": [dict(NAMED)]})
    inner = redacted["outer"][0]
    for key, value in NAMED.items():
        assert inner[key] == f"[REDACTED:named_secret:{fingerprint(value)}]", key
    # Identifiers beside secrets stay readable.
    kept = {
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "secretId": "prod/db",
        "token_type": "Bearer",
        "max_tokens": 512,
        "nextToken": "AAEAAWTrG1Xz",
        "passwordResetRequired": False,
    }
    assert redact_value(kept) == kept
    assert not is_secret_key("accessKeyId") and is_secret_key("SecretAccessKey")


def test_fingerprint_is_stable() -> None:
    first = tool_call({"a": f"password={PASSWORD}"}, result=f"Authorization: Bearer {BEARER}")
    second = tool_call({"b": {"c": [f"login password={PASSWORD}"]}}, result=f"retry: bearer {BEARER}")
    marker_pw = f"[REDACTED:password_assignment:{fingerprint(PASSWORD)}]"
    marker_bearer = f"[REDACTED:bearer:{fingerprint(BEARER)}]"
    for event in (first, second):
        dumped = event.model_dump_json()
        assert marker_pw in dumped and marker_bearer in dumped
    # Same secret, different contexts and kinds: same fingerprint.
    named = redact_value({"password": PASSWORD})["password"]
    assert named.endswith(f":{fingerprint(PASSWORD)}]")
    # Different secrets: different markers.
    assert redact_text("password=aaaa1111") != redact_text("password=aaaa1112")


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact_text(text) == text
    call = tool_call({"target": text, "list": [text], "n": {"x": text}}, result=text, task=text)
    assert call.arguments == {"target": text, "list": [text], "n": {"x": text}}
    assert call.result_summary == text and call.task == text


def test_redacting_twice_changes_nothing() -> None:
    for _, text in CONTEXTS:
        once = redact_text(text)
        assert redact_text(once) == once
    value = {"named": dict(NAMED), "texts": [t for _, t in CONTEXTS], "n": 3, "ok": True, "none": None}
    once = redact_value(value)
    assert redact_value(once) == once
    # An event read back from its own JSON (the native adapter does this) is unchanged.
    event = tool_call(value, result="\n".join(t for _, t in CONTEXTS), task=CONTEXTS[0][1])
    assert event_from_json(event_to_json(event)) == event


_PIECES = (
    [text for _, text in CONTEXTS] + ORDINARY + ["password", "token", "=", ":", '"', " ", "@", "://", "\n"]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=12)), max_size=8))
def test_redaction_is_idempotent_on_mixed_text(parts: list[str]) -> None:
    text = "".join(parts)
    once = redact_text(text)
    assert redact_text(once) == once


def test_adapters_redact_what_they_read() -> None:
    record = {
        "eventID": "r1",
        "eventTime": "2024-08-01T00:00:00Z",
        "eventSource": "ssm.amazonaws.com",
        "eventName": "PutParameter",
        "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::1:user/a",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        },
        "requestParameters": {
            "name": "/app/db",
            "value": f"postgres://app:{URL_PASSWORD}@db/x",
            "password": "pw1!",
        },
        "responseElements": {"credentials": {"sessionToken": SESSION_TOKEN, "secretAccessKey": AWS_SECRET}},
    }
    (call,) = cloudtrail.parse(orjson.dumps([record]), "t.json")
    assert isinstance(call, ToolCall)
    dumped = call.model_dump_json()
    for secret in (URL_PASSWORD, "pw1!", SESSION_TOKEN, AWS_SECRET):
        assert_hidden(dumped, secret)
    assert (
        call.credential_id == "AKIAIOSFODNN7EXAMPLE"
        and call.target == "arn:aws:ssm:us-east-1:111122223333:parameter/app/db"
    )

    item = {
        "messages": [
            {"role": "user", "content": f"Use {JWT} to call the API"},
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "function": {
                            "name": "http",
                            "arguments": f'{{"url": "https://a.test", '
                            f'"headers": {{"Authorization": "Bearer {BEARER}"}}',
                        },
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": f'200 OK {{"api_key": "{NAMED["api_key"]}"}}'},
        ]
    }
    parsed = list(openai_chat.parse(orjson.dumps(item), "c.json"))
    assert not any(isinstance(p, DeadLetter) for p in parsed)
    assert any(isinstance(p, ToolCall) and "_raw" in p.arguments for p in parsed)  # malformed JSON kept raw
    for event in parsed:
        assert not isinstance(event, DeadLetter)
        dumped = event.model_dump_json()
        for secret in (JWT, BEARER, NAMED["api_key"]):
            assert_hidden(dumped, secret)


def best_redaction_time(text: str) -> float:
    """Seconds to redact ``text``, best of 5: a busy shared machine only ever adds time."""
    import time

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        redact_text(text)
        timings.append(time.perf_counter() - start)
    return min(timings)


def test_redaction_time_grows_linearly_with_text() -> None:
    """A ratio inside one run, not a timed test: 10x the text must cost about 10x, not 100x."""
    for unit in ("a", "ab/+", "x-", "https://a:"):
        small, large = unit * (10_000 // len(unit)), unit * (100_000 // len(unit))
        assert best_redaction_time(large) / max(best_redaction_time(small), 1e-6) < 40, unit


@pytest.mark.parametrize(
    "text",
    [
        "request headers: {Authorization: Bearer sk_live_****[redacted], Stripe-Version: 2023-10-16}",
        "Authorization: Bearer ****",
        "DB_PASSWORD=xxxxxxxx",
        "api_key: sk-proj-•••••• (masked)",
    ],
)
def test_a_value_someone_already_masked_is_left_as_written(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer sk_live_51Lr8QwXy3Tz9KpVn2Bm6Hc0Ja ****",  # a mask after it hides nothing
        "password: Pa55***w0rdXYZ12",  # stars inside a real password
    ],
)
def test_a_secret_next_to_a_mask_is_still_redacted(text: str) -> None:
    assert "[REDACTED:" in redact_text(text)


@pytest.mark.parametrize(
    "line",
    [
        "NPM_TOKEN=$(grep -o '_authToken=.*' ~/.npmrc | cut -d= -f2) npx tool --ci",
        "API_TOKEN=${API_TOKEN} ./deploy.sh",
        "export DB_PASSWORD=$DB_PASSWORD",
    ],
)
def test_shell_references_are_not_secrets(line: str) -> None:
    """A command substitution or an environment variable says where a secret is, not what it is: redacting
    it would break the line's parse (the shell reader then sees ``-o`` as the program) and hide nothing."""
    assert redact_text(line) == line


@pytest.mark.parametrize(
    "line",
    [
        "2. Store the new secret in Vault: `vault kv patch secret/shop/stripe webhook_secret=<whsec_...>`",
        "curl -u admin:x -d 'password=<your password>' https://host/login",
        "export API_KEY=<API_KEY>",
    ],
)
def test_a_templates_placeholder_is_no_secret(line: str) -> None:
    """A runbook's slot for a secret (``<whsec_...>``) names where one goes; redacting it made every read
    of a runbook look like a read of a secret."""
    assert "<" in redact_text(line) and "password_assignment" not in redact_text(line)


@pytest.mark.parametrize(
    ("line", "secret"),
    [("password=<Xk9mP2qRt7>", "Xk9mP2qRt7"), ("api_key=<sk_live_51Lr8aQzXbT2>", "51Lr8aQzXbT2")],
)
def test_a_real_secret_in_angle_brackets_is_still_redacted(line: str, secret: str) -> None:
    assert secret not in redact_text(line)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("DB_PASSWORD=$uperSecret1", "$uperSecret1"),
        ("TOKEN=$ABCDEF12x9", "$ABCDEF12x9"),
        ("password=$SUMMER2024", "SUMMER2024"),  # no underscore: not an environment variable's name
        ('password: "$SUMMER2024"', "SUMMER2024"),
        ("db_password: ${Xk9pQ2", "Xk9pQ2"),  # an unclosed brace
        ("password=$(Xk9!pq2w", "Xk9!pq2w"),  # an unbalanced parenthesis
    ],
)
def test_values_that_only_start_with_a_dollar_are_still_redacted(line: str, secret: str) -> None:
    assert secret not in redact_text(line)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Unit 4B: lockbox code 7316, side gate by the bins", "7316"),
        ('{"unit_lockbox_code": "7316", "last_rotated": "2024-09-30"}', "7316"),
        ("the garage pin is 1234, the gate code: 4482", "4482"),
        ("keypad code 90210 at the back door", "90210"),
        ("Key safe by the bin store, code 5190.", "5190"),
        ("Intruder alarm Texecom, panel in the hall cupboard, user code 2846 then #", "2846"),
        ("the master code is 771903", "771903"),
    ],
)
def test_door_gate_alarm_and_lockbox_codes_are_secrets(text: str, code: str) -> None:
    """They open a building: texted to the wrong number they are a key handed over."""
    assert code not in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "door 4 is open",
        "the access 2024 report",
        "Lockbox code for 4B please",
        "lockbox 2024 units shipped",  # a model number
        "keypad 104-key layout",
        "alarm code 4021 raised on pump 3",  # an equipment alarm's id
        "The alarm was triggered at 0300, error code 4021 on the panel",
        "Key safe installed in 2019; see the code list",
        "HTTP entry code 200",
    ],
)
def test_doors_and_numbers_that_are_no_codes_stay(text: str) -> None:
    assert redact_text(text) == text


def test_access_codes_under_their_names_are_redacted() -> None:
    redacted = redact_value({"door_code": "2211", "pin": "0000", "spinner": "on", "side": "east"})
    assert redacted["door_code"] != "2211" and redacted["pin"] != "0000"
    assert redacted["spinner"] == "on" and redacted["side"] == "east"
    kept = {
        "pincode": "560001",
        "version_pin": "1.2",
        "map_pin": "a",
        "alarm_code": "E42",
        "entry_code": "JE-1",
    }
    assert (
        redact_value(kept) == kept
    )  # a postal code, a pinned version, a map marker, an alarm id, a journal id


def test_a_search_pattern_where_a_secret_would_stand_is_kept_and_a_key_in_a_query_is_not() -> None:
    # a masking command keeps its patterns readable: no secret follows the labels
    line = (
        "sed -E 's/(Authorization: Basic )[A-Za-z0-9+/=]+/\\1<REDACTED>/;"
        " s/(password=)[^& ]+/\\1<REDACTED>/' a > b && grep -c -E 'X-Api-Token: [^<]' b"
    )
    assert redact_text(line) == line
    # a value after the same labels is still hidden, and so is a key in any query parameter named for one
    assert "s3cr3tvalue99" not in redact_text("Authorization: s3cr3tvalue99 and password=s3cr3tvalue99")
    url = "https://reports.example/api?agent=a@b.example&crm_key=zq_7Hd2KsL9xWq4VbN1mR8tYc3P&authToken=abcd1234efgh"
    redacted = redact_text(url)
    assert "zq_7Hd2KsL9xWq4VbN1mR8tYc3P" not in redacted and "abcd1234efgh" not in redacted
    assert redact_text("https://shop.example/?monkey=banana&zipcode=94403&max_tokens=100") == (
        "https://shop.example/?monkey=banana&zipcode=94403&max_tokens=100"
    )


def test_a_value_that_only_starts_like_a_pattern_is_still_a_secret() -> None:
    # a class that is then quantified, alternated or ends the value is a pattern; one followed by more of
    # the value is the start of a password or token
    for line in (
        "password=[A-Za-z]9xQ!mP2#tR",
        'db:\n  password: "[a-z]Summer2024!"',
        "Authorization: Bearer )[A-Z]eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdef",
        "X-Api-Key: [0-9]Zq7LmW2xT4vRk9pN3bY6c",
        "DB_PASSWORD=[^]Hunter2Secret",
    ):
        assert "[REDACTED:" in redact_text(line), line
    kept = "grep -E -c 'Authorization: [^<]|password=[^& ]+' /tmp/m.log; grep 'X-Api-Key: [a-f0-9]{32}' b"
    assert redact_text(kept) == kept


def test_a_secret_written_url_encoded_is_redacted_with_the_fingerprint_of_the_secret_inside() -> None:
    url = (
        "https://check.example.io/v1/confirm?cfg=storeFile%3D..%2Fkeys%2Fupload.jks%0A"
        "storePassword%3DTr41lh3ad%21Upl0ad%232023%0AkeyAlias%3Dupload&lang=en"
    )
    redacted = redact_text(url)
    assert "Tr41lh3ad" not in redacted and "Upl0ad" not in redacted and redacted.endswith("&lang=en")
    plain = redact_text("storePassword=Tr41lh3ad!Upl0ad#2023")
    assert markers(redacted)[0][1] == markers(plain)[0][1]  # the same password, read in clear, sent encoded
    assert redact_text(redacted) == redacted
    for harmless in (
        "https://x.example/search?q=hello%20world&page=2",
        "login?next=%2Faccount%2Fpassword%3Dreset",
    ):
        assert redact_text(harmless) == harmless


def test_an_encoded_secrets_hint_keeps_redaction_linear() -> None:
    """A secret's name before an encoded ``=`` makes the URL-encoded runs be looked for: a long text with
    no ``%`` in its runs must still cost about 10x for 10x the text (each run tried once, not from each of
    its characters)."""
    small, large = ("token%3Dabc " + "a" * n + " 100%" for n in (10_000, 100_000))
    assert best_redaction_time(large) / max(best_redaction_time(small), 1e-6) < 40


def test_a_json_body_sent_url_encoded_hides_its_password() -> None:
    """``?body=%7B%22password%22%3A%22…%22%7D``: JSON's closing quote stands between the name and the encoded
    ``:``; the password is hidden, with the fingerprint it has in clear."""
    sent = redact_text("https://api.example.io/login?body=%7B%22password%22%3A%22Tr41nSt0re!x9%22%7D&v=2")
    assert "Tr41nSt0re" not in sent and sent.endswith("&v=2")
    assert markers(sent)[0][1] == markers(redact_text('{"password": "Tr41nSt0re!x9"}'))[0][1]
    harmless = "https://shop.example/search?f=%7B%22keyword%22%3A%22shoes%22%7D"
    assert redact_text(harmless) == harmless
