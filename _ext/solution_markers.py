"""A Sphinx extension of the nncourse book: the solution markers stay out of the built pages.

The solution notebooks (``solutions/*.ipynb``) are the one source of both the book's exercise pages and
the learners' exercise notebooks: ``tools/make_exercises.py`` replaces every region between a
``# BEGIN SOLUTION`` and a ``# END SOLUTION`` line of a code cell by a stub. Those two marker lines are
instructions for that tool, not part of the answer, so this extension removes them from the code cells
of every page when the book is read (the ``doctree-read`` event). The notebooks keep them, so the tool
and the exercise notebooks are unchanged; only the HTML no longer shows them.
(Markdown answers use HTML comments, ``<!-- BEGIN SOLUTION -->``, which never show.)
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.application import Sphinx

__version__ = "0.1.0"

#: The same marker lines that tools/make_exercises.py recognises (BEGIN_CODE / END_CODE there).
MARKER_LINE = re.compile(r"^[ \t]*# (BEGIN|END) SOLUTION[ \t]*$")


def strip_markers(code: str) -> str:
    """``code`` without its ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines (everything else kept)."""
    return "\n".join(line for line in code.split("\n") if not MARKER_LINE.match(line))


def _in_code_cell(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.container) and "cell_input" in parent.get("classes", []):
            return True
        parent = parent.parent
    return False


def remove_solution_markers(app: Sphinx, doctree: nodes.document) -> None:
    """Drop the marker lines from the source of every notebook code cell of the page."""
    for block in list(doctree.findall(nodes.literal_block)):
        code = block.astext()
        if "SOLUTION" not in code or not _in_code_cell(block):
            continue
        cleaned = strip_markers(code)
        if cleaned != code:
            new = nodes.literal_block(cleaned, cleaned, **block.attributes)
            new.source, new.line = block.source, block.line
            block.replace_self(new)


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", remove_solution_markers)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
