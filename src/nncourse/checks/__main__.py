"""Run an exercise notebook in a fresh kernel and summarise its checks.

Usage::

    python -m nncourse.checks exercises/02_forward_pass.ipynb [more notebooks ...]

Every cell runs (also after an error, so one broken cell does not hide the other exercises). Each
check records its result in a temporary file (see ``NNCOURSE_CHECKS_RECORD`` in
:mod:`nncourse.checks.framework`); the checks a notebook *should* run are read from its code, so a
check that never ran is reported too. The notebook on disk is not changed.

Cells are named as the learner sees them: ``code cell 5 ("def relu(z):")`` counts the code cells from
the top, leaving out the hidden Colab set-up cell (``tools/colab_cell.py``), and quotes the cell's
first line of code; a check whose learner code raised in a cell names that cell the same way.

Exit status: 0 when every check in every notebook passed and no cell raised an error, 1 otherwise,
2 when a notebook cannot be read or contains no checks.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .framework import NOT_IMPLEMENTED, PASSED, RECORD_ENV, cell_first_line

_CHECKS_PACKAGE = "nncourse.checks"
#: The first line of the hidden Colab set-up cell (tools/colab_cell.py), and the tag that hides it.
_COLAB_MARKER = "# nncourse: Colab set-up"
_HIDDEN_TAG = "remove-cell"


@dataclass
class NotebookReport:
    """What running one notebook found."""

    path: Path
    expected: list[tuple[str, str]] = field(default_factory=list)  # (module, check name) in order
    results: dict[tuple[str, str], dict] = field(default_factory=dict)  # the last record of each
    cell_errors: list[str] = field(default_factory=list)
    problem: str | None = None  # the notebook could not be run at all

    @property
    def ok(self) -> bool:
        return (self.problem is None and not self.cell_errors and bool(self.names)
                and all(self.results.get(key, {}).get("status") == PASSED for key in self.names))

    @property
    def names(self) -> list[tuple[str, str]]:
        extra = [key for key in self.results if key not in self.expected]
        return self.expected + extra


def learner_code_cells(nb) -> list[tuple[int, object]]:
    """The code cells the learner sees, numbered from 1: the hidden Colab set-up cell is left out."""
    numbered = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.source.startswith(_COLAB_MARKER) or _HIDDEN_TAG in tags:
            continue
        numbered.append((len(numbered) + 1, cell))
    return numbered


def cell_name(number: int, source: str) -> str:
    """``code cell 5 ("def relu(z):")``: how the command line names a cell."""
    first = cell_first_line(source)
    return f'code cell {number} ("{first}")' if first else f"code cell {number}"


def _python_source(cell_source: str) -> str:
    """A code cell's source with IPython-only lines (magics, shell escapes) blanked out."""
    lines = []
    for line in cell_source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def expected_checks(nb) -> list[tuple[str, str]]:
    """The checks a notebook calls, in order: ``from nncourse.checks import ch02 as check`` plus
    ``check.sigmoid(...)`` gives ``("nncourse.checks.ch02", "sigmoid")``."""
    aliases: dict[str, str] = {}
    found: list[tuple[str, str]] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_python_source(cell.source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == _CHECKS_PACKAGE:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{_CHECKS_PACKAGE}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(_CHECKS_PACKAGE + ".") and alias.asname:
                        aliases[alias.asname] = alias.name
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                 and node.func.value.id in aliases]
        for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
            key = (aliases[node.func.value.id], node.func.attr)
            if key not in found:
                found.append(key)
    return found


def run_notebook(path: Path, *, timeout: int = 600, kernel_name: str | None = None,
                 show_kernel_log: bool = False) -> NotebookReport:
    """Execute ``path`` in a fresh kernel (the file is not modified) and collect its check results."""
    import nbformat
    from nbclient import NotebookClient

    report = NotebookReport(path)
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # missing file, not JSON, not a notebook
        report.problem = f"cannot read the notebook ({type(exc).__name__}: {exc})"
        return report
    report.expected = expected_checks(nb)
    if not report.expected:
        report.problem = "the notebook calls no checks (from nncourse.checks import chNN as check; check.name(...))"
        return report

    kernel_name = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    with tempfile.TemporaryDirectory(prefix="nncourse-checks-") as tmp:
        record = Path(tmp) / "results.jsonl"
        previous = os.environ.get(RECORD_ENV)
        os.environ[RECORD_ENV] = str(record)  # the kernel inherits our environment
        try:
            client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                                    resources={"metadata": {"path": str(path.resolve().parent)}})
            launch = {} if show_kernel_log else {"stderr": subprocess.DEVNULL}
            client.execute(**launch)
        except Exception as exc:  # the kernel died, a cell timed out, no such kernel, ...
            report.problem = f"the notebook could not be executed ({type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''})"
        finally:
            if previous is None:
                os.environ.pop(RECORD_ENV, None)
            else:
                os.environ[RECORD_ENV] = previous
        if record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    report.results[(entry["module"], entry["name"])] = entry

    numbered = learner_code_cells(nb)
    for entry in report.results.values():
        _name_the_cell(entry, numbered)
    hidden_errors = [cell for cell in nb.cells if cell.cell_type == "code"
                     and all(cell is not c for _, c in numbered)]
    for number, cell in [(None, c) for c in hidden_errors] + numbered:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                evalue = str(output.get("evalue", "")).strip().splitlines()
                text = f"{output.get('ename', 'Error')}: {evalue[0]}" if evalue else output.get("ename", "Error")
                where = cell_name(number, cell.source) if number else "the hidden Colab set-up cell"
                report.cell_errors.append(f"{where} raised {text}")
    return report


def _code_lines(source: str) -> list[str]:
    """A cell's lines without magics (the kernel keeps them rewritten as get_ipython() calls)."""
    return [line.rstrip() for line in source.strip().splitlines()
            if not line.lstrip().startswith(("%", "!")) and "get_ipython()" not in line]


def _name_the_cell(entry: dict, numbered: list[tuple[int, object]]) -> None:
    """Replace a check message's 'the cell starting "..."' by the cell's number in the notebook."""
    label, source = entry.get("cell_label"), entry.get("cell_source")
    if not label or source is None:
        return
    matches = [number for number, cell in numbered if _code_lines(cell.source) == _code_lines(source)]
    if len(matches) != 1:
        return
    name = cell_name(matches[0], source)
    entry["lines"] = [line.replace(label, name) for line in entry["lines"]]
    entry["message"] = entry.get("message", "").replace(label, name)


_STATUS_SYMBOL = {PASSED: "✓", NOT_IMPLEMENTED: "…"}


def format_report(report: NotebookReport) -> list[str]:
    """The summary lines for one notebook."""
    lines = [f"{report.path}:"]
    if report.problem and not report.results:
        lines.append(f"  ! {report.problem}")
        return lines
    counts: dict[str, int] = {}
    for module, name in report.names:
        entry = report.results.get((module, name))
        if entry is None:
            lines.append(f"  ? {name}: did not run" + (" (see the cell errors below)" if report.cell_errors else ""))
            counts["did not run"] = counts.get("did not run", 0) + 1
            continue
        lines.extend("  " + line for line in entry["lines"])
        status = entry["status"]
        label = {PASSED: "passed", NOT_IMPLEMENTED: "not implemented yet"}.get(status, "failed")
        counts[label] = counts.get(label, 0) + 1
    for error in report.cell_errors:
        lines.append(f"  ! {error}")
    if report.problem:
        lines.append(f"  ! {report.problem}")
    order = ["passed", "failed", "not implemented yet", "did not run"]
    summary = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))
    total = len(report.names)
    lines.append(f"  {total} check{'s' if total != 1 else ''}: {summary}"
                 + (" -- all passed" if report.ok else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nncourse.checks",
        description="Run exercise notebooks in a fresh kernel and summarise their checks "
                    "(exit status 0 when every check passed).",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="exercise or solution notebooks (.ipynb)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--kernel", default=None, help="kernel name (default: the notebook's own, else python3)")
    parser.add_argument("--kernel-log", action="store_true", help="show the kernel's own log messages")
    args = parser.parse_args(argv)

    status = 0
    for path in args.notebooks:
        report = run_notebook(path, timeout=args.timeout, kernel_name=args.kernel, show_kernel_log=args.kernel_log)
        print("\n".join(format_report(report)), flush=True)
        if report.problem and not report.results:
            status = max(status, 2)
        elif not report.ok:
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
