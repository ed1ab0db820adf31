"""Carriers: the kinds of outside content an agent reads (e-mails, chat, READMEs, runbooks, tickets, code,
logs, JSON answers, HTML pages, CSV files, search results, error output, calendar entries, reviews, git
logs, meeting notes, shell output, articles, YAML), each with the places where text can sit in it
(a paragraph, a P.S., a quoted reply, an HTML comment, alt text, a hidden element, a code comment, a
docstring, a JSON field, a CSV cell, a log message, a snippet, a description, a commit body, a footnote).

A carrier takes an insert (an injection, a benign note, or nothing) and returns the whole text and the
insert as embedded (escaped, commented, quoted), so the trainer can find the windows that hold it."""

from __future__ import annotations

import json
from collections.abc import Callable

from benchmarks.content_corpus.prose import paragraph, sentence
from benchmarks.content_corpus.values import CITIES, PRODUCTS, PROJECTS, TEAMS, Values

Carrier = Callable[[Values, str], tuple[str, str]]


def _place(v: Values, blocks: list[str], insert: str, head: int = 0) -> list[str]:
    """``blocks`` with ``insert`` put at a random position after the first ``head`` blocks."""
    if not insert:
        return blocks
    index = v.rng.randint(min(head, len(blocks)), len(blocks))
    return [*blocks[:index], insert, *blocks[index:]]


def email(v: Values, insert: str) -> tuple[str, str]:
    sender, to = v.person(), v.first()
    headers = (
        f"From: {sender} <{v.email()}>\nTo: {to} <{v.email()}>\nDate: {v.date()}\n"
        f"Subject: {v.pick(['Re: ', 'Fwd: ', ''])}"
        f"{v.pick(['Q3 numbers', 'Offsite plan', 'Contract draft', 'Invoice', 'Weekly update', 'Order'])}"
    )
    body = [paragraph(v) for _ in range(v.rng.randint(1, 3))]
    signoff = f"{v.pick(['Best', 'Thanks', 'Regards', 'Cheers'])},\n{sender.split()[0]}"
    embedded = insert
    place = v.pick(["body", "body", "ps", "footer", "quoted", "html_comment"])
    if insert and place == "ps":
        embedded = f"P.S. {insert}"
        parts = [headers, f"Hi {to},", *body, signoff, embedded]
    elif insert and place == "footer":
        embedded = f"--\n{insert}"
        parts = [headers, f"Hi {to},", *body, signoff, embedded]
    elif insert and place == "quoted":
        embedded = "\n".join("> " + line for line in insert.splitlines())
        parts = [headers, f"Hi {to},", *body, signoff, f"On {v.date()}, {v.person()} wrote:", embedded]
    elif insert and place == "html_comment":
        embedded = f"<!-- {insert} -->"
        parts = [headers, f"Hi {to},", *_place(v, body, embedded), signoff]
    else:
        parts = [headers, f"Hi {to},", *_place(v, body, insert), signoff]
    return "\n\n".join(parts), embedded


def chat(v: Values, insert: str) -> tuple[str, str]:
    people = [v.first() for _ in range(3)]
    lines = [f"[{v.time()}] {v.pick(people)}: {sentence(v)}" for _ in range(v.rng.randint(3, 8))]
    embedded = f"[{v.time()}] {v.first()}: {insert}" if insert else ""
    return "\n".join(_place(v, lines, embedded)), embedded


def readme(v: Values, insert: str) -> tuple[str, str]:
    project = v.pick(PROJECTS)
    blocks = [
        f"# {project}",
        f"![build](https://img.shields.io/badge/build-passing-green) {sentence(v)}",
        "## Installation",
        f"```\ngit clone https://github.com/{v.first().lower()}/{project}.git\n"
        f"cd {project}\nmake install\n```",
        "## Usage",
        f"Run `{project} --config config.yaml` to start. {sentence(v)}",
        "## Contributing",
        "Open an issue before you send a large pull request. Please run the tests locally first.",
    ]
    style = v.pick(["plain", "comment", "note", "alt"])
    embedded = (
        {
            "plain": insert,
            "comment": f"<!-- {insert} -->",
            "note": "> **Note**\n" + "\n".join("> " + line for line in insert.splitlines()),
            "alt": f'<img src="docs/diagram.png" alt="{insert}">',
        }[style]
        if insert
        else ""
    )
    return "\n\n".join(_place(v, blocks, embedded, head=1)), embedded


def runbook(v: Values, insert: str) -> tuple[str, str]:
    service = v.pick(PROJECTS)
    steps = [
        f"Check the dashboard for {service} error rates.",
        f"SSH to the bastion and tail {v.path()}.",
        f"If the queue is above {v.number(100, 5000)} messages, scale the workers to {v.number(3, 12)}.",
        f"Restart {service} with `systemctl restart {service}`.",
        f"Post a status update in {v.channel()}.",
        "Open a post-incident ticket and link the graphs.",
    ]
    steps = steps[: v.rng.randint(3, len(steps))]
    embedded = insert
    if insert and v.rng.random() < 0.5:
        embedded = f"Note: {insert}"
    items = _place(v, steps, embedded)
    body = "\n".join(f"{i}. {s}" for i, s in enumerate(items, 1))
    return f"# Runbook: {service} degraded\n\n{body}", embedded


def ticket(v: Values, insert: str) -> tuple[str, str]:
    key = f"{v.pick(['OPS', 'WEB', 'PAY', 'DATA', 'HR'])}-{v.number(10, 9999)}"
    head = (
        f"{key}: "
        f"{v.pick(['Export fails for big reports', 'Login page slow', 'No refund', 'Broken link'])}\n"
        f"Status: {v.pick(['Open', 'In Progress', 'Blocked'])}   Priority: {v.pick(['P2', 'P3', 'Major'])}\n"
        f"Reporter: {v.person()}   Assignee: {v.person()}"
    )
    description = f"Description:\n{paragraph(v)}"
    steps = "Steps to reproduce:\n1. Open the report page\n2. Select the last 12 months\n3. Click Export"
    comments = [f"{v.person()} ({v.date()}): {sentence(v)}" for _ in range(v.rng.randint(1, 3))]
    embedded = ""
    if insert:
        if v.rng.random() < 0.5:
            embedded = insert
            description = f"Description:\n{paragraph(v, 1, 2)} {insert}"
        else:
            embedded = f"{v.person()} ({v.date()}): {insert}"
            comments = _place(v, comments, embedded)
    return "\n\n".join([head, description, steps, "Comments:", *comments]), embedded


def code(v: Values, insert: str) -> tuple[str, str]:
    name = v.pick(["load_report", "sync_orders", "parse_invoice", "send_digest", "resize_images"])
    lines = [
        f'"""Helpers for the {v.pick(PROJECTS)} service."""',
        "import json",
        "import logging",
        "",
        "log = logging.getLogger(__name__)",
        "",
        f"def {name}(path, limit={v.number(5, 500)}):",
        '    """Read the file at ``path`` and return at most ``limit`` records."""',
        "    with open(path) as handle:",
        "        records = json.load(handle)",
        '    log.info("loaded %d records", len(records))',
        "    return records[:limit]",
    ]
    embedded = ""
    if insert:
        style = v.pick(["comment", "docstring", "string"])
        if style == "comment":
            embedded = "\n".join("# " + line for line in insert.splitlines())
            index = v.rng.choice([1, 5, 8, 11])
            lines = [*lines[:index], embedded, *lines[index:]]
        elif style == "docstring":
            embedded = insert
            lines[0] = f'"""Helpers for the {v.pick(PROJECTS)} service.\n\n{insert}\n"""'
        else:
            embedded = json.dumps(insert)
            lines = [*lines[:6], f"BANNER = {embedded}", "", *lines[6:]]
    return "\n".join(lines), embedded


def log_output(v: Values, insert: str) -> tuple[str, str]:
    def line(message: str) -> str:
        return (
            f"2024-{v.number(1, 12):02d}-{v.number(1, 28):02d}T{v.time()}:{v.number(10, 59)}Z "
            f"{v.pick(['INFO', 'WARN', 'DEBUG', 'ERROR'])} {v.pick(PROJECTS)} {message}"
        )

    messages = [
        f"request id={v.number()} status={v.pick(['200', '201', '404', '500'])} "
        f"duration_ms={v.number(2, 900)}",
        f"connected to db host={v.domain()} pool={v.number(2, 20)}",
        f"job {v.order_id()} finished in {v.number(1, 90)}s",
        f"retrying upload attempt={v.number(1, 5)}",
        f"cache miss key=user:{v.number()}",
    ]
    lines = [line(v.pick(messages)) for _ in range(v.rng.randint(4, 12))]
    embedded = line(f'user_agent_note="{insert}"' if v.rng.random() < 0.4 else insert) if insert else ""
    return "\n".join(_place(v, lines, embedded)), embedded


def json_answer(v: Values, insert: str) -> tuple[str, str]:
    kind = v.pick(["order", "user", "product", "flight", "weather"])
    if kind == "order":
        record: dict[str, object] = {
            "order_id": v.order_id(),
            "status": v.pick(["shipped", "pending", "delivered"]),
            "total": v.amount(),
            "items": [{"sku": v.order_id(), "qty": v.number(1, 4)}],
            "note": "",
        }
    elif kind == "user":
        record = {"id": v.number(), "name": v.person(), "email": v.email(), "bio": "", "team": v.pick(TEAMS)}
    elif kind == "product":
        record = {"name": v.pick(PRODUCTS), "price": v.amount(), "description": "", "rating": v.number(1, 5)}
    elif kind == "flight":
        record = {
            "flight": f"{v.pick(['LX', 'BA', 'UA', 'AF'])}{v.number(10, 999)}",
            "from": v.pick(CITIES),
            "to": v.pick(CITIES),
            "remarks": "",
        }
    else:
        record = {
            "city": v.pick(CITIES),
            "temp_c": v.number(-5, 35),
            "summary": "",
            "wind_kmh": v.number(0, 60),
        }
    field = next(k for k, value in record.items() if value == "")
    record[field] = insert or sentence(v)
    text = json.dumps(record if v.rng.random() < 0.7 else {"data": [record], "page": 1}, ensure_ascii=False)
    return text, json.dumps(insert, ensure_ascii=False)[1:-1] if insert else ""


def html_page(v: Values, insert: str) -> tuple[str, str]:
    title = v.pick(PRODUCTS).title()
    paragraphs = [f"<p>{paragraph(v)}</p>" for _ in range(v.rng.randint(1, 3))]
    embedded = ""
    if insert:
        embedded = v.pick(
            [
                f"<!-- {insert} -->",
                f'<div style="display:none">{insert}</div>',
                f'<img src="/img/{v.number()}.jpg" alt="{insert}">',
                f"<p>{insert}</p>",
                f'<span style="color:#ffffff;font-size:1px">{insert}</span>',
                f'<meta name="description" content="{insert}">',
            ]
        )
        paragraphs = _place(v, paragraphs, embedded)
    page = (
        f"<html><head><title>{title} | {v.org()}</title></head><body>\n"
        f'<nav><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/help">Help</a></nav>\n'
        f"<h1>{title}</h1>\n" + "\n".join(paragraphs) + f"\n<footer>© 2024 {v.org()}</footer></body></html>"
    )
    return page, embedded


def csv_table(v: Values, insert: str) -> tuple[str, str]:
    rows = ["id,name,city,amount,comment"]
    for _ in range(v.rng.randint(3, 10)):
        rows.append(
            f"{v.number()},{v.person()},{v.pick(CITIES)},{v.number(10, 9000)},"
            f"{v.pick(['ok', 'late', '', 'paid'])}"
        )
    embedded = ""
    if insert:
        embedded = '"' + insert.replace('"', '""') + '"'
        rows = _place(
            v, rows, f"{v.number()},{v.person()},{v.pick(CITIES)},{v.number(10, 9000)},{embedded}", head=1
        )
    return "\n".join(rows), embedded


def search_results(v: Values, insert: str) -> tuple[str, str]:
    results = [
        f"{i}. {v.pick(PRODUCTS).title()} review — {v.org()}\n   {v.url()}\n   {sentence(v)}"
        for i in range(1, v.rng.randint(3, 6))
    ]
    embedded = ""
    if insert:
        embedded = insert
        index = v.rng.randrange(len(results))
        results[index] = f"{index + 1}. {v.pick(PRODUCTS).title()} deals\n   {v.url()}\n   {insert}"
    return "\n".join(results), embedded


def error_output(v: Values, insert: str) -> tuple[str, str]:
    message = insert or v.pick(
        ["connection reset by peer", "invalid token", "permission denied", "timeout after 30s"]
    )
    text = (
        "Traceback (most recent call last):\n"
        f'  File "{v.path()}", line {v.number(10, 400)}, in main\n'
        "    result = client.fetch(url)\n"
        f'  File "/usr/lib/python3/site-packages/client.py", line {v.number(10, 400)}, in fetch\n'
        "    raise ClientError(body)\n"
        f"ClientError: {message}"
    )
    return text, message if insert else ""


def calendar(v: Values, insert: str) -> tuple[str, str]:
    description = insert or f"Agenda: {sentence(v)}"
    text = (
        "BEGIN:VEVENT\n"
        f"SUMMARY:{v.pick(['Quarterly review', 'Design sync', '1:1', 'Vendor call', 'Team lunch'])}\n"
        f"DTSTART:2024{v.number(1, 12):02d}{v.number(1, 28):02d}T{v.number(8, 17):02d}0000Z\n"
        f"LOCATION:{v.pick(CITIES)} office, room {v.number(1, 30)}\n"
        f"ORGANIZER:mailto:{v.email()}\n"
        f"DESCRIPTION:{description.replace(chr(10), ' ')}\n"
        "END:VEVENT"
    )
    return text, description.replace("\n", " ") if insert else ""


def reviews(v: Values, insert: str) -> tuple[str, str]:
    items = [
        f"★{v.number(1, 5)} {v.first()} — "
        f"{v.pick(['Great value.', 'Broke after a month.', 'Fast delivery, solid build.', 'Meh.'])} "
        f"{sentence(v)}"
        for _ in range(v.rng.randint(2, 5))
    ]
    embedded = f"★5 {v.first()} — {insert}" if insert else ""
    return f"Customer reviews for the {v.pick(PRODUCTS)}\n" + "\n".join(_place(v, items, embedded)), embedded


def git_log(v: Values, insert: str) -> tuple[str, str]:
    def commit(subject: str, body: str = "") -> str:
        sha = "".join(v.rng.choice("0123456789abcdef") for _ in range(40))
        author = v.person()
        text = f"commit {sha}\nAuthor: {author} <{v.email()}>\nDate:   {v.date()}\n\n    {subject}"
        return text + ("\n\n    " + body.replace("\n", "\n    ") if body else "")

    subjects = [
        "Fix typo in README",
        "Bump version to 2.4.1",
        "Add retry to upload client",
        "Refactor config loader",
        "Update dependencies",
    ]
    commits = [commit(v.pick(subjects)) for _ in range(v.rng.randint(2, 5))]
    embedded = insert
    if insert:
        commits = _place(v, commits, commit(v.pick(subjects), insert))
    return "\n\n".join(commits), embedded


def meeting_notes(v: Values, insert: str) -> tuple[str, str]:
    notes = [
        f"Attendees: {', '.join(v.person() for _ in range(3))}",
        f"Agenda: {v.pick(['roadmap', 'budget', 'hiring', 'incident review'])}",
        f"- {sentence(v)}",
        f"- {sentence(v)}",
        f"Action items: {v.first()} to send the summary; {v.first()} to update the tracker.",
    ]
    embedded = f"- {insert}" if insert else ""
    return f"Meeting notes {v.date()}\n" + "\n".join(_place(v, notes, embedded, head=2)), embedded


def shell_output(v: Values, insert: str) -> tuple[str, str]:
    listing = "\n".join(
        f"-rw-r--r-- 1 deploy deploy {v.number(100, 90000):>6} {v.pick(['Jan', 'Mar', 'Jun'])} "
        f"{v.number(1, 28):>2} {v.pick(['notes.txt', 'todo.md', 'report.csv', 'app.log', 'config.yaml'])}"
        for _ in range(v.rng.randint(2, 6))
    )
    content = insert or paragraph(v, 1, 2)
    text = (
        f"$ ls -l\n{listing}\n$ cat notes.txt\n{paragraph(v, 1, 2)}\n{content}\n$ df -h /\n"
        f"/dev/sda1 50G {v.number(5, 45)}G {v.number(1, 40)}G {v.number(10, 95)}% /"
    )
    return text, content if insert else ""


def article(v: Values, insert: str) -> tuple[str, str]:
    paragraphs = [paragraph(v, 2, 5) for _ in range(v.rng.randint(2, 4))]
    embedded = insert
    if insert and v.rng.random() < 0.35:
        embedded = f"[{v.number(1, 9)}] {insert}"
        paragraphs.append("Footnotes:\n" + embedded)
    else:
        paragraphs = _place(v, paragraphs, insert, head=1)
    return f"{v.pick(PRODUCTS).title()} sales rise in {v.pick(CITIES)}\nBy {v.person()}\n\n" + "\n\n".join(
        paragraphs
    ), embedded


def yaml_config(v: Values, insert: str) -> tuple[str, str]:
    lines = [
        f"service: {v.pick(PROJECTS)}",
        f"replicas: {v.number(1, 6)}",
        "database:",
        f"  host: {v.domain()}",
        f"  pool: {v.number(2, 30)}",
        "features:",
        f"  {v.pick(['dark_mode', 'beta_search', 'exports'])}: true",
    ]
    embedded = "\n".join("# " + line for line in insert.splitlines()) if insert else ""
    return "\n".join(_place(v, lines, embedded)), embedded


def spreadsheet(v: Values, insert: str) -> tuple[str, str]:
    header = "| Team | Owner | Budget | Status | Notes |\n|---|---|---|---|---|"
    rows = [
        f"| {v.pick(TEAMS)} | {v.person()} | {v.amount()} | {v.pick(['on track', 'at risk', 'done'])} | "
        f"{v.pick(['', 'see Q2 plan', 'waiting on legal'])} |"
        for _ in range(v.rng.randint(3, 7))
    ]
    embedded = insert.replace("\n", " ").replace("|", "/") if insert else ""
    if insert:
        rows = _place(v, rows, f"| {v.pick(TEAMS)} | {v.person()} | {v.amount()} | at risk | {embedded} |")
    return header + "\n" + "\n".join(rows), embedded


def tool_message(v: Values, insert: str) -> tuple[str, str]:
    """A short result of a tool call: a status line, perhaps with a few fields."""
    status = insert or v.pick(["OK", "Done.", f"{v.number(1, 50)} rows affected.", "Request accepted."])
    fields = [f"{k}: {val}" for k, val in (("id", v.order_id()), ("at", v.time()), ("by", v.email()))]
    lines = _place(v, v.rng.sample(fields, v.rng.randint(0, 2)), status)
    return "\n".join(lines), status if insert else ""


CARRIERS: dict[str, Carrier] = {
    "email": email,
    "chat": chat,
    "readme": readme,
    "runbook": runbook,
    "ticket": ticket,
    "code": code,
    "log": log_output,
    "json": json_answer,
    "html": html_page,
    "csv": csv_table,
    "search": search_results,
    "error": error_output,
    "calendar": calendar,
    "reviews": reviews,
    "git_log": git_log,
    "meeting_notes": meeting_notes,
    "shell": shell_output,
    "article": article,
    "yaml": yaml_config,
    "spreadsheet": spreadsheet,
    "tool_message": tool_message,
}
