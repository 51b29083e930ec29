"""The website in a real browser: chapter 7's explorer works without a kernel, and nothing leaves the machine.

Builds the book (fast mode, into _build/browser_test, with its own execution cache so a rerun
only re-executes changed chapters; the chapters that nbval runs in the same test run are rendered from
those runs, tools/executed_chapters.py), serves it on 127.0.0.1 and drives Debian's Chromium through
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

import executed_chapters  # tools/, on the path through conftest.py
import pytest

pytestmark = pytest.mark.slow  # builds the website and drives Chromium (`make check` leaves it out)

ROOT = Path(__file__).resolve().parents[1]
# Where the test builds the website (its own execution cache). RESNET_BOOK_BROWSER_SITE: another folder,
# so that two checkouts or two people's runs do not build into the same one.
SITE_ROOT = executed_chapters.SITE_ROOT  # RESNET_BOOK_BROWSER_SITE, or _build/browser_test
HTML = SITE_ROOT / "_build" / "html"
SITE_JS = ROOT / "tools" / "site_js" / "static"
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions"]


#: How long a wait for something the page does (a theme switch, a panel sliding in, a widget answering a key) may
#: take before it counts as not happening. It bounds a failure only: each wait ends as soon as its condition holds
#: (a theme switch takes 0.3-2.3 s per page on an idle machine, more under the test run's load).
PATIENCE_MS = 60_000


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed: run `sudo apt-get install -y chromium` (make test tries it) to run "
                "the browser test.")


@pytest.fixture(scope="module")
def site(request):
    """Builds the website once for this module (fast mode) and serves it on 127.0.0.1. The chapters this test run
    executes with nbval are rendered from those runs (tools/executed_chapters.py); the build executes the others."""
    if not (SITE_JS / ".installed").exists():
        pytest.skip("The website's JavaScript is missing: run tools/site_js/install.sh (needs npm; make test runs it).")
    chromium = _chromium()
    pytest.importorskip("playwright", reason="Playwright is missing: pip install -r requirements.txt")
    environment = {**os.environ, "RESNET_BOOK_FAST": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    from_nbval = executed_chapters.wait_for_chapters(request.session)
    build = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", str(SITE_ROOT),
         "-W", "-n", "--keep-going", "--all"],  # --all: rewrite every page; execution stays cached
        capture_output=True, text=True, env=environment, cwd=ROOT,
    )
    assert build.returncode == 0, f"the book did not build:\n{build.stdout[-5000:]}\n{build.stderr[-5000:]}"
    executed = [line for line in build.stdout.splitlines() if "Executing notebook" in line]
    chapters = len(list((ROOT / "book").glob("*.ipynb")))
    assert len(executed) <= chapters - len(from_nbval), (
        f"the build executed chapters again although nbval had run {from_nbval} in this test run (their entries in "
        f"the execution cache did not match: tools/executed_chapters.py):\n" + "\n".join(executed))

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
        return list(self.errors)

    def failed_requests(self):
        """Requests that failed or were answered with an HTTP error: the favicon too (the pages name
        theirs, so the browser must not fall back to a missing /favicon.ico)."""
        return list(self.failures)

    def foreign_requests(self):
        return [url for url in self.requests
                if urllib.parse.urlsplit(url).scheme not in ("data", "blob")
                and urllib.parse.urlsplit(url).hostname != "127.0.0.1"]

    def visible_captions(self) -> list[str]:
        """Texts of the explorer's figure captions that are on screen now."""
        return self.page.eval_on_selector_all(
            ".widget-html:not(.resnet-explorer-figure)", "els => els.filter(e => e.offsetParent !== null).map(e => e.innerText)"
            ".filter(t => t.includes('at depth') || t.includes('Gradient norm'))")

    def visible_image(self) -> str:
        sources = self.page.eval_on_selector_all(
            ".resnet-explorer-figure img", "els => els.filter(e => e.offsetParent !== null).map(e => e.src)")
        assert len(sources) == 1, f"expected one figure on screen, found {len(sources)}"
        return sources[0]



def explorer_figures(page, root: str) -> list[dict]:
    """The figures of the explorer `root` (a CSS selector) on screen, once loaded: src, natural (PNG) width,
    shown width, top and bottom (CSS px)."""
    page.wait_for_function("""root => {
      const images = [...document.querySelectorAll(root + ' img')].filter(e => e.checkVisibility());
      return images.length > 0 && images.every(e => e.complete && e.naturalWidth > 0);
    }""", arg=root, timeout=PATIENCE_MS)
    return page.evaluate("""root => [...document.querySelectorAll(root + ' img')]
      .filter(e => e.checkVisibility()).map(e => {
        const box = e.getBoundingClientRect();
        return {src: e.src, natural: e.naturalWidth, shown: box.width, top: box.top, bottom: box.bottom};
      })""", root)


def explorer_outside(root: str) -> str:
    """A probe of the parts of the explorer `root` (a CSS selector) that stick out of the window, left or right."""
    return OUTSIDE.replace("ROOT", repr(root))


def explorer_contrast(root: str) -> str:
    """A probe of the WCAG 2 contrast of each label of the explorer `root` with what is behind it: its own and
    its ancestors' backgrounds, composited up to the first opaque one."""
    return CONTRAST.replace("ROOT", repr(root))


OUTSIDE = """() => {
  const root = document.querySelector(ROOT);
  return [root, ...root.querySelectorAll('*')].filter(e => e.checkVisibility()).flatMap(e => {
    const box = e.getBoundingClientRect();
    if (box.width === 0 || (box.left >= -0.5 && box.right <= innerWidth + 0.5)) return [];
    return [`<${e.tagName.toLowerCase()} class="${e.className}"> "${(e.innerText || '').trim().slice(0, 30)}" `
            + `from ${Math.round(box.left)} to ${Math.round(box.right)} px`];
  });
}"""
# The two JavaScript functions the contrast probes share: the numbers of a CSS colour, and its relative
# luminance (WCAG 2).
COLOR_FUNCTIONS = """
  const channels = color => (color.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
"""
CONTRAST = "() => {" + COLOR_FUNCTIONS + """
  const behind = element => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const [r, g, b, a = 1] = channels(getComputedStyle(e).backgroundColor);
      if (a > 0) layers.push([r, g, b, a]);
      if (a >= 1) break;
    }
    let color = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) color = [r, g, b].map((v, i) => a * v + (1 - a) * color[i]);
    return color;
  };
  const ratio = (one, two) => {
    const [high, low] = [luminance(one), luminance(two)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  };
  const root = document.querySelector(ROOT);
  const labels = [...root.querySelectorAll('.widget-label, .widget-readout, .widget-html-content, button, select')]
    .filter(e => e.checkVisibility() && e.innerText.trim() && !e.disabled);
  return {background: luminance(behind(root)), count: labels.length,
          low: labels.map(e => [e.innerText.trim().slice(0, 30), ratio(channels(getComputedStyle(e).color), behind(e))])
                     .filter(([, value]) => value < 4.5)};
}"""


def test_the_depth_explorer_works_without_a_kernel(browser, site):
    """Chapter 7's explorer on the static website. At 1280 px: the controls switch the pre-drawn figures in
    the browser, and in the gradient view the networks and metric controls are shown disabled. At 1280 and
    390 px, light and dark: the figures have twice the pixels they are shown at (sharp on high-density
    screens); on a phone every part of the explorer, the slider's readout too, is inside the window and the
    panels stack at full size; in dark mode the explorer is dark (no light slab) and its labels have a
    contrast of 4.5:1 or more. With RESNET_BOOK_SCREENSHOTS=<folder>, pictures of each state are saved there."""

    def figures(page) -> list[dict]:
        return explorer_figures(page, ".resnet-depth-explorer")

    def controls(page) -> dict:
        """The explorer's controls on screen: {"buttons": {text: disabled}, "select": disabled, "slider": shown}."""
        return page.evaluate("""() => {
          const root = document.querySelector('.resnet-depth-explorer');
          const shown = [...root.querySelectorAll('button, select, .widget-slider')].filter(e => e.checkVisibility());
          const selects = shown.filter(e => e.tagName === 'SELECT');
          return {buttons: Object.fromEntries(shown.filter(e => e.tagName === 'BUTTON')
                                                   .map(e => [e.innerText.trim(), e.disabled])),
                  select: selects.length === 1 ? selects[0].disabled : `${selects.length} dropdowns`,
                  slider: shown.some(e => e.classList.contains('widget-slider'))};
        }""")

    def screenshot(page, name: str) -> None:
        folder = os.environ.get("RESNET_BOOK_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.locator(".resnet-depth-explorer").screenshot(path=str(Path(folder) / f"explorer_{name}.png"))

    page = Page(browser, f"{site['url']}/book/07_depth_explorer.html")
    page.page.wait_for_selector(".widget-slider", timeout=PATIENCE_MS)
    [caption] = page.visible_captions()
    assert "at depth 20" in caption and "plain-20" in caption and "residual-20" in caption
    first = figures(page.page)  # two panels side by side, each with twice the pixels it is shown at
    assert len(first) == 2 and abs(first[0]["top"] - first[1]["top"]) < 1, first
    assert all(figure["natural"] >= 2 * figure["shown"] and figure["shown"] >= 300 for figure in first), first
    screenshot(page.page, "learning_curves_1280_light")

    # The depth slider: two steps right, 20 -> 32 -> 44.
    handle = page.page.locator(".widget-slider .noUi-handle").first
    handle.focus()
    page.page.keyboard.press("ArrowRight")
    page.page.keyboard.press("ArrowRight")
    page.page.wait_for_timeout(300)
    [caption] = page.visible_captions()
    assert "at depth 44" in caption, caption
    assert "44" in page.page.locator(".widget-slider .widget-readout").first.inner_text()
    assert not {figure["src"] for figure in figures(page.page)} & {figure["src"] for figure in first}

    # Plain only, then validation accuracy, then the gradient view.
    page.page.get_by_role("button", name="plain", exact=True).click()
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert "plain-44" in caption and "residual-44" not in caption, caption
    page.page.locator(".widget-dropdown select").first.select_option(label="validation accuracy")
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert caption.startswith("Validation accuracy per epoch at depth 44"), caption
    live = {"buttons": {"plain": False, "residual": False, "both": False, "learning curves": False,
                        "gradient norms": False}, "select": False, "slider": True}
    assert controls(page.page) == live
    page.page.get_by_role("button", name="gradient norms").click()
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert "Gradient norm" in caption and "depth 44" in caption, caption
    gradients = figures(page.page)
    assert len(gradients) == 2 and all(figure["natural"] >= 2 * figure["shown"] for figure in gradients), gradients
    # The networks and metric controls do nothing here: shown disabled, keeping their choice.
    assert controls(page.page) == {"buttons": {"plain": True, "residual": True, "both": True,
                                               "learning curves": False, "gradient norms": False},
                                   "select": True, "slider": True}
    assert page.page.locator(".resnet-depth-explorer select").input_value() == "validation accuracy"
    assert "mod-active" in page.page.get_by_role("button", name="plain", exact=True).get_attribute("class")
    screenshot(page.page, "gradient_norms_1280_light")
    page.page.get_by_role("button", name="learning curves").click()
    page.page.wait_for_timeout(200)
    [caption] = page.visible_captions()
    assert caption.startswith("Validation accuracy per epoch at depth 44") and "residual-44" not in caption, caption
    assert controls(page.page) == live  # the live controls are back
    assert page.foreign_requests() == [], "requests left 127.0.0.1"
    assert page.console_errors() == [], f"the page logged errors: {page.console_errors()}"
    page.page.close()

    for width, scheme in ((390, "light"), (390, "dark"), (1280, "dark")):
        page = browser.new_page(viewport={"width": width, "height": 844 if width < 600 else 800}, color_scheme=scheme)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{site['url']}/book/07_depth_explorer.html", wait_until="load")
        page.wait_for_selector(".resnet-depth-explorer .widget-slider", timeout=PATIENCE_MS)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        for view in ("learning curves", "gradient norms"):
            where = f"at {width} px, {scheme}, {view}"
            page.get_by_role("button", name=view).click()
            page.wait_for_timeout(300)
            shown = figures(page)
            assert len(shown) == 2 and all(f["natural"] >= 2 * f["shown"] for f in shown), (where, shown)
            assert page.evaluate(explorer_outside(".resnet-depth-explorer")) == [], \
                f"parts of the explorer are outside the window {where}"
            if width < 600:  # one panel below the other, each at its full size
                assert shown[1]["top"] >= shown[0]["bottom"] and all(f["shown"] >= 330 for f in shown), (where, shown)
                readout = page.locator(".resnet-depth-explorer .widget-readout").first.bounding_box()
                assert readout["x"] >= 0 and readout["x"] + readout["width"] <= width, (where, readout)
            if scheme == "dark":
                found = page.evaluate(explorer_contrast(".resnet-depth-explorer"))
                assert found["count"] >= 8, (where, found)  # labels, readout, buttons, the dropdown, the caption
                assert found["background"] < 0.1, f"a light slab behind the explorer {where}: {found}"
                assert found["low"] == [], f"labels below 4.5:1 {where}: {found['low']}"
            screenshot(page, f"{view.replace(' ', '_')}_{width}_{scheme}")
        assert errors == [], errors
        page.close()


def test_the_landscape_explorer_works_without_a_kernel(browser, site):
    """Chapter 8's explorer on the static website. At 1280 px: depth, seed, networks and view switch the
    pre-drawn figures in the browser, and each caption names what is shown. At 1280 and 390 px, light and
    dark, in every view: two figures with twice the pixels they are shown at; on a phone they stack at full
    size and nothing sticks out of the window; in dark mode no light slab and labels of 4.5:1 or more."""
    root = ".resnet-landscape-explorer"

    def figures(page) -> list[dict]:
        return explorer_figures(page, root)

    def caption(page) -> str:
        shown = page.eval_on_selector_all(f"{root} .widget-html:not(.resnet-explorer-figure)", "els => els.filter(e => e.checkVisibility())"
                                                                  ".map(e => e.innerText)")
        assert len(shown) == 1, shown
        return shown[0]

    def click(page, name: str) -> None:
        page.locator(root).get_by_role("button", name=name, exact=True).click()
        page.wait_for_timeout(250)

    page = Page(browser, f"{site['url']}/book/08_why_residual_networks_train.html")
    page.page.wait_for_selector(f"{root} img", timeout=PATIENCE_MS)
    assert "plain-56 and residual-56, seed 0" in caption(page.page)
    first = figures(page.page)
    assert len(first) == 2 and abs(first[0]["top"] - first[1]["top"]) < 1, first
    assert all(f["natural"] >= 2 * f["shown"] and f["shown"] >= 300 for f in first), first
    seen = {tuple(f["src"] for f in first)}
    for name, expected in (("20", "plain-20 and residual-20, seed 0"), ("2", "plain-20 and residual-20, seed 2"),
                           ("residual", "of residual-20, seed 2"), ("lesions", "residual-20 "),
                           ("interpolation", "Loss: residual-20 "), ("both", "Loss: plain-20 "),
                           ("56", "Loss: plain-56 ")):
        click(page.page, name)
        text = caption(page.page)
        assert expected in text, (name, text)
        shown = tuple(f["src"] for f in figures(page.page))
        assert shown not in seen, f"the figures did not change after clicking {name!r}"
        seen.add(shown)
    assert caption(page.page).startswith("Loss and accuracy") and "seed 2" in caption(page.page)
    assert page.foreign_requests() == [], "requests left 127.0.0.1"
    assert page.console_errors() == [], f"the page logged errors: {page.console_errors()}"
    page.page.close()

    for width, scheme in ((1280, "light"), (390, "light"), (390, "dark"), (1280, "dark")):
        page = browser.new_page(viewport={"width": width, "height": 844 if width < 600 else 800}, color_scheme=scheme)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{site['url']}/book/08_why_residual_networks_train.html", wait_until="load")
        page.wait_for_selector(f"{root} img", timeout=PATIENCE_MS)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        for view in ("loss surface", "interpolation", "lesions"):
            where = f"at {width} px, {scheme}, {view}"
            click(page, view)
            shown = figures(page)
            assert len(shown) == 2 and all(f["natural"] >= 2 * f["shown"] for f in shown), (where, shown)
            assert page.evaluate(explorer_outside(root)) == [], f"parts of the explorer are outside the window {where}"
            if width < 600:
                assert shown[1]["top"] >= shown[0]["bottom"] and all(f["shown"] >= 330 for f in shown), (where, shown)
            if scheme == "dark":
                found = page.evaluate(explorer_contrast(root))
                assert found["count"] >= 10, (where, found)  # 11 buttons and the caption
                assert found["background"] < 0.1, f"a light slab behind the explorer {where}: {found}"
                assert found["low"] == [], f"labels below 4.5:1 {where}: {found['low']}"
            folder = os.environ.get("RESNET_BOOK_SCREENSHOTS")
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
                page.locator(root).screenshot(path=str(Path(folder) / f"landscape_{view.replace(' ', '_')}_"
                                                                     f"{width}_{scheme}.png"))
        assert errors == [], errors
        page.close()


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
        for link in links:  # the chapter converted for Jupyter (tools/jupyter_notebooks.py), not its MyST source
            assert re.search(rf"/github/[^/]+/[^/]+/blob/{re.escape(tag)}/notebooks/book/{path.name}$", link), link
            assert (ROOT / "notebooks" / "book" / path.name).is_file()
        assert f"Release {tag}" in page.page.locator(".extra_footer").inner_text()
        assert "google.colab" not in page.page.locator("main").inner_text(), "the Colab-only cell is on the page"
        page.page.close()


def _site_ids(page: Path) -> set[str]:
    from html.parser import HTMLParser

    class Ids(HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids = set()

        def handle_starttag(self, tag, attributes):
            self.ids.update(value for name, value in attributes if name == "id" and value)

    parser = Ids()
    parser.feed(page.read_text())
    return parser.ids


def test_the_notebooks_link_to_pages_and_anchors_of_the_website_and_are_its_downloads(site):
    """Every link of a converted chapter (and so of a student notebook, made from it) into the published
    website names a page and an anchor of the built website; each chapter's download is that notebook."""
    import json
    import re

    sys.path.insert(0, str(ROOT / "tools"))
    import jupyter_notebooks

    base = jupyter_notebooks.site_url()
    ids: dict[str, set[str]] = {}
    checked = 0
    for path in sorted((ROOT / "notebooks" / "book").glob("*.ipynb")):
        text = "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
        for link in re.findall(rf"\]\(({re.escape(base)}[^)\s]*)\)", text):
            page, _, anchor = link.removeprefix(base).partition("#")
            assert (HTML / page).is_file(), f"{path.name}: {link} leads to no page of the website"
            if anchor:
                ids.setdefault(page, _site_ids(HTML / page))
                assert anchor in ids[page], f"{path.name}: {link}: no id {anchor!r} on {page}"
            checked += 1
        download = HTML / "_sources" / "book" / path.name
        assert download.read_text() == path.read_text(), f"the website's download of {path.name} is not the notebook"
    # The chapters' 37 citations and 31 cross-references, and one link per reference list (8 chapters cite).
    assert checked == 37 + 31 + 8


def test_a_converted_chapter_reads_right_as_jupyter_renders_it(browser, site, tmp_path):
    """Chapter 3 as Jupyter shows it (nbconvert's HTML exporter, no MyST), in Chromium: its drawing loads
    from the address the notebook names (served here from the repository, as GitHub serves the tag) at its
    width with its alt text, and its citations read "[He et al., 2016a]"."""
    import nbformat
    from nbconvert import HTMLExporter

    sys.path.insert(0, str(ROOT / "tools"))
    import jupyter_notebooks

    notebook = nbformat.read(ROOT / "notebooks" / "book" / "03_identity_block.ipynb", as_version=4)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    (tmp_path / "chapter.html").write_text(body)
    prefix = jupyter_notebooks.raw_url("")
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    served = []

    def repository_file(route):
        path = ROOT / route.request.url.removeprefix(prefix)
        served.append(path)
        route.fulfill(path=str(path), content_type="image/png") if path.is_file() else route.fulfill(status=404)

    # Nothing leaves the machine: the tag's files come from this checkout; the exporter's MathJax (from a CDN,
    # as Jupyter bundles its own) is the website's MathJax 3, told to read $...$ as Jupyter's does; anything
    # else is refused.
    mathjax = SITE_JS / "mathjax"
    cdn = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/"

    def local_mathjax(route):
        rest = route.request.url.removeprefix(cdn).split("?")[0]
        path = mathjax / ("tex-mml-chtml.js" if rest == "latest.js" else rest)
        route.fulfill(path=str(path)) if path.is_file() else route.fulfill(status=404)

    page.add_init_script("window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']]}};")
    page.route(lambda url: url.startswith("http") and not url.startswith((prefix, cdn)), lambda route: route.abort())
    page.route(f"{cdn}**", local_mathjax)
    page.route(f"{prefix}**", repository_file)
    page.goto((tmp_path / "chapter.html").as_uri(), wait_until="load")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=PATIENCE_MS)
    page.evaluate("() => MathJax.startup.promise")
    assert page.locator("mjx-container").count() > 10  # the chapter's formulas, typeset
    image = page.locator(f'img[src^="{prefix}"]')
    assert image.count() == 1
    size = image.evaluate("e => [e.complete, e.naturalWidth, e.getBoundingClientRect().width, e.alt]")
    assert size[:3] == [True, 800, 400] and size[3].startswith("Diagram of the identity block"), size
    assert served == [ROOT / "book" / "figures" / "identity_block.png"]
    text = page.locator("body").inner_text()
    assert "[He et al., 2016a]" in text and "[He et al., 2016b]" in text and "5. ResNet50" in text
    assert "{cite}" not in text and "{ref}" not in text and ":alt:" not in text and "(chapter-" not in text
    folder = Path(os.environ.get("RESNET_BOOK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    image.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -220)")
    page.screenshot(path=str(folder / "jupyter_03_identity_block.png"))
    page.get_by_text("He et al., 2016b").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 300)")
    page.screenshot(path=str(folder / "jupyter_03_identity_block_citations.png"))
    page.close()


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
                                    arg=[links, shown], timeout=PATIENCE_MS)
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


# What a reader should never meet on a page, read in the browser (at the width of the page given).
READING_PROBLEMS = """() => {
  const problems = [];
  const main = document.querySelector('main') || document.body;
  // Folded cells (exercise solutions) are read unfolded, as a reader who opens them sees them.
  for (const folded of main.querySelectorAll('details:not([open])')) folded.open = true;
  const text = main.innerText;
  if (document.documentElement.scrollWidth > innerWidth) {
    // The widest elements that stick out, to say what made the page wider than the screen.
    const culprits = [...main.querySelectorAll('*')].filter(e => {
      const box = e.getBoundingClientRect();
      return box.right > innerWidth + 1 && e.checkVisibility() && !e.closest('pre, .highlight, .table-wrapper');
    }).slice(0, 3).map(e => `<${e.tagName.toLowerCase()} class="${e.className}"> "${(e.innerText || '').slice(0, 50)}"`);
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${innerWidth} px window: `
                  + culprits.join('; '));
  }
  if (text.includes('NBVAL')) problems.push('test machinery on the page: "NBVAL"');
  if (text.includes('google.colab')) problems.push('the Colab install cell is on the page');
  for (const cell of main.querySelectorAll('.cell_output')) {
    const boxes = cell.querySelectorAll(':scope > .output.stream').length;  // one box for all a cell printed
    if (boxes > 1) problems.push(`${boxes} boxes for one cell's printed text: "${cell.innerText.slice(0, 60)}"`);
    // Nothing cut off at the output's right edge (a block that scrolls, like <pre>, is checked above
    // for laptops; on a phone it may scroll).
    const edge = cell.getBoundingClientRect().right;
    const cut = [...cell.querySelectorAll('*')].find(e => e.getBoundingClientRect().right > edge + 1
      && e.checkVisibility() && !e.closest('pre, .highlight, .headerlink'));
    if (cut) problems.push(`an output is cut off at the right: <${cut.tagName.toLowerCase()} class="${cut.className}"> `
                           + `"${(cut.innerText || '').slice(0, 60)}"`);
  }
  for (const output of main.querySelectorAll('.cell_output .output')) {
    const kind = ['traceback', 'error', 'stderr'].find(name => output.classList.contains(name));
    if (kind || output.innerText.includes('Traceback (most recent call last)'))
      problems.push(`a ${kind || 'traceback'} output: "${output.innerText.slice(0, 80)}"`);
  }
  if (innerWidth >= 1280) {  // code and outputs fit the column on a laptop (a phone scrolls them)
    for (const block of main.querySelectorAll('pre')) {
      if (block.scrollWidth > block.clientWidth + 1) {
        const line = block.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '');
        problems.push(`a code block scrolls sideways (${block.scrollWidth} px in ${block.clientWidth} px): "${line.slice(0, 100)}"`);
      }
    }
  }
  for (const image of main.querySelectorAll('img')) {  // shown smaller than it is: a click opens it
    const shown = image.getBoundingClientRect().width;
    if (image.closest('.jupyter-widgets') || image.src.endsWith('.svg') || !shown || !image.checkVisibility()) continue;
    if (shown >= 0.95 * image.naturalWidth) continue;
    const link = image.closest('a[href]');
    if (!link || new URL(link.href).pathname !== new URL(image.src).pathname)
      problems.push(`an image shown at ${Math.round(shown)} of its ${image.naturalWidth} px `
                    + `cannot be opened full size: ${image.src.split('/').pop()}`);
  }
  return problems;
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_reads_well_and_navigates(browser, site, width):
    """On every page, at a laptop's and a phone's width: nothing wider than the screen; no test markers,
    Colab cell or error output on the page; a cell's printed text in one box; at 1280 px no code block scrolls sideways; every image shown
    smaller than it is opens full size; the navigation and contents toggles open and close their panels;
    no console error, no failed request, nothing asked of another host than 127.0.0.1."""
    size, problems = WIDTHS[width], []
    pages = _site_pages()
    assert {"book/07_depth_explorer.html", "book/08_why_residual_networks_train.html", "search.html"} <= set(pages), \
        pages
    for path in pages:
        page = Page(browser, f"{site['url']}/{path}", viewport=size)
        page.page.wait_for_load_state("networkidle")
        found = page.page.evaluate(READING_PROBLEMS)
        found += _panel_problems(page, size)
        found += [f"console error: {error}" for error in page.console_errors()]
        found += [f"failed request: {failure}" for failure in page.failed_requests()]
        found += [f"request left 127.0.0.1: {url}" for url in page.foreign_requests()]
        problems += [f"{path} at {width}: {problem}" for problem in found]
        page.page.close()
    assert not problems, "\n".join(problems)


# The contrast of a widget's text with what is behind it (WCAG 2 ratio), walking up to the first
# element with a background; widgets are drawn by the page's JavaScript, so they are read after it ran.
WIDGET_CONTRAST = "() => {" + COLOR_FUNCTIONS + """
  const background = element => {
    for (let e = element; e; e = e.parentElement) {
      const color = channels(getComputedStyle(e).backgroundColor);
      if (color.length === 3 || (color.length === 4 && color[3] > 0.5)) return color.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const element of document.querySelectorAll('.jupyter-widgets *')) {
    const own = [...element.childNodes].some(node => node.nodeType === 3 && node.textContent.trim());
    if (!own || !element.checkVisibility()) continue;
    const style = getComputedStyle(element);
    const text = luminance(channels(style.color)), behind = luminance(background(element));
    const ratio = (Math.max(text, behind) + 0.05) / (Math.min(text, behind) + 0.05);
    // Disabled controls may be dimmer (WCAG exempts inactive controls), but still legible.
    const needed = element.closest(':disabled, .mod-disabled') ? 3 : 4.5;
    if (ratio < needed) found.push(`"${element.textContent.trim().slice(0, 40)}" ${ratio.toFixed(2)}:1 (${style.color} on rgb(${background(element)}))`);
  }
  return [document.querySelectorAll('.jupyter-widgets').length, found];
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_widgets_are_readable_in_light_and_dark_mode(browser, site, scheme):
    """Every page with widgets (chapter 1's progress bar, the explorers of chapters 7 and 8): each text in a
    widget has a contrast of at least 4.5:1 with its background, in the theme's light and dark mode."""
    problems, widget_pages = [], [path for path in _site_pages()
                                  if "application/vnd.jupyter.widget-view+json" in (HTML / path).read_text()]
    assert {"book/07_depth_explorer.html", "book/08_why_residual_networks_train.html"} <= set(widget_pages), \
        widget_pages
    for path in widget_pages:
        page = browser.new_page(viewport=WIDTHS["1280px"], color_scheme=scheme)
        page.goto(f"{site['url']}/{path}", wait_until="networkidle")
        page.wait_for_selector(".jupyter-widgets", timeout=PATIENCE_MS)
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        count, found = page.evaluate(WIDGET_CONTRAST)
        assert count > 0, f"{path}: no widget drawn"
        problems += [f"{path} ({scheme}): {problem}" for problem in found]
        page.close()
    assert not problems, "\n".join(problems)


# --- Accessibility: WCAG 2.1 AA (axe-core) and the explorers by keyboard -------------------------------------

AXE = ROOT / "tools" / "site_js" / "node_modules" / "axe-core" / "axe.min.js"  # pinned by tools/site_js (npm)
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
    `${v.id} (${v.impact}): ` + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')
    + (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''));
}"""


# Every image loaded (lazy ones too) and the fonts, then two frames: a figure's caption is read where it will stay,
# not beside an image that has not taken its height yet.
LAID_OUT = """async () => {
  for (const image of document.images) image.loading = 'eager';
  await Promise.all([...document.images].map(image => image.complete ? null : new Promise(done => {
    image.addEventListener('load', done); image.addEventListener('error', done); })));
  await document.fonts.ready;
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
}"""


# Then the colours of the page's text no longer change: the same in three samples 50 ms apart (at most 5 s). The pages
# are read with reduced motion, where the theme switches most colours without a fade; any fade that is left, even
# one that load slows down, changes the colours between two samples, and a check in the middle of it would read
# yesterday's colour on today's page.
SETTLED = """async () => {
  const sample = () => [...document.querySelectorAll('body, h1, .title, p, figcaption, small, a, button')].slice(0, 400)
    .map(element => { const style = getComputedStyle(element); return style.color + style.backgroundColor; }).join('|');
  let last = sample();
  for (let same = 0, tries = 0; same < 3 && tries < 100; tries++) {
    await new Promise(done => setTimeout(done, 50));
    const now = sample();
    same = now === last ? same + 1 : 0;
    last = now;
  }
}"""


def _wait_for_theme(page, scheme: str, where: str) -> None:
    """Waits until the theme follows the reader's colour scheme; if it never does, says where and what it shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"() => document.documentElement.dataset.theme === '{scheme}'", timeout=PATIENCE_MS)
    except PlaywrightTimeout:
        shown = page.evaluate("() => ({...document.documentElement.dataset})")
        raise AssertionError(f"{where}: the theme did not follow the {scheme} colour scheme within "
                             f"{PATIENCE_MS / 1000:.0f} s; the page's root says {shown}") from None


#: Pages checked at the same time by the WCAG test: their waits (the theme's fades and resizes) overlap.
WCAG_PAGES_AT_ONCE = 5


def test_every_page_meets_wcag_21_aa(browser, site):
    """axe-core on every page, at a laptop's and a phone's width, in the light and the dark theme: no serious
    and no critical violation of WCAG 2.1 A/AA (the explorers drawn, their figures with alt texts). Each page
    is loaded once; the window is resized and the reader's colour scheme switched (the theme follows it) in
    place, as a reader's browser does, with reduced motion (the same colours, mostly without the theme's fades).
    A few pages are open at once and switched together, so that one wait for the theme serves them all; each is
    checked only once its own colours have settled."""
    if not AXE.exists():
        pytest.skip("axe-core is missing: run tools/site_js/install.sh (make test runs it).")
    problems, checked, paths = [], 0, _site_pages()
    for first in range(0, len(paths), WCAG_PAGES_AT_ONCE):
        pages = {}
        for path in paths[first:first + WCAG_PAGES_AT_ONCE]:
            page = browser.new_page(viewport=WIDTHS["1280px"], color_scheme="light", reduced_motion="reduce")
            page.goto(f"{site['url']}/{path}", wait_until="networkidle")
            if "application/vnd.jupyter.widget-view+json" in (HTML / path).read_text():
                page.wait_for_selector(".jupyter-widgets", timeout=PATIENCE_MS)
            page.add_script_tag(content=AXE.read_text())
            pages[path] = page
        waiting = next(iter(pages.values()))
        waiting.wait_for_timeout(500)  # the widget manager renders the views after their models
        for width in WIDTHS:
            for page in pages.values():
                page.set_viewport_size(WIDTHS[width])
            waiting.wait_for_timeout(400)  # the theme re-marks scrollable boxes focusable 300 ms after a resize
            for page in pages.values():
                page.evaluate(LAID_OUT)
            for scheme in ("light", "dark"):
                for page in pages.values():
                    page.emulate_media(color_scheme=scheme)
                for path, page in pages.items():
                    _wait_for_theme(page, scheme, f"{path} ({width})")
                for path, page in pages.items():
                    page.evaluate(SETTLED)
                    problems += [f"{path} ({width}, {scheme}): {violation}" for violation in page.evaluate(AXE_RUN)]
                    checked += 1
        for page in pages.values():
            page.close()
    assert checked == 4 * len(paths) >= 4 * 14
    assert not problems, "\n".join(problems)


FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), classes: e.className, text: (e.innerText || '').trim(),
          label: e.getAttribute('aria-label'), valuetext: e.getAttribute('aria-valuetext'),
          pressed: e.getAttribute('aria-pressed'), root: !!e.closest(arguments[0] || '.resnet-explorer'),
          ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""


def tab_to(page, wanted, limit: int = 80) -> dict:
    """Presses Tab from the top of the page until the focused element satisfies `wanted`; fails if it never does."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED.replace("arguments[0]", "null"))
        if wanted(focused):
            return focused
    raise AssertionError(f"Tab never reached the control (last focused: {focused})")


def figure_alts(page, root: str) -> list[str]:
    return page.eval_on_selector_all(f"{root} .resnet-explorer-figure img",
                                     "els => els.filter(e => e.checkVisibility()).map(e => e.alt)")


def test_the_explorers_work_by_keyboard_alone(browser, site):
    """Tab reaches each control of both explorers, which shows a focus ring and has a name; keys change it, and the
    figures and their alt texts follow (the slider says its value as the readout shows it)."""
    page = browser.new_page(viewport=WIDTHS["1280px"])
    page.goto(f"{site['url']}/book/07_depth_explorer.html", wait_until="networkidle")
    page.wait_for_selector(".resnet-depth-explorer .noUi-handle", timeout=PATIENCE_MS)
    root = ".resnet-depth-explorer"
    handle = tab_to(page, lambda f: "noUi-handle" in str(f["classes"]) and f["root"])
    assert handle["label"] == "depth" and handle["valuetext"] == "20" and handle["ring"], handle
    before = figure_alts(page, root)
    assert len(before) == 2 and all("20" in alt for alt in before), before
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.activeElement.getAttribute('aria-valuetext') === '32'", timeout=PATIENCE_MS)
    after = figure_alts(page, root)
    assert after != before and "plain-32 ends at" in after[0], after
    plain = tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "plain" and f["root"])
    assert plain["ring"] and plain["pressed"] == "false", plain
    page.keyboard.press("Space")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-pressed') === 'true'", timeout=PATIENCE_MS)
    alone = figure_alts(page, root)
    assert "plain-32 ends at" in alone[0] and "residual-32" not in alone[0], alone
    metric = tab_to(page, lambda f: f["tag"] == "select" and f["root"])
    assert metric["ring"], metric
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(300)
    assert figure_alts(page, root)[0] != alone[0]
    view = tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "gradient norms" and f["root"])
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    gradients = figure_alts(page, root)
    assert gradients[0].startswith("Chart of the gradient norm") and "plain-32" in gradients[0], (view, gradients)
    page.close()

    page = browser.new_page(viewport=WIDTHS["1280px"])
    page.goto(f"{site['url']}/book/08_why_residual_networks_train.html", wait_until="networkidle")
    page.wait_for_selector(".resnet-landscape-explorer button", timeout=PATIENCE_MS)
    root = ".resnet-landscape-explorer"
    before = figure_alts(page, root)
    assert "plain-56" in before[0], before
    depth = tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "20" and f["root"])
    assert depth["ring"] and depth["pressed"] == "false", depth
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-pressed') === 'true'", timeout=PATIENCE_MS)
    assert "plain-20" in figure_alts(page, root)[0]
    tab_to(page, lambda f: f["tag"] == "button" and f["text"] == "lesions" and f["root"])
    page.keyboard.press("Space")
    page.wait_for_timeout(300)
    assert figure_alts(page, root)[0].startswith("Chart of the test accuracy after deleting one block")
    page.close()
