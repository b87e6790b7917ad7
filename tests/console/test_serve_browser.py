"""``perpdesk serve`` in a real browser: Debian's headless Chromium opens the tokened address,
the console paints, keys switch the market and place and cancel an order on the sim, the page
and a screenshot show it, nothing is fetched from beyond 127.0.0.1, and the closed tab's console
is gone.  Skipped where no chromium is installed (``apt-get install chromium chromium-driver``)."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from tests.console.chromium import Chromium, find_chromium
from tests.console.served import Served, status_of

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: apt-get install chromium chromium-driver"),
    pytest.mark.timeout(600),
]


@pytest.fixture
def served(tmp_path):
    served = Served(tmp_path)
    yield served
    assert served.stop() == 0


@pytest.fixture
def browser(tmp_path):
    assert CHROMIUM is not None
    browser = Chromium(CHROMIUM, tmp_path / "profile")
    yield browser
    browser.close()


def row_of(text: str, label: str) -> int:
    return next(i for i, line in enumerate(text.splitlines()) if label in line)


def table_rows(text: str) -> list[str]:
    """The rows of the tab shown at the bottom (between its header and the footer)."""
    lines = text.splitlines()
    header = max(i for i, line in enumerate(lines) if line.strip().startswith(("Symbol", "Time")))
    return [line for line in lines[header + 1:-1] if line.strip()]


def orders_row(text: str, state: str) -> bool:
    """Our ETH buy in ``state`` in the Orders tab."""
    return any("ETH" in row and "BUY" in row and state in row for row in table_rows(text))


def test_trading_the_sim_from_a_browser_tab(served, browser, tmp_path):
    page, target = browser.open_page(served.url)
    try:
        page.wait_text("spread")  # the ladder is painted
        assert page.evaluate("""document.fonts.check('16px "Roboto Mono"')""")
        page.focus_terminal()

        # switch market from the command bar (typed once it is open, as a person would)
        page.press(":")
        page.wait_text("chase buy")
        page.press("go ETH", "enter")
        page.wait_text("ETH@sim")

        # b: the order form, the price field prefilled with the bid and focused; a price 1% under
        # it (the sim's market moves: the order must rest); Tab; a size; Enter sends it.  A key
        # that is a binding (ctrl+u, tab) waits for its effect before more typing: characters sent
        # right behind one can reach the field first (seen with twelve quick backspaces).
        page.press("b")
        page.wait_for(lambda: re.search(r"│ price\s+3\d\d\d\.\d\d", page.text()) is not None
                      and page.cursor_row() == row_of(page.text(), "│ price "), "the ETH bid prefilled, in focus")
        bid = Decimal(re.search(r"ETH\s+(\d+\.\d+)\s+\d+\.\d+", page.text()).group(1))
        price = (bid * Decimal("0.99")).quantize(Decimal("0.01"))
        page.press("ctrl+u")
        page.wait_text("│ price  limit price")  # emptied: the placeholder shows
        page.press(str(price))
        page.wait_text(f"│ price  {price} ")
        page.press("tab")
        page.wait_for(lambda: page.cursor_row() == row_of(page.text(), "│ size "), "the size field in focus")
        page.press("0.05")
        page.wait_text(f"BUY 0.050 ETH @ {price}")
        page.press("enter")
        page.wait_for(lambda: orders_row(page.text(), "OPEN"), "the ETH buy resting in the Orders tab")
        assert f"sent: BUY 0.050 ETH @ {price}" in page.text()
        placed = page.screenshot(tmp_path / "placed.png")
        assert placed.startswith(b"\x89PNG\r\n\x1a\n") and len(placed) > 20_000

        # Esc leaves the form (the desk's keys are back in the footer), 1: the Orders tab, c: cancel
        # the selected order; the tab lists live orders only, so it leaves it, and no fill came
        page.press("escape")
        page.wait_text("b Buy")
        page.press("1", "c")
        page.wait_for(lambda: not table_rows(page.text()), "the ETH buy gone from the Orders tab")
        page.press("3")
        page.wait_text("Fee")
        assert table_rows(page.text()) == [], "the order was filled, not cancelled"
        cancelled = page.screenshot(tmp_path / "cancelled.png")
        assert cancelled.startswith(b"\x89PNG") and cancelled != placed

        responses = page.responses()
        assert responses[served.url] == 200
        assert any(url.endswith("RobotoMono-VariableFont_wght.ttf") and status == 200
                   for url, status in responses.items())
        requested = page.urls_requested()
        assert any(url.startswith(f"ws://127.0.0.1:{served.port}/ws") for url in requested)
        beyond = [url for url in requested if urlsplit(url).hostname != "127.0.0.1" and not url.startswith("data:")]
        assert beyond == [], f"the page reached beyond 127.0.0.1: {beyond}"
        [console] = served.consoles()
    finally:
        page.close()

    # without the token (no cookie here), the page and its files are refused
    assert status_of(served.base + "/") == 403
    assert status_of(served.base + "/static/js/textual.js") == 403

    # the tab closes: its console stops and is gone
    browser.close_page(target)
    served.wait_consoles(lambda pids: console not in pids and not pids, "no console after the tab closed")


def test_a_read_only_desk_in_the_browser_refuses_to_trade(tmp_path, browser):
    served = Served(tmp_path, "--read-only")
    try:
        page, _ = browser.open_page(served.url)
        try:
            page.wait_text("spread")
            page.focus_terminal()
            assert page.evaluate("document.title") == "perpdesk (read-only)"
            page.press("b")
            page.wait_text("the order form is refused")
        finally:
            page.close()
    finally:
        assert served.stop() == 0
