"""The website in a real browser: chapter 7's explorer works without a kernel, and nothing leaves the machine.

Builds the book (fast mode, into _build/browser_test, with its own execution cache so a rerun
only re-executes changed chapters), serves it on 127.0.0.1 and drives Debian's Chromium through
Playwright (never a downloaded browser). Skipped, with the reason and the fix, where Chromium,
Playwright or the widget JavaScript are missing; `make test` installs them where it can.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the website and drives Chromium (`make check` leaves it out)

ROOT = Path(__file__).resolve().parents[1]
SITE_ROOT = ROOT / "_build" / "browser_test"
HTML = SITE_ROOT / "_build" / "html"
SITE_JS = ROOT / "tools" / "site_js" / "static"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed: run `sudo apt-get install -y chromium` (make test tries it) to run "
                "the browser test.")


@pytest.fixture(scope="module")
def site():
    """Builds the website once for this module (fast mode) and serves it on 127.0.0.1."""
    if not (SITE_JS / ".installed").exists():
        pytest.skip("The website's JavaScript is missing: run tools/site_js/install.sh (needs npm; make test runs it).")
    chromium = _chromium()
    pytest.importorskip("playwright", reason="Playwright is missing: pip install -r requirements.txt")
    environment = {**os.environ, "RESNET_BOOK_FAST": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    build = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", str(SITE_ROOT),
         "-W", "-n", "--keep-going", "--all"],  # --all: rewrite every page; execution stays cached
        capture_output=True, text=True, env=environment, cwd=ROOT,
    )
    assert build.returncode == 0, f"the book did not build:\n{build.stdout[-5000:]}\n{build.stderr[-5000:]}"

    handler = functools.partial(QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "chromium": chromium}
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=site["chromium"], args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class Page:
    """A page with every request and console error recorded."""

    def __init__(self, browser, url):
        self.requests, self.errors = [], []
        self.page = browser.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"{message.text} ({message.location.get('url')})"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url, wait_until="load")

    def console_errors(self):
        # The browser asks every site for /favicon.ico by itself; the book has none. Not a page error.
        return [error for error in self.errors if not error.endswith("/favicon.ico)")]

    def foreign_requests(self):
        return [url for url in self.requests
                if urllib.parse.urlsplit(url).scheme not in ("data", "blob")
                and urllib.parse.urlsplit(url).hostname != "127.0.0.1"]

    def visible_captions(self) -> list[str]:
        """Texts of the explorer's figure captions that are on screen now."""
        return self.page.eval_on_selector_all(
            ".widget-html", "els => els.filter(e => e.offsetParent !== null).map(e => e.innerText)"
            ".filter(t => t.includes('at depth') || t.includes('Gradient norm'))")

    def visible_image(self) -> str:
        sources = self.page.eval_on_selector_all(
            ".widget-image", "els => els.filter(e => e.offsetParent !== null).map(e => e.src)")
        assert len(sources) == 1, f"expected one figure on screen, found {len(sources)}"
        return sources[0]


def test_the_depth_explorer_works_without_a_kernel(browser, site):
    page = Page(browser, f"{site['url']}/book/07_depth_explorer.html")
    page.page.wait_for_selector(".widget-slider", timeout=30_000)
    [caption] = page.visible_captions()
    assert "at depth 20" in caption and "plain-20" in caption and "residual-20" in caption
    first_image = page.visible_image()

    # The depth slider: two steps right, 20 -> 32 -> 44.
    handle = page.page.locator(".widget-slider .noUi-handle").first
    handle.focus()
    page.page.keyboard.press("ArrowRight")
    page.page.keyboard.press("ArrowRight")
    page.page.wait_for_timeout(300)
    [caption] = page.visible_captions()
    assert "at depth 44" in caption, caption
    assert "44" in page.page.locator(".widget-slider .widget-readout").first.inner_text()
    assert page.visible_image() != first_image

    # Plain only, then validation accuracy, then the gradient view.
    page.page.get_by_role("button", name="plain", exact=True).click()
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert "plain-44" in caption and "residual-44" not in caption, caption
    page.page.locator(".widget-dropdown select").first.select_option(label="validation accuracy")
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert caption.startswith("Validation accuracy per epoch at depth 44"), caption
    page.page.get_by_role("button", name="gradient norms").click()
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert "Gradient norm" in caption and "depth 44" in caption, caption

    assert page.foreign_requests() == [], "requests left 127.0.0.1"
    assert page.console_errors() == [], f"the page logged errors: {page.console_errors()}"


def test_another_chapter_shows_its_executed_outputs(browser, site):
    page = Page(browser, f"{site['url']}/book/05_resnet50.html")
    text = page.page.locator("main").inner_text()
    assert "23,600,006" in text  # the checked parameter count, printed by an executed cell
    figures = page.page.eval_on_selector_all(
        ".cell_output img", "els => els.map(e => [e.naturalWidth, e.getAttribute('alt')])")
    assert figures and all(width > 0 for width, _ in figures), figures
    assert page.foreign_requests() == [], "requests left 127.0.0.1"
    assert page.console_errors() == [], f"the page logged errors: {page.console_errors()}"


def test_exercise_solutions_are_folded_on_the_website(browser, site):
    """Chapter 3: the solution is on the page but collapsed; the check's success line is shown."""
    page = Page(browser, f"{site['url']}/book/03_identity_block.html")
    solution = page.page.locator("details", has_text="def my_identity_block")
    assert solution.count() == 1, "the solution cell should sit in one folded <details> element"
    assert solution.get_attribute("open") is None, "the solution must be collapsed by default"
    assert not page.page.get_by_text("### BEGIN SOLUTION").first.is_visible()
    solution.locator("summary").click()
    assert page.page.get_by_text("### BEGIN SOLUTION").first.is_visible(), "one click shows the solution"
    assert "Well done: my_identity_block matches resnet_lib.identity_block" in page.page.locator("main").inner_text()
    assert page.console_errors() == [], f"the page logged errors: {page.console_errors()}"


def test_colab_links_and_footer_name_the_release_the_install_cells_install(browser, site):
    """The Open-in-Colab link of every chapter opens the notebook at the tag v<version>, the same tag
    that the chapter's install cell installs, and the footer names that release."""
    import re

    import resnet_lib

    tag = f"v{resnet_lib.__version__}"
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        page = Page(browser, f"{site['url']}/book/{path.stem}.html")
        links = page.page.eval_on_selector_all("a[href*='colab.research.google.com']", "els => els.map(e => e.href)")
        assert links, f"{path.name}: no Open-in-Colab link"
        for link in links:
            assert re.search(rf"/github/[^/]+/[^/]+/blob/{re.escape(tag)}/book/{path.name}$", link), link
        assert f"Release {tag}" in page.page.locator(".extra_footer").inner_text()
        assert "google.colab" not in page.page.locator("main").inner_text(), "the Colab-only cell is on the page"
        page.page.close()
