"""The built book read as plain files, as a learner reads the pages: what a page must never show.

* No raw Markdown table (a ``|---|---|`` rule line) anywhere but in the source of a code cell: a table
  that a cell *prints* shows as pipes above or instead of the rendered one (chapter 11's results table
  once did), and a prose table that failed to render shows the same way.
* No ``# BEGIN SOLUTION`` / ``# END SOLUTION`` line on any page: they are instructions for
  ``tools/make_exercises.py``, and ``_ext/solution_markers.py`` drops them from the pages.
* No error output (a traceback, or an error written to stderr) in a notebook page.

The book must be built first (``tools/test-all.sh`` builds it before running pytest; locally
``bash tools/build-book.sh``). Without ``_build/html`` these tests are skipped on a developer machine and
FAIL in CI (environment variable ``CI`` set), like the browser tests. ``NNCOURSE_SITE_DIR`` points them
at another built site.
"""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import pytest
import yaml

from book_toc import toc_docnames

REPO = Path(__file__).resolve().parents[1]
DOCNAMES = toc_docnames(yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8")))
NOTEBOOK_PAGES = [d for d in DOCNAMES if (REPO / f"{d}.ipynb").is_file()]

#: A Markdown table's rule line: | --- | :--: | ---: | (two columns or more).
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.MULTILINE)
SOLUTION_MARKER = re.compile(r"#\s*(BEGIN|END) SOLUTION")
ERROR_WORDS = re.compile(r"Traceback|Error\b|Exception\b")
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
             "track", "wbr"}


def site_dir() -> Path:
    return Path(os.environ.get("NNCOURSE_SITE_DIR", REPO / "_build" / "html")).resolve()


@pytest.fixture(scope="module")
def built_site() -> Path:
    root = site_dir()
    if not (root / "index.html").is_file():
        reason = f"{root / 'index.html'} is missing: build the book first (bash tools/build-book.sh)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the built-page tests may not be skipped)", pytrace=False)
        pytest.skip(reason)
    return root


class PageText(html.parser.HTMLParser):
    """A page's visible text, split by where it stands: a code cell's source, a cell's output, or the
    rest (prose). HTML comments are not text. Also collects the error outputs (tracebacks, stderr)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.text = {"input": [], "output": [], "prose": []}
        self.errors: list[str] = []          # "traceback" or the text of a stderr output with an error
        self._stderr_depth: int | None = None
        self._stderr_text: list[str] = []

    def _where(self) -> str:
        for _, classes in reversed(self.stack):
            if "cell_input" in classes:
                return "input"
            if "cell_output" in classes:
                return "output"
        return "prose"

    def handle_starttag(self, tag, attrs):
        if tag in VOID_TAGS:
            return
        classes = set((dict(attrs).get("class") or "").split())
        self.stack.append((tag, classes))
        if "output" in classes and "traceback" in classes:
            self.errors.append("a traceback output")
        if "output" in classes and "stderr" in classes and self._stderr_depth is None:
            self._stderr_depth, self._stderr_text = len(self.stack), []

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        # pop up to the matching tag (tolerates the odd unclosed element)
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                if self._stderr_depth is not None and depth + 1 <= self._stderr_depth:
                    text = "".join(self._stderr_text)
                    if ERROR_WORDS.search(text):
                        self.errors.append(f"stderr: {text.strip()[:200]}")
                    self._stderr_depth = None
                del self.stack[depth:]
                return

    def handle_data(self, data):
        if any(tag in ("script", "style") for tag, _ in self.stack):
            return
        self.text[self._where()].append(data)
        if self._stderr_depth is not None:
            self._stderr_text.append(data)


def read_page(built_site: Path, docname: str) -> PageText:
    page = PageText()
    page.feed((built_site / f"{docname}.html").read_text(encoding="utf-8"))
    page.close()
    return page


def test_the_parser_sees_inputs_outputs_and_errors():
    """The checks below rest on this parser: it must put each kind of text where it belongs."""
    page = PageText()
    page.feed('<p>prose <!-- # BEGIN SOLUTION --></p>'
              '<div class="cell_input docutils container"><pre>x = 1\n# BEGIN SOLUTION\n|---|---|</pre></div>'
              '<div class="cell_output docutils container"><div class="output stream"><pre>|---|---|\n</pre></div>'
              '<div class="output stderr"><pre>ValueError: no</pre></div>'
              '<div class="output traceback highlight-ipythontb"><pre>...</pre></div></div><p>after<br>all</p>')
    text = {k: "".join(v) for k, v in page.text.items()}
    assert "BEGIN" not in text["prose"] and "prose" in text["prose"] and "after" in text["prose"]
    assert "# BEGIN SOLUTION" in text["input"] and TABLE_RULE.search(text["output"])
    assert sorted(page.errors) == ["a traceback output", "stderr: ValueError: no"]


@pytest.mark.parametrize("docname", DOCNAMES)
def test_no_raw_markdown_table_outside_code_cells(docname, built_site):
    page = read_page(built_site, docname)
    for where in ("output", "prose"):
        match = TABLE_RULE.search("".join(page.text[where]))
        assert not match, (f"{docname}: a raw Markdown table rule {match.group(0).strip()!r} in the page's "
                           f"{where} (print a table through glue/Markdown, not print())")


@pytest.mark.parametrize("docname", DOCNAMES)
def test_no_solution_markers(docname, built_site):
    page = read_page(built_site, docname)
    for where, parts in page.text.items():
        match = SOLUTION_MARKER.search("".join(parts))
        assert not match, f"{docname}: {match.group(0)!r} shows in the page ({where})"


@pytest.mark.parametrize("docname", NOTEBOOK_PAGES)
def test_no_error_output(docname, built_site):
    assert not read_page(built_site, docname).errors, f"{docname}: error output in the page"


def _load(name: str, path: Path):
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_pages_drop_exactly_the_lines_make_exercises_reads_as_markers():
    """No build needed: _ext/solution_markers.py removes from each solution code cell the marker lines
    of tools/make_exercises.py, and nothing else (the answer itself stays on the page)."""
    import nbformat

    ext = _load("solution_markers", REPO / "_ext" / "solution_markers.py")
    tool = _load("make_exercises", REPO / "tools" / "make_exercises.py")
    cells = 0
    for path in sorted((REPO / "solutions").glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            if cell.cell_type != "code" or "SOLUTION" not in cell.source:
                continue
            lines = cell.source.split("\n")
            kept = [line for line in lines if not (tool.BEGIN_CODE.match(line) or tool.END_CODE.match(line))]
            assert ext.strip_markers(cell.source) == "\n".join(kept), f"{path.name}: {cell.source[:80]}"
            assert len(kept) < len(lines)
            cells += 1
    assert cells >= 15, "every chapter's solutions have marked regions"
    assert ext.strip_markers("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION") == \
        "def f():\n    return 1"


def test_learning_objectives_in_one_form():
    """Every chapter opens with its learning objectives in the same tip box (chapter 11's form)."""
    import nbformat

    chapters = sorted((REPO / "chapters").glob("[0-9][0-9]_*.ipynb"))
    assert len(chapters) >= 15
    for path in chapters:
        text = "\n".join(c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "markdown")
        assert text.count("```{admonition} Learning objectives\n:class: tip\nAfter this chapter you can\n") == 1, \
            f"{path.name}: no learning-objectives box (or more than one)"
        assert "**Learning objectives" not in text, f"{path.name}: learning objectives as bold text"
