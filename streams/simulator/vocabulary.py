"""The simulator's vocabularies: people, repositories, cloud tasks, customer mails, payees and secrets.

Scenarios pick from these; they are data only. Strings with ``{name}`` placeholders are templates the
scenarios fill (``{svc}``, ``{order}``, ``{name}``, ``{test}``).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.types import Decision, Environment, Outcome

PROD = Environment.PROD
STAGING = Environment.STAGING
DEV = Environment.DEV
OK = Outcome.SUCCESS
ERROR = Outcome.ERROR
DENIED = Outcome.DENIED
BY_RULE = Decision.ALLOWED_BY_RULE
AUTO = Decision.AUTO_ALLOWED
APPROVED = Decision.APPROVED
REFUSED = Decision.DENIED

REGION = "us-east-1"
ACCOUNTS = {PROD: "111122223333", STAGING: "444455556666"}

DEVELOPERS = ("alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com")
SRES = ("dave@example.com", "priya@example.com", "tom@example.com", "yuki@example.com")
SUPPORT_REPS = ("maria@example.com", "li.wei@example.com", "sam@example.com")
SUPPORT_LEADS = ("kim.lead@example.com", "oscar.lead@example.com")


@dataclass(frozen=True)
class _Repo:
    name: str
    test_cmd: str
    lint_cmd: str
    files: tuple[str, ...]
    tasks: tuple[tuple[str, str, str], ...]  # (task, file to change, its test)


REPOS = (
    _Repo("acme/billing", "pytest -q {test}", "ruff check src tests",
        ("src/billing/invoice.py", "src/billing/tax.py", "src/billing/currency.py", "pyproject.toml"), (
            ("fix the failing test in billing/invoice.py", "src/billing/invoice.py", "tests/test_invoice.py"),
            ("round JPY amounts to whole yen in billing/currency.py", "src/billing/currency.py",
             "tests/test_currency.py"),
            ("add the 2026 EU VAT rates to billing/tax.py", "src/billing/tax.py", "tests/test_tax.py"),
        )),
    _Repo("acme/web-frontend", "npm test -- {test}", "npm run lint",
        ("src/components/Checkout.tsx", "src/components/Cart.tsx", "src/api/client.ts", "package.json"), (
            ("show a spinner on the checkout button while the payment is pending",
             "src/components/Checkout.tsx", "src/components/Checkout.test.tsx"),
            ("retry cart API calls once on a 503", "src/api/client.ts", "src/api/client.test.ts"),
        )),
    _Repo("acme/payments-api", "go test ./internal/... -run {test}", "golangci-lint run",
        ("internal/ledger/ledger.go", "internal/ledger/reconcile.go", "cmd/server/main.go", "go.mod"), (
            ("fix the off-by-one in ledger reconciliation", "internal/ledger/reconcile.go", "TestReconcile"),
            ("log the idempotency key on duplicate payments", "internal/ledger/ledger.go", "TestLedger"),
        )),
)  # fmt: skip

DOC_PAGES = (
    (
        "https://docs.python.org/3/library/decimal.html",
        "decimal - Decimal fixed point and floating point arithmetic. quantize() rounds to a fixed exponent.",
    ),
    (
        "https://react.dev/reference/react/useState",
        "useState is a React Hook that lets you add a state variable to your component.",
    ),
    ("https://pkg.go.dev/testing", "Package testing provides support for automated testing of Go packages."),
    (
        "https://stackoverflow.com/questions/11227809",
        "Why is processing a sorted array faster than processing an unsorted array? Branch prediction.",
    ),
)

CLOUD_SERVICES = ("checkout-api", "orders-worker", "search", "auth", "payments-worker")

# (task, environment, change action or None) — the change is the one write the task needs.
CLOUD_TASKS: tuple[tuple[str, Environment, str | None], ...] = (
    ("investigate elevated 5xx on {svc} in prod", PROD, None),
    ("scale the {svc} auto scaling group ahead of the January sale", PROD, "UpdateAutoScalingGroup"),
    ("take pre-maintenance snapshots of the {svc} volumes in staging", STAGING, "CreateSnapshot"),
    ("archive last week's ALB logs for {svc} to acme-archive", PROD, "PutObject"),
    ("audit security groups in staging for 0.0.0.0/0 ingress", STAGING, None),
    ("reboot the unhealthy {svc} instances in staging", STAGING, "RebootInstances"),
)

FIRST_NAMES = ("Jana", "Luis", "Mei", "Tom", "Aisha", "Noah", "Emma", "Ravi", "Olga", "Kenji")
LAST_NAMES = ("Novak", "Garcia", "Chen", "Berg", "Khan", "Smith", "Rossi", "Patel", "Ivanova", "Sato")
MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "web.de", "proton.me")

CUSTOMER_MAILS = (
    ("refund", "Hi, my order {order} arrived with a cracked screen. Can I get a refund? Thanks, {name}"),
    ("refund", "Hello, I was charged twice for order {order}. Please refund the duplicate charge. {name}"),
    ("tracking", "Where is my package? Order {order} was supposed to arrive on Friday. Best, {name}"),
    ("address", "Could you send order {order} to my office instead? Regards, {name}"),
    ("return", "The jacket from order {order} is too small - how do I return it? {name}"),
)

IBANS = (
    "DE89 3704 0044 0532 0130 00",
    "GB33 BUKB 2020 1555 5555 55",
    "NL91 ABNA 0417 1643 00",
    "FR76 3000 6000 0112 3456 7890 189",
)

SECRET_SERVICES = ("payments", "orders", "billing", "checkout", "auth", "crm", "search", "reporting")
SECRET_KINDS = ("db-credentials", "api-key", "stripe-key", "signing-key", "oauth-client", "smtp-relay")
