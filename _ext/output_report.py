"""``{output-report}``: a table of every notebook page and how its stored outputs are checked.

The book shows the outputs stored in the notebooks (``execute_notebooks: "off"``). The tests run every
notebook again under strict nbval and compare each text output with the stored one, except in cells
marked ``# NBVAL_IGNORE_OUTPUT`` (alone on its line, as nbval requires, with the reason on the next
line as ``# Why: ...``) or tagged ``nbval-ignore-output``, whose numbers legitimately
differ between machines and which assert what must hold instead. This directive lists, per notebook,
how many code cells it has, how many of their outputs the tests compare, and the reason given for each
cell that is not compared, so a reader can see exactly what is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

MARK = "NBVAL_IGNORE_OUTPUT"
TAG = "nbval-ignore-output"


def notebook_summary(path: Path) -> dict:
    """Code cells, compared cells and the reasons of the cells not compared, for one notebook."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    reasons = []
    for cell in code:
        lines = [line.strip() for line in "".join(cell["source"]).splitlines()]
        tagged = TAG in cell.get("metadata", {}).get("tags", [])
        if f"# {MARK}" in lines:
            after = lines[lines.index(f"# {MARK}") + 1:]
            why = after[0] if after and after[0].startswith("# Why:") else ""
            reasons.append(why.removeprefix("# Why:").strip() or "(no reason given)")
        elif tagged:
            reasons.append("tagged nbval-ignore-output")
    return {"code_cells": len(code), "compared": len(code) - len(reasons), "reasons": reasons}


class OutputReport(SphinxDirective):
    """Render the table for every notebook that is a page of the book."""

    def run(self):
        env = self.env
        srcdir = Path(env.srcdir)
        docs = [d for d in sorted(env.found_docs) if (srcdir / f"{d}.ipynb").exists()]
        table = nodes.table(classes=["output-report"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (3, 1, 1, 6):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row(["Notebook", "Code cells", "Outputs compared", "Not compared, and why"])
        body = nodes.tbody()
        group += body
        for doc in docs:
            summary = notebook_summary(srcdir / f"{doc}.ipynb")
            self.env.note_dependency(str(srcdir / f"{doc}.ipynb"))
            why = "; ".join(summary["reasons"]) or "all compared"
            body += self._row([f"{doc}.ipynb", str(summary["code_cells"]), str(summary["compared"]), why])
        return [table]

    @staticmethod
    def _row(texts):
        row = nodes.row()
        for text in texts:
            entry = nodes.entry()
            entry += nodes.paragraph(text=text)
            row += entry
        return row


def setup(app):
    app.add_directive("output-report", OutputReport)
    return {"version": "0.1.0", "parallel_read_safe": True, "parallel_write_safe": True}
