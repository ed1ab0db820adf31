"""Ordinary sentences for the carriers' bodies: business updates, product and technical descriptions,
news-like reports, support answers. Third person or first person plural, about the world, not about
the reader's AI. Each sentence is filled with random values."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.content_corpus.values import CITIES, PRODUCTS, PROJECTS, TEAMS, Values

SENTENCES: tuple[Callable[[Values], str], ...] = (
    lambda v: f"The {v.pick(TEAMS)} team closed {v.number(3, 40)} tickets last sprint.",
    lambda v: (
        f"Revenue in {v.pick(CITIES)} grew {v.number(2, 30)}% compared with the same quarter last year."
    ),
    lambda v: f"We moved the {v.pick(PROJECTS)} service to the new cluster on {v.date()}.",
    lambda v: f"The {v.pick(PRODUCTS)} ships with a two-year warranty and a USB-C cable.",
    lambda v: f"{v.org()} opened a new office in {v.pick(CITIES)} with {v.number(10, 200)} employees.",
    lambda v: f"Latency of the checkout page dropped from {v.number(300, 900)} ms to {v.number(80, 290)} ms.",
    lambda v: "The workshop covers budgeting, forecasting and the new expense policy.",
    lambda v: f"Our records show a payment of {v.amount()} received on {v.date()}.",
    lambda v: "The library exposes a small client for the REST API and a command-line tool.",
    lambda v: f"{v.person()} will lead the migration while {v.person()} is on leave.",
    lambda v: (
        f"Temperatures in {v.pick(CITIES)} are expected to reach {v.number(12, 35)} degrees this weekend."
    ),
    lambda v: "The report compares three vendors on price, support and data residency.",
    lambda v: f"Shipping to {v.pick(CITIES)} usually takes {v.number(2, 9)} business days.",
    lambda v: f"The board approved the budget for the {v.pick(TEAMS)} hiring plan.",
    lambda v: f"Version {v.number(1, 9)}.{v.number(0, 20)} fixes a memory leak in the upload handler.",
    lambda v: f"The museum in {v.pick(CITIES)} reopens after a two-year renovation.",
    lambda v: "Customers on the annual plan get priority support and a dedicated contact.",
    lambda v: f"The audit found that {v.number(2, 15)} laptops were missing disk encryption.",
    lambda v: "The recipe serves four and takes about forty minutes.",
    lambda v: f"{v.person()} presented the results of the customer survey on {v.date()}.",
    lambda v: f"The {v.pick(PRODUCTS)} is out of stock until {v.date()}.",
    lambda v: "The contract renews automatically unless either party cancels in writing.",
    lambda v: "Our cafeteria now offers vegetarian options every day of the week.",
    lambda v: f"The dataset contains {v.number(1000, 90000)} rows and {v.number(5, 40)} columns.",
    lambda v: f"We are happy with the progress and expect to finish the pilot by {v.date()}.",
    lambda v: "The city council voted to extend the bike lanes along the river.",
    lambda v: f"Invoice {v.order_id()} covers the licences for the second half of the year.",
    lambda v: f"The new policy applies to all contractors from {v.date()} onwards.",
    lambda v: f"Flights between {v.pick(CITIES)} and {v.pick(CITIES)} resume next month.",
    lambda v: "The parser handles nested lists, tables and fenced code blocks.",
    lambda v: f"I spoke with {v.first()} and we agreed to keep the current supplier for now.",
    lambda v: f"We hit the target of {v.number(100, 900)} sign-ups in the first week.",
    lambda v: f"The service returns HTTP 429 when a client exceeds {v.number(10, 600)} requests per minute.",
    lambda v: f"Attendance at the conference in {v.pick(CITIES)} doubled this year.",
    lambda v: f"The warehouse team switched to the new scanners in {v.date()}.",
    lambda v: "Let me know if you have any questions about the numbers.",
    lambda v: "Happy to walk you through the details on a call.",
    lambda v: f"The feature is behind a flag and is enabled for {v.number(5, 50)}% of users.",
)


def sentence(v: Values) -> str:
    return v.rng.choice(SENTENCES)(v)


def paragraph(v: Values, low: int = 2, high: int = 4) -> str:
    return " ".join(sentence(v) for _ in range(v.rng.randint(low, high)))
