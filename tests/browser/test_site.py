"""The built book, checked page by page in headless Chromium, the way a reader meets it.

For every page in ``_toc.yml``: it loads and shows its title; every same-site link, script, style
sheet and image points to a file that exists (and every ``#anchor`` to an id on its page); every
image has loaded; maths has been typeset by MathJax (no TeX errors); embedded widgets render; the
chapters have figures; the exercises' solutions stay folded until opened; with ``node_modules/``
present the page asks nothing of any other host; and the console shows no error except the known
harmless one.
"""

from __future__ import annotations

import html.parser
import json
import re
import time
import urllib.parse
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from book_toc import toc_docnames

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
LOCAL_JS = (REPO / "node_modules").is_dir()


# ---------------------------------------------------------------------------------------------
# what the book should contain, read from the sources


def source_of(docname: str) -> Path:
    for suffix in (".ipynb", ".md"):
        path = REPO / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no source for {docname!r} listed in _toc.yml")


def _plain(text: str) -> str:
    """Lower-case letters and digits only: compares titles across Markdown and HTML."""
    text = re.sub(r"\{[a-z:-]+\}`([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)  # {role}`title <target>`
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def source_title(docname: str) -> str:
    path = source_of(docname)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", ":::")):
            in_fence = not in_fence
        if not in_fence and re.match(r"#\s+\S", line):
            return line.lstrip("#").strip()
    raise AssertionError(f"{path} has no '# Title' heading")


DOCNAMES = toc_docnames(yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8")))
CHAPTERS = [d for d in DOCNAMES if re.match(r"chapters/\d\d_", d)]
SOLUTIONS = [d for d in DOCNAMES if d.startswith("solutions/")]


# ---------------------------------------------------------------------------------------------
# helpers


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@lru_cache(maxsize=None)
def ids_in(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def wait_for(driver, script: str, timeout: float = 20.0, poll: float = 0.2):
    """Run ``script`` (a JS expression) until it is truthy; returns the last value."""
    deadline = time.monotonic() + timeout
    value = driver.execute_script(f"return ({script});")
    while not value and time.monotonic() < deadline:
        time.sleep(poll)
        value = driver.execute_script(f"return ({script});")
    return value


def open_page(driver, site_url: str, docname: str) -> None:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(urllib.parse.urljoin(site_url, f"{docname}.html"))
    wait_for(driver, "document.readyState === 'complete'", timeout=30)


def wait_for_maths(driver) -> dict:
    """Wait until MathJax has typeset the page (if it has maths); returns counts."""
    counts_js = """({
        source: document.querySelectorAll('.math, span.math, div.math').length,
        typeset: document.querySelectorAll('mjx-container').length,
        errors: document.querySelectorAll('mjx-merror').length,
        hasMathJax: typeof window.MathJax !== 'undefined'
    })"""
    counts = driver.execute_script(f"return {counts_js};")
    if counts["source"]:
        wait_for(
            driver,
            "window.MathJax && window.MathJax.startup && window.MathJax.startup.promise && "
            "document.querySelectorAll('mjx-container').length > 0",
            timeout=30,
        )
        # let the typesetting queue drain
        driver.set_script_timeout(30)
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const p = window.MathJax && MathJax.startup && MathJax.startup.promise;"
            "if (p) { p.then(() => done(true), () => done(false)); } else { done(false); }"
        )
        counts = driver.execute_script(f"return {counts_js};")
    return counts


def same_site_references(driver, site_url: str) -> list[tuple[str, str]]:
    """(kind, absolute URL) of every link, script, style sheet, image and frame pointing at the site."""
    refs = driver.execute_script(
        """
        const out = [];
        for (const a of document.querySelectorAll('a[href]')) out.push(['link', a.href]);
        for (const s of document.querySelectorAll('script[src]')) out.push(['script', s.src]);
        for (const l of document.querySelectorAll('link[href]')) out.push(['link-tag', l.href]);
        for (const i of document.querySelectorAll('img[src]')) out.push(['image', i.src]);
        for (const f of document.querySelectorAll('iframe[src], source[src], video[src]'))
            out.push(['media', f.src]);
        return out;
        """
    )
    return [(kind, url) for kind, url in refs if url.startswith(site_url)]


def local_file(built_site: Path, site_url: str, url: str) -> tuple[Path, str]:
    parts = urllib.parse.urlsplit(url)
    rel = urllib.parse.unquote(parts.path[len(urllib.parse.urlsplit(site_url).path):])
    path = built_site / rel
    if rel == "" or rel.endswith("/"):
        path = path / "index.html"
    return path, urllib.parse.unquote(parts.fragment)


# ---------------------------------------------------------------------------------------------
# the tests


def test_every_toc_file_was_built(built_site):
    missing = [d for d in DOCNAMES if not (built_site / f"{d}.html").is_file()]
    assert not missing, f"pages listed in _toc.yml but not built: {missing}"


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page(docname, browser, site_url, built_site, console_errors):
    driver = browser
    open_page(driver, site_url, docname)
    problems: list[str] = []

    # 1. it loaded and carries its title
    title = source_title(docname)
    h1 = driver.execute_script(
        "const h = document.querySelector('main h1, article h1'); return h ? h.textContent : '';")
    if _plain(title) not in _plain(h1):
        problems.append(f"heading {h1!r} does not show the title {title!r}")
    if _plain(title) not in _plain(driver.title):
        problems.append(f"<title> {driver.title!r} does not contain {title!r}")

    # 2. maths typeset, without TeX errors
    maths = wait_for_maths(driver)
    if maths["source"]:
        if maths["typeset"] == 0:
            problems.append(f"{maths['source']} maths elements but no MathJax output (mjx-container)")
        if maths["errors"]:
            problems.append(f"{maths['errors']} TeX errors (mjx-merror) on the page")

    # 3. embedded widgets render with no kernel
    has_widgets = driver.execute_script(
        "return document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-state+json\"]').length;"
    )
    if has_widgets:
        views = driver.execute_script(
            "return document.querySelectorAll('script[type=\"application/vnd.jupyter.widget-view+json\"]').length;")
        rendered = wait_for(driver, "document.querySelectorAll('.jupyter-widgets, .widget-inline-hbox, "
                                    ".widget-box').length", timeout=30)
        if views and not rendered:
            problems.append(f"{views} widget views embedded but none rendered")
        broken = driver.execute_script(
            "return Array.from(document.querySelectorAll('.jupyter-widgets'))"
            ".filter(e => /Error (rendering|displaying) widget/.test(e.textContent)).length;")
        if broken:
            problems.append(f"{broken} widgets show an error instead of rendering")

    # 4. images loaded
    bad_images = driver.execute_script(
        "return Array.from(document.images).filter(i => i.offsetParent !== null || i.closest('.cell_output'))"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src);"
    )
    if bad_images:
        problems.append(f"images that did not load: {bad_images}")

    # 5. same-site references resolve to files (and anchors to ids)
    for kind, url in sorted(set(same_site_references(driver, site_url))):
        path, fragment = local_file(built_site, site_url, url)
        if not path.is_file():
            shown = path.relative_to(built_site) if path.is_relative_to(built_site) else path
            problems.append(f"broken {kind}: {url} (no file {shown})")
        elif fragment and path.suffix == ".html" and fragment not in ids_in(path):
            problems.append(f"broken anchor: {url} (no id {fragment!r} in {path.relative_to(built_site)})")

    # 6. offline: no request leaves the site when the JavaScript is served locally
    if LOCAL_JS:
        requested = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat(performance.getEntriesByType('navigation').map(e => e.name));"
        )
        elsewhere = sorted({u for u in requested
                            if not u.startswith(site_url) and not u.startswith(("data:", "blob:"))})
        if elsewhere:
            problems.append(f"requests to other hosts although node_modules/ is present: {elsewhere}")

    # 7. the console: nothing severe except the known harmless message
    errors = console_errors(driver)
    if errors:
        problems.append("console errors:\n    " + "\n    ".join(errors))

    assert not problems, f"{docname}.html:\n  - " + "\n  - ".join(problems)


def test_local_javascript_is_used(built_site, local_js):
    """With node_modules/ present, the pages load require.js, the widget manager and MathJax from the
    site itself (the CDN defaults otherwise). Without it, ``local_js`` says what is missing."""
    js = built_site / "_static" / "nncourse-js"
    for rel in ("require.js", "widgets-setup.js", "html-manager/embed-amd.js", "mathjax/tex-mml-chtml.js"):
        assert (js / rel).is_file(), f"missing {js / rel}"
    assert list((js / "html-manager").glob("*.woff2")), "the widget manager's icon fonts were not copied"
    assert list((js / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")), "MathJax fonts missing"
    page = (built_site / "pages" / "glossary.html").read_text(encoding="utf-8")
    assert "_static/nncourse-js/mathjax/tex-mml-chtml.js" in page
    assert "cdn.jsdelivr.net" not in page


@pytest.mark.parametrize("docname", CHAPTERS)
def test_chapter_has_figures(docname, browser, site_url):
    open_page(browser, site_url, docname)
    figures = browser.execute_script(
        "return document.querySelectorAll('article img, article svg.figure, article figure, article canvas').length;"
    )
    assert figures > 0, f"{docname}.html shows no figure"


@pytest.mark.parametrize("docname", SOLUTIONS)
def test_solutions_hidden_until_opened(docname, browser, site_url):
    driver = browser
    open_page(driver, site_url, docname)
    count = wait_for(driver, "document.querySelectorAll('.solution.dropdown .toggle-button').length", timeout=10)
    assert count, f"{docname}.html has no folded solution (sphinx-exercise `:class: dropdown`)"
    visible_js = (
        "const s = document.querySelectorAll('.solution.dropdown')[arguments[0]];"
        "const body = Array.from(s.children).filter(c => !c.classList.contains('admonition-title'));"
        "return body.length > 0 && body.every(c => c.offsetHeight > 0);"
    )
    for i in range(count):
        assert not driver.execute_script(visible_js, i), f"solution {i + 1} of {docname} is visible before opening"
    # open the first one as a reader would, by clicking its toggle (the chevron at the right of the
    # title bar; the title's text is a link to the exercise, so the chevron is the reliable target)
    button = driver.execute_script("return document.querySelectorAll('.solution.dropdown .toggle-button')[0];")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    deadline = time.monotonic() + 5
    while not driver.execute_script(visible_js, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.execute_script(visible_js, 0), f"clicking the first solution of {docname} did not open it"
    if count > 1:
        assert not driver.execute_script(visible_js, 1), "opening one solution opened another"


def test_screenshots(browser, site_url, artifacts_dir):
    """Screenshots of the landing page and the first chapter, for a human to look at."""
    shots = {"landing": DOCNAMES[0], "chapter": CHAPTERS[0] if CHAPTERS else DOCNAMES[0]}
    for label, docname in shots.items():
        open_page(browser, site_url, docname)
        wait_for_maths(browser)
        out = artifacts_dir / f"site-{label}.png"
        assert browser.save_screenshot(str(out)), f"could not save {out}"
        assert out.stat().st_size > 10_000, f"{out} looks empty"


# ---------------------------------------------------------------------------------------------
# the built HTML itself (no browser needed)


def _markdown_tables_in_outputs(docname: str) -> list[list[str]]:
    """The Markdown tables that the notebook's text/markdown outputs display: each as its header cells."""
    path = source_of(docname)
    if path.suffix != ".ipynb":
        return []
    tables = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/markdown", ""))
            lines = text.splitlines()
            for header, rule in zip(lines, lines[1:]):
                if header.startswith("|") and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rule.strip()):
                    tables.append([c.strip() for c in header.strip().strip("|").split("|")])
    return tables


class _Tables(html.parser.HTMLParser):
    """The header cells of every <table> on a page."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[str]] = []
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "th":
            self._in_th = True
            if self.tables:
                self.tables[-1].append("")

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_th = False

    def handle_data(self, data):
        if self._in_th and self.tables:
            self.tables[-1][-1] += data.strip()


@pytest.mark.parametrize("docname", [d for d in DOCNAMES if _markdown_tables_in_outputs(d)])
def test_markdown_output_tables_are_tables(docname, built_site):
    """A Markdown table that a cell displays (ch. 8's results) is a real <table>, not a paragraph of
    pipes whose |---| row Sphinx's smart quotes turned into dashes (nb_render_markdown_format)."""
    page = (built_site / f"{docname}.html").read_text(encoding="utf-8")
    parser = _Tables()
    parser.feed(page)
    for header in _markdown_tables_in_outputs(docname):
        assert header in parser.tables, f"{docname}: the output table {header} is not an HTML <table>"
    text = re.sub(r"<[^>]+>", "", page)
    assert not re.search(r"\|\s*[\u2013\u2014]", text), f"{docname}: a table rule printed as dashes"


def test_built_site_holds_no_placeholder_url(built_site):
    """No page, script or downloadable notebook of the built book names the placeholder repository;
    while _config.yml still has it, the launch buttons are left out (no dead Binder/Colab link)."""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    holders = []
    for path in sorted(built_site.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".js", ".ipynb", ".txt", ".json", ".md"}:
            if "your-org" in path.read_text(encoding="utf-8", errors="replace").lower():
                holders.append(str(path.relative_to(built_site)))
    assert not holders, f"the placeholder repository URL (YOUR-ORG) is in the built site: {holders}"
    if "your-org" in str(config["repository"]["url"]).lower():
        for docname in DOCNAMES:
            page = (built_site / f"{docname}.html").read_text(encoding="utf-8")
            for service in ("mybinder.org/v2", "colab.research.google.com/github"):
                assert service not in page, f"{docname}: a launch link ({service}) with no repository behind it"
