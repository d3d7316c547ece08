#!/usr/bin/env python3
"""Generate the exercise notebooks from the solution notebooks (one source for both).

    python tools/make_exercises.py                 # write exercises/NAME.ipynb for every solutions/NAME.ipynb
    python tools/make_exercises.py --execute       # ... and store fresh outputs (tools/execute-notebook.sh)
    python tools/make_exercises.py --check         # exit 1 if an exercise notebook is out of date
    python tools/make_exercises.py 02_forward_pass # only this one (name, or path of either notebook)

What changes from solutions/NAME.ipynb to exercises/NAME.ipynb:

* Code cells: the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` are replaced by a stub.
  Inside a function (the markers are indented) the stub is ``raise NotImplementedError(...)``, so the
  cell still defines the function and the check reports "not implemented yet". At the top level of
  a cell the stub keeps every assignment with ``...`` as the value (``n_single = ...  # your code
  here``), so later cells still run and the check sees the placeholder.
* Markdown cells: everything between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``
  becomes "*Your answer here.*".
* The sphinx-exercise directives exist for the book only: cells holding just a ``solution-start``
  or ``solution-end`` directive are dropped, and the ``exercise-start`` / ``exercise-end`` fences
  are removed from the statement (its text stays).
* Paragraphs that point to a launch service with the book's ``{binder}`` / ``{colab}`` roles are
  dropped: a learner reading the exercise notebook has launched it already (and Jupyter would show
  the role as raw text).
* Outputs are cleared. ``--execute`` runs the new notebook to store the outputs that nbval compares
  (the checks then print "not implemented yet"). An exercise notebook whose cells already match is
  left alone, outputs included.

``--check`` compares cell types and sources only (outputs and metadata may differ).
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

BEGIN_CODE = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\s*$")
END_CODE = re.compile(r"^[ \t]*# END SOLUTION\s*$")
MARKDOWN_SOLUTION = re.compile(r"<!--\s*BEGIN SOLUTION\s*-->.*?<!--\s*END SOLUTION\s*-->", re.DOTALL)
SOLUTION_DIRECTIVE = re.compile(r"^\s*(```+|:::+)\{solution-(start|end)\}")
EXERCISE_FENCE = re.compile(r"^(?P<fence>```+|:::+)\{exercise-(start|end)\}[^\n]*\n(?:.*?\n)??(?P=fence)[ \t]*(\n|$)",
                            re.DOTALL | re.MULTILINE)

ANSWER_PLACEHOLDER = "*Your answer here.*"
FUNCTION_STUB = 'raise NotImplementedError("your code here")'


class SolutionMarkupError(ValueError):
    """A solution notebook's markers are malformed (unmatched, nested, unparsable)."""


def _top_level_stub(region: list[str], where: str) -> list[str]:
    """``name = ...  # your code here`` for each assignment in a top-level solution region."""
    try:
        tree = ast.parse("\n".join(region))
    except SyntaxError as exc:
        raise SolutionMarkupError(f"{where}: the solution region does not parse ({exc.msg})") from None

    def target_text(node: ast.expr) -> tuple[str, str]:
        if isinstance(node, ast.Name):
            return node.id, "..."
        if isinstance(node, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in node.elts):
            return ", ".join(e.id for e in node.elts), ", ".join("..." for _ in node.elts)
        raise SolutionMarkupError(f"{where}: cannot make a stub for the assignment to {ast.unparse(node)}")

    lines = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            names = [target_text(target) for target in statement.targets]
            lines.append(" = ".join(n for n, _ in names) + f" = {names[-1][1]}  # your code here")
        elif isinstance(statement, ast.AnnAssign):
            name, value = target_text(statement.target)
            lines.append(f"{name}: {ast.unparse(statement.annotation)} = {value}  # your code here")
    return lines or ["# your code here"]


def stub_code(source: str, where: str = "cell") -> str:
    """Replace every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` region of a code cell by a stub."""
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in source.split("\n"):
        begin, end = BEGIN_CODE.match(line), END_CODE.match(line)
        if begin:
            if region is not None:
                raise SolutionMarkupError(f"{where}: nested # BEGIN SOLUTION")
            region, indent = [], begin.group("indent")
        elif end:
            if region is None:
                raise SolutionMarkupError(f"{where}: # END SOLUTION without # BEGIN SOLUTION")
            if indent:
                out.append(indent + FUNCTION_STUB)
            else:
                out.extend(_top_level_stub(region, where))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise SolutionMarkupError(f"{where}: # BEGIN SOLUTION without # END SOLUTION")
    return "\n".join(out)


def stub_markdown(source: str, where: str = "cell") -> str:
    """Replace the answers between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``."""
    result = MARKDOWN_SOLUTION.sub(ANSWER_PLACEHOLDER, source)
    if "BEGIN SOLUTION" in result or "END SOLUTION" in result:
        raise SolutionMarkupError(f"{where}: unmatched <!-- BEGIN/END SOLUTION --> marker")
    return result


def strip_exercise_fences(source: str) -> str:
    """Remove the ``{exercise-start}`` / ``{exercise-end}`` directive fences, keeping the statement."""
    return EXERCISE_FENCE.sub("", source).strip("\n")


LAUNCH_ROLE = re.compile(r"\{(binder|colab)\}`")


def drop_launch_paragraphs(source: str) -> str:
    """Remove the paragraphs (blocks between blank lines) that use a ``{binder}``/``{colab}`` role."""
    paragraphs = re.split(r"\n\s*\n", source)
    return "\n\n".join(p for p in paragraphs if not LAUNCH_ROLE.search(p))


def is_solution_directive(cell) -> bool:
    return cell.cell_type == "markdown" and bool(SOLUTION_DIRECTIVE.match(cell.source))


def make_exercise(solution) -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook (outputs cleared)."""
    exercise = nbformat.v4.new_notebook()
    exercise.metadata = copy.deepcopy(solution.metadata)
    exercise.nbformat, exercise.nbformat_minor = solution.nbformat, solution.nbformat_minor
    for index, cell in enumerate(solution.cells):
        where = f"cell {index}"
        if is_solution_directive(cell):
            if cell.source.count("\n```") > 1 or len(cell.source.strip().splitlines()) > 3:
                raise SolutionMarkupError(f"{where}: a solution-start/-end cell must hold only the directive")
            continue
        new = copy.deepcopy(cell)
        if cell.cell_type == "code":
            new.source = stub_code(cell.source, where)
            new.outputs = []
            new.execution_count = None
        elif cell.cell_type == "markdown":
            new.source = drop_launch_paragraphs(strip_exercise_fences(stub_markdown(cell.source, where)))
        exercise.cells.append(new)
    return exercise


def cell_sources(nb) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def _resolve(names: list[str]) -> list[Path]:
    if not names:
        return sorted(SOLUTIONS.glob("*.ipynb"))
    paths = []
    for name in names:
        stem = Path(name).name
        stem = stem if stem.endswith(".ipynb") else stem + ".ipynb"
        path = SOLUTIONS / stem
        if not path.exists():
            raise SystemExit(f"make_exercises: no solution notebook {path.relative_to(ROOT)}")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook names (default: every solutions/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="only report exercise notebooks that are out of date")
    parser.add_argument("--execute", action="store_true", help="store outputs in the notebooks written")
    args = parser.parse_args(argv)

    stale, written = [], []
    for solution_path in _resolve(args.names):
        exercise_path = EXERCISES / solution_path.name
        try:
            exercise = make_exercise(nbformat.read(str(solution_path), as_version=4))
        except SolutionMarkupError as exc:
            print(f"make_exercises: {solution_path.relative_to(ROOT)}: {exc}", file=sys.stderr)
            return 2
        current = nbformat.read(str(exercise_path), as_version=4) if exercise_path.exists() else None
        up_to_date = current is not None and cell_sources(current) == cell_sources(exercise)
        label = exercise_path.relative_to(ROOT)
        if args.check:
            print(f"{label}: {'in sync' if up_to_date else 'OUT OF DATE (run tools/make_exercises.py)'}")
            if not up_to_date:
                stale.append(label)
            continue
        if up_to_date:
            print(f"{label}: up to date")
            continue
        EXERCISES.mkdir(exist_ok=True)
        nbformat.validate(exercise)
        nbformat.write(exercise, str(exercise_path))
        written.append(exercise_path)
        print(f"{label}: written")
    if args.execute and written:
        subprocess.run(["bash", str(ROOT / "tools" / "execute-notebook.sh"), *map(str, written)], check=True, cwd=ROOT)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
