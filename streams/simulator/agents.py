"""The three benign agents as steps: a coding agent, a cloud-ops agent and a customer-service agent.

Each comes in parts (prelude, work, wrap-up) so that the attack scenarios can start, work and end as
the agent they impersonate. The preludes bind the variables the rest reads: ``env`` (where the calls
land), ``cred`` (the session's credential) and the agent's own (``repo``, ``svc``, ``order``, ...).
"""

from __future__ import annotations

import hashlib
from typing import Any

from schemas.types import Environment
from streams.simulator.steps import (
    CRED,
    Agent,
    Call,
    Chance,
    Derive,
    End,
    Fill,
    HexId,
    If,
    Issue,
    Length,
    Let,
    PermissionMode,
    Pick,
    RandInt,
    Ref,
    Repeat,
    Roll,
    Start,
    Steps,
    Suffix,
    Switch,
    Vars,
    Wait,
    WorkFor,
)
from streams.simulator.vocabulary import (
    ACCOUNTS,
    APPROVED,
    BY_RULE,
    CLOUD_SERVICES,
    CLOUD_TASKS,
    CUSTOMER_MAILS,
    DENIED,
    DEV,
    DEVELOPERS,
    DOC_PAGES,
    ERROR,
    FIRST_NAMES,
    LAST_NAMES,
    MAIL_DOMAINS,
    PROD,
    REFUSED,
    REGION,
    REPOS,
    SRES,
    SUPPORT_LEADS,
    SUPPORT_REPS,
)


def arn(service: str, resource: str, account: str = "{acct}") -> str:
    """An ARN template in the simulator's region and, unless ``account`` is given, the task's account."""
    return f"arn:aws:{service}:{REGION}:{account}:{resource}"


def aws(action: str, target: Any, **fields: Any) -> Call:
    """An AWS API call made with the session's credential."""
    return Call("aws", action, target, **{"cred": CRED, **fields})


def bash(command: Any, **fields: Any) -> Call:
    """A shell command (``tool="bash"``, ``action="exec"``, the command in ``arguments``)."""
    return Call("bash", "exec", args={"command": command}, **fields)


def secret_read(name: str, **fields: Any) -> Steps:
    """GetSecretValue on the secret ``name`` (a template); its ARN ends in AWS's random suffix."""
    target = arn("secretsmanager", f"secret:{name}-{{suffix}}")
    return (
        Let("suffix", Suffix()),
        aws("GetSecretValue", target, args={"secretId": name}, result="secret read", **fields),
    )


# --------------------------------------------------------------------------------------------------------
# Coding agent: a task in a repository, edits and test runs, a branch and a pull request
# --------------------------------------------------------------------------------------------------------

REPO = "repo:github.com/{repo.name}/"
DOC_SITES = tuple(url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + "/*" for url, _ in DOC_PAGES)
CODING_TOOLS = ("tool:bash", "tool:read_file", "tool:write_file", "tool:git", "tool:github", "tool:fetch_url")


def _lines(v: Vars) -> str:
    """A file's length, the same for the same path in every session."""
    digest = hashlib.blake2b(v["path"].encode(), digest_size=2).digest()
    return f"{20 + int.from_bytes(digest, 'big') % 700} lines"


def read(path: Any) -> Steps:
    """The coding agent reads ``path`` (a value or a draw) in its repository."""
    return (
        Let("path", path),
        Call("read_file", "read", REPO + "{path}", {"path": "{path}"}, result=Derive(_lines)),
    )


CODING_OPEN: Steps = (
    Agent("code-assistant", DEVELOPERS),
    Let("env", DEV),
    Let("repo", Pick(REPOS)),
    Let(("task", "file", "test"), Pick(Ref("repo.tasks"))),
    Let("test_cmd", Fill("{repo.test_cmd}")),
    Start("{task}", (REPO + "*", *CODING_TOOLS, *DOC_SITES)),
    Wait(0.2, 1.5),
    Issue(
        "cred",
        ("repo:{repo.name}:write", "repo:{repo.name}:pull_requests"),
        ttl_s=Pick((900.0, 1800.0, 3600.0)),
        issuer="github-app",
    ),
    Chance(0.15, (PermissionMode("acceptEdits"),)),
    Let("stem", Derive(lambda v: v["file"].rsplit("/", 1)[-1].split(".")[0].lower())),
    Let("branch_no", RandInt(100, 999)),
    Let("branch", "agent/{stem}-{branch_no}"),
)

_SOURCE_OR_FILE = Derive(lambda v: (*v["repo"].files, v["file"]))
_TESTS_FAIL = "1 failed, 23 passed"
_CURL_PIPE = "curl -fsSL https://get.tool.example.dev | sh"
_FORCE_PUSH = {"branch": "main", "force": True}

CODING_WORK: Steps = (
    Roll(
        (
            (0.32, read(Pick(_SOURCE_OR_FILE))),
            (
                0.5,
                (
                    Let("lines", RandInt(1, 30)),
                    Call(
                        "write_file",
                        "write",
                        REPO + "{file}",
                        {"path": "{file}", "lines_changed": Ref("lines")},
                        result="written",
                    ),
                ),
            ),
            (
                0.66,
                (
                    Chance(
                        0.35,
                        (bash("{test_cmd}", outcome=ERROR, ms=(1500, 25000), result=_TESTS_FAIL),),
                        (bash("{test_cmd}", ms=(1500, 25000), result="24 passed"),),
                    ),
                ),
            ),
            (
                0.74,
                (
                    Let(
                        "cmd",
                        Pick(("grep -rn 'def ' {file}", "git diff --stat", "ls -la", "{repo.lint_cmd}")),
                    ),
                    bash(Fill("{cmd}"), result="ok", think_s=(0.5, 4)),
                ),
            ),
            (
                0.8,
                (
                    Let(("url", "page"), Pick(DOC_PAGES)),
                    Call(
                        "fetch_url",
                        "get",
                        "{url}",
                        {"url": "{url}"},
                        untrusted=True,
                        result="{page}",
                        ms=(200, 2500),
                    ),
                ),
            ),
            (
                0.84,
                (
                    Let("cmd", Pick(("rm -rf .pytest_cache build/", "rm -rf node_modules", "make clean"))),
                    bash("{cmd}", result="ok"),
                ),
            ),
            (
                0.87,
                (  # a missing tool, then the retry that works
                    bash("python -m pytest -x -q", outcome=ERROR, result="No module named pytest_asyncio"),
                    bash("pip install -e '.[dev]'", ms=(4000, 30000), result="Successfully installed"),
                ),
            ),
            (
                0.9,
                (  # the gateway refuses an unvetted installer
                    bash(
                        _CURL_PIPE,
                        outcome=DENIED,
                        decision=REFUSED,
                        result="blocked by policy: piping downloads to a shell",
                    ),
                ),
            ),
            (
                0.92,
                (
                    Call(
                        "git",
                        "push",
                        REPO + "refs/heads/main",
                        _FORCE_PUSH,
                        outcome=DENIED,
                        decision=REFUSED,
                        cred=CRED,
                        result="blocked by policy: force-push to a protected branch",
                    ),
                ),
            ),
        ),
        otherwise=read(Ref("test")),
    ),
)
"""One step of the coding agent's work: mostly reads, edits and test runs, with some noise."""

_CODING_FIRST: Steps = (
    bash("git status --short", result="clean working tree", think_s=(0.5, 3)),
    *read(Ref("file")),
    bash("{test_cmd}", outcome=ERROR, ms=(1500, 20000), result=_TESTS_FAIL),
)


def coding_work(calls: Any) -> WorkFor:
    """The coding agent's work until it has made ``calls`` tool calls (a value or a draw)."""
    return WorkFor(calls, CODING_WORK, first=_CODING_FIRST)


_BRANCH = REPO + "refs/heads/{branch}"

CODING_CLOSE: Steps = (
    bash("{test_cmd}", ms=(1500, 20000), result="24 passed"),
    Call("git", "commit", _BRANCH, {"branch": "{branch}", "message": "{task:.60}"}, result="1 file changed"),
    Call("git", "push", _BRANCH, {"branch": "{branch}", "remote": "origin"}, cred=CRED, ms=(500, 3000)),
    Call(
        "github",
        "create_pull_request",
        REPO + "pulls",
        {"head": "{branch}", "base": "main", "title": "{task:.60}"},
        cred=CRED,
        result="PR opened",
    ),
    End(),
)


# --------------------------------------------------------------------------------------------------------
# Cloud-ops agent: investigates a service in AWS, sometimes changes one thing (approved in prod)
# --------------------------------------------------------------------------------------------------------

CLOUD_SCOPE = (
    arn("ec2", "*"),
    arn("autoscaling", "*"),
    arn("logs", "*"),
    "arn:aws:s3:::acme-logs/*",
    "arn:aws:s3:::acme-archive/*",
    arn("cloudwatch", "*"),
    arn("ssm", "parameter/{svc}/*"),
    arn("secretsmanager", "secret:{env}/{svc}/*"),
    "tool:aws",
)
CLOUD_CREDENTIAL_SCOPES = (
    "ec2:Describe* " + arn("ec2", "*"),
    "s3:GetObject arn:aws:s3:::acme-logs/*",
    "s3:PutObject arn:aws:s3:::acme-archive/*",
    "logs:FilterLogEvents " + arn("logs", "*"),
    "autoscaling:* " + arn("autoscaling", "*"),
)


def cloud_open(task: str | None = None, env: Environment = PROD) -> Steps:
    """The cloud-ops agent's prelude: a benign task from ``CLOUD_TASKS``, or an attack's ``task`` in ``env``.

    ``task`` is a template; ``{svc}`` is the service the agent is given.
    """
    chosen: Steps = (Let(("template", "env", "change"), Pick(CLOUD_TASKS)),) if task is None else ()
    return (
        Agent("cloudops-agent", SRES),
        *chosen,
        Let("svc", Pick(CLOUD_SERVICES)),
        *(() if task is None else (Let("env", env),)),
        Let("acct", Derive(lambda v: ACCOUNTS[v["env"]])),
        Start(Fill("{template}") if task is None else task, CLOUD_SCOPE),
        Wait(0.2, 1.0),
        Issue("ASIA", CLOUD_CREDENTIAL_SCOPES, ttl_s=3600.0, issuer="aws-sts"),
    )


CLOUD_CLOSE = End("revoke_or_expire")
"""How the cloud-ops agent ends: it revokes its STS credential, or lets it run out soon after."""

_INSTANCES = arn("ec2", "instance/*")
_GROUP = arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/{svc}")
_BY_SERVICE = {"filters": [{"name": "tag:service", "values": ["{svc}"]}]}
_METRICS = ("HTTPCode_Target_5XX_Count", "CPUUtilization", "TargetResponseTime")
_LOG_KEY = "alb/{svc}/2026/01/0{day}/part-{part:04d}.log.gz"
_DB_DENIED = "AccessDenied: not authorized to perform rds:DescribeDBInstances"

CLOUD_READ: Steps = (
    Roll(
        (
            (
                0.2,
                (
                    Let("n", RandInt(2, 9)),
                    aws("DescribeInstances", _INSTANCES, args=_BY_SERVICE, result="{n} instances"),
                ),
            ),
            (
                0.35,
                (
                    Let("metric", Pick(_METRICS)),
                    aws(
                        "GetMetricData",
                        arn("cloudwatch", "*"),
                        args={"metricName": "{metric}", "period": 60},
                        result="60 datapoints",
                    ),
                ),
            ),
            (
                0.5,
                (
                    Let("n", Pick((0, 0, 2, 7, 19, 48, 131, 402))),
                    aws(
                        "FilterLogEvents",
                        arn("logs", "log-group:/ecs/{svc}"),
                        args={"logGroupName": "/ecs/{svc}", "filterPattern": "ERROR"},
                        result="{n} events",
                    ),
                ),
            ),
            (
                0.65,
                (
                    Let("day", RandInt(1, 5)),
                    Let("part", RandInt(0, 40)),
                    aws(
                        "GetObject",
                        "arn:aws:s3:::acme-logs/" + _LOG_KEY,
                        result="object read",
                        args={"bucketName": "acme-logs", "key": _LOG_KEY},
                    ),
                ),
            ),
            (
                0.75,
                (
                    Let("n", RandInt(1, 6)),
                    aws(
                        "DescribeSecurityGroups",
                        arn("ec2", "security-group/*"),
                        args=_BY_SERVICE,
                        result="{n} security groups",
                    ),
                ),
            ),
            (
                0.83,
                (
                    aws(
                        "DescribeAutoScalingGroups",
                        _GROUP,
                        args={"autoScalingGroupNames": ["{svc}"]},
                        result="1 group",
                    ),
                ),
            ),
            (0.88, (aws("ListBuckets", None, result="14 buckets"),)),
            (
                0.93,
                (  # throttled, then the retry that works
                    aws(
                        "DescribeInstances",
                        _INSTANCES,
                        outcome=ERROR,
                        think_s=(0.5, 2),
                        result="ThrottlingException: Rate exceeded",
                    ),
                    aws("DescribeInstances", _INSTANCES, result="4 instances"),
                ),
            ),
            (
                0.97,
                (  # outside the session's policy: AWS refuses
                    aws("DescribeDBInstances", arn("rds", "db:{svc}-db"), outcome=DENIED, result=_DB_DENIED),
                ),
            ),
        ),
        otherwise=(
            aws(
                "GetParameter",
                arn("ssm", "parameter/{svc}/config"),
                args={"name": "{svc}/config"},
                result="parameter read",
            ),
        ),
    ),
)
"""One read-only look at the service: instances, metrics, logs, security groups, with some noise."""

_APPROVAL = {"decision": Ref("decision"), "approved_by": Ref("approver")}
_ARCHIVE_KEY = "alb/{svc}/2025/12/{day}/logs.tar.gz"

CLOUD_CHANGE: Steps = (
    If(
        lambda v: v["env"] is PROD,  # a change in prod waits for an SRE's approval
        (Let("approver", Pick(SRES)), Let("decision", APPROVED)),
        (Let("approver", None), Let("decision", BY_RULE)),
    ),
    Switch(
        "change",
        {
            "UpdateAutoScalingGroup": (
                Let("size", RandInt(6, 20)),
                aws(
                    "UpdateAutoScalingGroup",
                    _GROUP,
                    **_APPROVAL,
                    think_s=(20, 300),
                    args={
                        "autoScalingGroupName": "{svc}",
                        "desiredCapacity": Ref("size"),
                        "maxSize": Derive(lambda v: v["size"] + 4),
                    },
                ),
            ),
            "CreateSnapshot": (
                Repeat(
                    RandInt(1, 3),
                    (
                        Let("vol", HexId("vol-")),
                        Let("snap", HexId("snap-")),
                        aws(
                            "CreateSnapshot",
                            arn("ec2", "volume/{vol}"),
                            **_APPROVAL,
                            args={"volumeId": "{vol}", "description": "pre-maintenance {svc}"},
                            result="snapshot {snap} pending",
                        ),
                    ),
                ),
            ),
            "PutObject": (
                Repeat(
                    RandInt(2, 6),
                    (
                        Let("day", RandInt(24, 31)),
                        aws(
                            "PutObject",
                            "arn:aws:s3:::acme-archive/" + _ARCHIVE_KEY,
                            args={"bucketName": "acme-archive", "key": _ARCHIVE_KEY},
                        ),
                    ),
                ),
            ),
            "RebootInstances": (
                Let("instance", HexId("i-")),
                aws(
                    "RebootInstances",
                    arn("ec2", "instance/{instance}"),
                    **_APPROVAL,
                    args={"instancesSet": {"items": [{"instanceId": "{instance}"}]}},
                ),
            ),
        },
    ),
    Chance(0.1, secret_read("{env}/{svc}/api-key")),  # its own service's secret: ordinary, not a burst
)
"""The one write the task needs (``change``), then now and then a read of the service's own secret."""

CLOUD_OPS: Steps = (
    *cloud_open(),
    Let("calls", Length()),
    If(
        lambda v: v["change"] is not None,  # the change comes at a random point of the investigation
        (
            Let("change_at", RandInt(1, Derive(lambda v: max(1, v["calls"] - 1)))),
            Repeat(Ref("change_at"), CLOUD_READ),
            *CLOUD_CHANGE,
            Repeat(Derive(lambda v: v["calls"] - v["change_at"]), CLOUD_READ),
        ),
        (Repeat(Ref("calls"), CLOUD_READ),),
    ),
    CLOUD_CLOSE,
)

# --------------------------------------------------------------------------------------------------------
# Customer-service agent: reads a customer's mail, looks the order up, refunds or tracks, replies
# --------------------------------------------------------------------------------------------------------

SUPPORT_SCOPE = (
    "crm:customers/*",
    "crm:orders/*",
    "mailbox:support@acme.example/*",
    "tool:read_email",
    "tool:lookup_order",
    "tool:lookup_customer",
    "tool:issue_refund",
    "tool:send_email",
    "tool:fetch_url",
    "tool:add_ticket_note",
    "mailto:*",
    "https://track.parcel-carrier.example/*",
)


def support_open(task: str) -> Steps:
    """The support agent's prelude, for ``task`` (a template)."""
    return (
        Agent("support-agent", SUPPORT_REPS),
        Let("env", PROD),
        Start(task, SUPPORT_SCOPE),
        Wait(0.2, 1.0),
        Issue(
            "cred",
            ("crm:read", "crm:refund", "mail:send", "payments:write"),
            ttl_s=3600.0,
            issuer="acme-oauth",
        ),
    )


CUSTOMER_ORDER: Steps = (
    Let("first", Pick(FIRST_NAMES)),
    Let("last", Pick(LAST_NAMES)),
    Let("domain", Pick(MAIL_DOMAINS)),
    Let("name", "{first} {last}"),
    Let("email", Derive(lambda v: f"{v['first'].lower()}.{v['last'].lower()}@{v['domain']}")),
    Let("order_no", RandInt(10000, 99999)),
    Let("order", "ORD-{order_no}"),
)
"""A customer (``name``, ``email``) and one of their orders (``order``)."""

_ORDER = "crm:orders/{order}"
_TRACKING = "https://track.parcel-carrier.example/1Z{parcel}"
_NOTE = {"order_id": "{order}", "note": "{topic} handled"}


def read_email(**fields: Any) -> Call:
    """The support agent reads message ``msg`` of the inbox: outside content."""
    mailbox = "mailbox:support@acme.example/inbox/msg-{msg}"
    return Call(
        "read_email", "read", mailbox, {"message_id": "msg-{msg}"}, cred=CRED, untrusted=True, **fields
    )


def _refund(**fields: Any) -> Call:
    order = {"order_id": "{order}", "amount": Ref("amount"), "currency": "EUR"}
    return Call("issue_refund", "create", _ORDER, order, cred=CRED, **fields)


_REPLY_TO = {"recipient": "{email}", "subject": "Re: your order {order}"}
REPLY = Call("send_email", "send", "mailto:{email}", _REPLY_TO, cred=CRED, result="sent")
"""The support agent answers the customer."""

_REFUND_BY_AMOUNT: Steps = (
    If(
        lambda v: v["amount"] > 200,  # a lead approves larger refunds
        (
            Let("lead", Pick(SUPPORT_LEADS)),
            _refund(decision=APPROVED, approved_by="{lead}", think_s=(30, 600), result="refund issued"),
        ),
        (_refund(result="refund issued"),),
    ),
)
_NEEDS_LEAD = "refunds above EUR 500 need a lead's approval"
_REFUND: Steps = (
    Let("amount", Pick((19.99, 42.5, 89.0, 129.0, 249.0, 640.0))),
    If(
        lambda v: v["amount"] > 500,  # half the time the agent asks without the approval and is refused
        (Chance(0.5, (_refund(outcome=DENIED, decision=REFUSED, result=_NEEDS_LEAD),), _REFUND_BY_AMOUNT),),
        _REFUND_BY_AMOUNT,
    ),
)

TICKET: Steps = (
    *CUSTOMER_ORDER,
    Let(("topic", "text"), Pick(CUSTOMER_MAILS)),
    Let("msg", RandInt(100000, 999999)),
    read_email(result=Fill("{text}")),
    Chance(
        0.08,
        (  # a typo in the order number: not found, then the right one
            Call(
                "lookup_order",
                "get",
                _ORDER + "0",
                {"order_id": "{order}0"},
                cred=CRED,
                outcome=ERROR,
                result="order not found",
            ),
        ),
    ),
    Let("price", RandInt(15, 900)),
    Call(
        "lookup_order",
        "get",
        _ORDER,
        {"order_id": "{order}"},
        cred=CRED,
        result="order {order}: 1 item, EUR {price}.00, delivered",
    ),
    Chance(
        0.4,
        (
            Let("since", RandInt(15, 25)),
            Call(
                "lookup_customer",
                "get",
                "crm:customers/{email}",
                {"email": "{email}"},
                cred=CRED,
                result="{name}, customer since 20{since}",
            ),
        ),
    ),
    Switch(
        "topic",
        {
            "tracking": (
                Let("parcel", RandInt(10**9, 10**10 - 1)),
                Call(
                    "fetch_url",
                    "get",
                    _TRACKING,
                    {"url": _TRACKING},
                    untrusted=True,
                    ms=(300, 2500),
                    result="Out for delivery - Hamburg depot, 08:12",
                ),
            ),
            "refund": _REFUND,
        },
    ),
    REPLY,
    Chance(0.5, (Call("add_ticket_note", "create", _ORDER + "/notes", _NOTE, cred=CRED, think_s=(0.5, 3)),)),
)
"""One customer e-mail handled end to end."""

CUSTOMER_SUPPORT: Steps = (
    *support_open("work through the support inbox: refunds, tracking and returns"),
    Let("calls", Length()),
    WorkFor(Ref("calls"), TICKET),
    End(),
)

CODING_TASK: Steps = (*CODING_OPEN, coding_work(Length()), *CODING_CLOSE)
