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
    """A page with every request, failed request and console error recorded."""

    def __init__(self, browser, url, viewport=None):
        self.requests, self.errors, self.failures = [], [], []
        self.page = browser.new_page(**({"viewport": viewport} if viewport else {}))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", lambda request: self.failures.append(f"{request.url} ({request.failure})"))
        self.page.on("response", lambda response: response.status >= 400 and self.failures.append(
            f"{response.url} (HTTP {response.status})"))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"{message.text} ({message.location.get('url')})"))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url, wait_until="load")

    def console_errors(self):
        # The browser asks every site for /favicon.ico by itself; the book has none. Not a page error.
        return [error for error in self.errors if not error.endswith("/favicon.ico)")]

    def failed_requests(self):
        """Requests that failed or were answered with an HTTP error (the browser's own /favicon.ico aside)."""
        return [failure for failure in self.failures
                if urllib.parse.urlsplit(failure.split(" ")[0]).path != "/favicon.ico"]

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


# The widths a reader meets: a laptop, and a phone held upright (390 px: iPhone 12 to 16).
WIDTHS = {"1280px": {"width": 1280, "height": 800}, "390px": {"width": 390, "height": 844}}
NAVIGATION_LINKS = ".bd-docs-nav a.reference"  # the chapters, in the navigation panel (left)
CONTENTS_LINKS = "#pst-page-toc-nav a, nav.page-toc a"  # the page's sections, in its contents panel (right)
# Whether a reader can see and click the first link of a panel: inside the window, not hidden by its
# own or an ancestor's display, visibility or opacity, and on top where it is (not under a backdrop).
ON_SCREEN = """selector => {
  const link = document.querySelector(selector);
  if (!link || !link.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
  const box = link.getBoundingClientRect();
  const left = Math.max(box.left, 0), right = Math.min(box.right, innerWidth);
  const top = Math.max(box.top, 0), bottom = Math.min(box.bottom, innerHeight);
  if (right - left < 1 || bottom - top < 1) return false;
  const hit = document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
  return hit !== null && (hit === link || link.contains(hit));
}"""


def _site_pages() -> list[str]:
    """Every page of the built website, as paths under its root (index.html only redirects to the first)."""
    return sorted(path.relative_to(HTML).as_posix() for path in HTML.rglob("*.html")
                  if not path.relative_to(HTML).parts[0].startswith("_") and path.name != "index.html")


def _comes_to(page, links: str, shown: bool) -> bool:
    """Waits (the themes animate their panels) until the panel's first link is on screen, or off it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.page.wait_for_function(f"([selector, shown]) => ({ON_SCREEN})(selector) === shown",
                                    arg=[links, shown], timeout=3_000)
        return True
    except PlaywrightTimeout:
        return False


def _panel_problems(page, size) -> list[str]:
    """What fails when a reader opens and closes the navigation and the contents panel with their toggles.

    From 992 px the navigation is beside the page and its toggle hides and shows it; below, the navigation
    and the contents are drawers over the page: the toggle opens one, a tap beside it closes it (twice: it
    must open again). From 1200 px sphinx-book-theme shows the contents beside the page, without a toggle."""
    problems = []
    for panel, toggle, links, beside in (("navigation", "primary-toggle", NAVIGATION_LINKS, size["width"] - 10),
                                         ("contents", "secondary-toggle", CONTENTS_LINKS, 10)):
        if page.page.locator(links).count() == 0:
            if panel == "navigation":
                problems.append("no navigation panel")
            continue  # a page without sections has no contents panel, and no toggle for it
        toggles = [button for button in page.page.locator(f"button.{toggle}").all() if button.is_visible()]
        if panel == "contents" and size["width"] >= 1200:
            if toggles or not _comes_to(page, links, True):
                problems.append(f"the contents should be beside the page, without a toggle ({len(toggles)} shown)")
            continue
        if len(toggles) != 1:
            problems.append(f"{len(toggles)} visible {panel} toggles, expected one")
            continue
        button = toggles[0]
        if size["width"] >= 992:  # the navigation, beside the page
            if not _comes_to(page, links, True):
                problems.append("the navigation is not on screen")
                continue
            button.click()
            if not _comes_to(page, links, False):
                problems.append("the navigation toggle does not hide the navigation")
                continue
            button.click()
            if not _comes_to(page, links, True):
                problems.append("the navigation toggle does not bring the navigation back")
            continue
        for _ in range(2):  # a drawer
            if not _comes_to(page, links, False):
                problems.append(f"the {panel} is on screen before its toggle opens it")
                break
            button.click()
            if not _comes_to(page, links, True):
                problems.append(f"the {panel} toggle does not open the {panel}")
                break
            page.page.mouse.click(beside, size["height"] // 2)
            if not _comes_to(page, links, False):
                problems.append(f"a tap beside the {panel} does not close it")
                break
    return problems


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_opens_and_closes_its_navigation_and_contents(browser, site, width):
    """On every page, at a laptop's and a phone's width: the navigation and contents toggles open and
    close their panels; no console error, no failed request, nothing asked of another host than 127.0.0.1."""
    size, problems = WIDTHS[width], []
    pages = _site_pages()
    assert "book/07_depth_explorer.html" in pages and "search.html" in pages, pages
    for path in pages:
        page = Page(browser, f"{site['url']}/{path}", viewport=size)
        page.page.wait_for_load_state("networkidle")
        found = _panel_problems(page, size)
        found += [f"console error: {error}" for error in page.console_errors()]
        found += [f"failed request: {failure}" for failure in page.failed_requests()]
        found += [f"request left 127.0.0.1: {url}" for url in page.foreign_requests()]
        problems += [f"{path} at {width}: {problem}" for problem in found]
        page.page.close()
    assert not problems, "\n".join(problems)
