"""The triage page's layout in a real browser: at 1280, 1440 and 1920 px wide, in every view (login, list,
an alert open, a verdict recorded), no two pieces of text are drawn over each other.

The boxes come from the page itself (a Range over every visible text node, clipped by any ancestor that
hides its overflow), so the check sees what a reader sees, not what the markup intends. It is stricter
than "panes must not overlap": two pieces of text from different elements of one pane (a term and the
next one in the facts list) must not overlap either. Each view's screenshot is kept in test-artifacts/
(CHAINWATCH_TEST_ARTIFACTS) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from streams.ingest.replay import replay
from streams.settings import Settings, build_engine
from tests.demo_support import seeded_demo_db
from tests.ui_support import ARTIFACTS, UiServer, browser, log_in, serving_a_copy

if TYPE_CHECKING:
    from playwright.sync_api import Page

WIDTHS = (1280, 1440, 1920)
HEIGHT = 900
PANES = {  # what a reader tells apart; the first selector an element is inside names its pane
    "header": "header",
    "login": "#login",
    "filters": "#filters",
    "alert list": "#alerts",
    "alert detail": "#detail",
}
TOLERANCE_PX = 1.0  # sub-pixel rounding where two boxes touch

# Every visible text node's line boxes, in page coordinates, with the pane it belongs to.
TEXT_BOXES_JS = """
(panes) => {
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let index = 0;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest("script, style, option")) continue;
    index += 1;
    const style = getComputedStyle(parent);
    if (style.visibility !== "visible" || Number(style.opacity) === 0) continue;
    let pane = "page";
    for (const [name, selector] of Object.entries(panes)) {
      if (parent.closest(selector)) { pane = name; break; }
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) {
      let [left, top, right, bottom] = [rect.left, rect.top, rect.right, rect.bottom];
      for (let up = parent; up && up !== document.body; up = up.parentElement) {
        const s = getComputedStyle(up);
        if (s.overflowX !== "visible" || s.overflowY !== "visible") {
          const clip = up.getBoundingClientRect();
          left = Math.max(left, clip.left); right = Math.min(right, clip.right);
          top = Math.max(top, clip.top); bottom = Math.min(bottom, clip.bottom);
        }
      }
      if (right - left < 1 || bottom - top < 1) continue;
      boxes.push({
        node: index, pane, text: text.slice(0, 40), tag: parent.tagName.toLowerCase(),
        left: left + scrollX, top: top + scrollY, right: right + scrollX, bottom: bottom + scrollY,
      });
    }
  }
  return boxes;
}
"""


@dataclass(frozen=True)
class Box:
    node: int
    pane: str
    text: str
    tag: str
    left: float
    top: float
    right: float
    bottom: float

    def overlap(self, other: Box) -> float:
        """The area both boxes cover, counting only what is beyond the rounding tolerance."""
        width = min(self.right, other.right) - max(self.left, other.left) - TOLERANCE_PX
        height = min(self.bottom, other.bottom) - max(self.top, other.top) - TOLERANCE_PX
        return width * height if width > 0 and height > 0 else 0.0

    def __str__(self) -> str:
        return f"{self.pane} <{self.tag}> {self.text!r} at ({self.left:.0f},{self.top:.0f})"


def text_boxes(page: Page) -> list[Box]:
    raw: list[dict[str, Any]] = page.evaluate(TEXT_BOXES_JS, PANES)
    return [Box(**item) for item in raw]


def overlapping_text(boxes: list[Box]) -> list[tuple[Box, Box]]:
    """Pairs of boxes of different text nodes that are drawn over each other (a sweep over x)."""
    ordered = sorted(boxes, key=lambda b: b.left)
    found: list[tuple[Box, Box]] = []
    for i, box in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.left >= box.right - TOLERANCE_PX:
                break
            if other.node != box.node and box.overlap(other) > 0:
                found.append((box, other))
    return found


def test_the_overlap_check_sees_text_drawn_over_text() -> None:
    """The check itself: two boxes that share more than the tolerance overlap; touching ones do not."""
    a = Box(1, "alert list", "title", "td", 0, 0, 100, 20)
    b = Box(2, "alert detail", "facts", "dd", 60, 0, 200, 20)
    touching = Box(3, "alert detail", "next line", "dd", 0, 20.5, 100, 40)
    same_node = Box(1, "alert list", "title line 2", "td", 0, 2, 50, 18)
    assert overlapping_text([a, b, touching, same_node]) == [(a, b)]


def demo_database(folder: Path) -> Path:
    return seeded_demo_db(folder)


def stratus_database(folder: Path, shared: Path) -> Path:
    """The Stratus Red Team CloudTrail detonations: long ARNs and event names, other alert titles."""
    files = sorted(str(p) for p in (shared / "cloudtrail" / "stratus-red-team").glob("*.json*"))
    db = folder / "stratus.duckdb"
    replay(files, build_engine(Settings()), db_path=db, fmt="cloudtrail")
    return db


@pytest.fixture(scope="module", params=["demo", "stratus"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(f"layout-{request.param}")
    if request.param == "demo":
        return demo_database(folder)
    return stratus_database(folder, request.getfixturevalue("shared_data"))


@pytest.fixture
def server(database: Path, tmp_path: Path) -> Iterator[UiServer]:
    with serving_a_copy(database, tmp_path) as ui:
        yield ui


def longest_chain_alert(db: Path) -> str:
    """The alert whose session has the most events: it stresses the detail pane most."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT alert_id FROM alerts JOIN (SELECT session_id, count(*) AS n FROM events GROUP BY 1) "
            "USING (session_id) ORDER BY n DESC, alert_id LIMIT 1"
        ).fetchone()
    assert row is not None, f"{db} has no alerts"
    return str(row[0])


def _views(page: Page, url: str, longest_chain: str) -> Iterator[str]:
    """Walk the page through its views, yielding each one's name once it is on screen."""
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("#login")).to_be_visible()
    yield "login"
    log_in(page, url)
    yield "list"
    rows = page.locator("#alerts tbody tr")
    for name, alert_id in (("alert", None), ("longest-chain", longest_chain)):
        if alert_id is not None:
            page.fill("#f-text", alert_id)
            page.click("#filters button[type=submit]")
            expect(rows).to_have_count(1)
        rows.first.click()
        expect(page.locator("#d-facts dt").first).to_be_visible()
        expect(page.locator("#timeline tbody tr").first).to_be_visible()
        yield name
    page.fill("#v-note", "checked the chain; " * 20)
    page.click("button.verdict[data-status=benign]")
    expect(page.locator("#v-result")).to_have_text("recorded benign")
    yield "verdict"


@pytest.mark.parametrize("width", WIDTHS)
def test_no_text_is_drawn_over_other_text(database: Path, server: UiServer, width: int) -> None:
    problems: list[str] = []
    longest = longest_chain_alert(database)
    with browser() as chromium:
        page = chromium.new_page(viewport={"width": width, "height": HEIGHT})
        for view in _views(page, server.url, longest):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"triage-{server.db.stem}-{width}-{view}.png", full_page=True)
            boxes = text_boxes(page)
            assert boxes, f"{view}: no text found on the page"
            pairs = overlapping_text(boxes)
            problems += [f"{view} @ {width}px: {a} overlaps {b}" for a, b in pairs[:10]]
            if len(pairs) > 10:
                problems.append(f"{view} @ {width}px: ... and {len(pairs) - 10} more")
    assert not problems, "text drawn over other text (screenshots in test-artifacts/):\n" + "\n".join(
        problems
    )
