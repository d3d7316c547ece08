"""nbval comment markers in the notebooks are ones nbval actually recognises.

nbval (0.11) compares a cell's comment with its markers *exactly*: ``# NBVAL_IGNORE_OUTPUT`` works,
``# NBVAL_IGNORE_OUTPUT: float32 training`` is silently no marker at all, and the cell is then
compared digit by digit. The course writes the marker alone on its line and the reason on the next
(``# Why: ...``). This test catches the other spelling before a machine with different rounding does.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("chapters", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))
KNOWN = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP",
         "PYTEST_VALIDATE_IGNORE_OUTPUT"}


def marker_lines(notebook: Path):
    for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            comment = line.strip()
            if comment.startswith("#") and ("NBVAL" in comment or "PYTEST_VALIDATE" in comment):
                yield index, comment.lstrip("#").strip()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_markers_are_exact(notebook):
    wrong = [(index, comment) for index, comment in marker_lines(notebook) if comment not in KNOWN]
    assert not wrong, (f"{notebook.name}: nbval ignores these comments, because a marker must stand alone on "
                       f"its line (put the reason on the next line, '# Why: ...'): {wrong}")


def test_the_rule_is_what_nbval_does():
    plugin = pytest.importorskip("nbval.plugin")
    assert dict(plugin.find_comment_markers("# NBVAL_IGNORE_OUTPUT\n# Why: float32")) == {"check": False}
    assert dict(plugin.find_comment_markers("# NBVAL_IGNORE_OUTPUT: float32")) == {}
