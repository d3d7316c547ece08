"""The checks framework is split by job into small modules with no import cycle, and
``nncourse.checks.framework`` still offers every name that chapters, notebooks and tests import."""

from __future__ import annotations

import ast
from pathlib import Path

import nncourse.checks as checks
from nncourse.checks import framework

PACKAGE = Path(checks.__file__).parent
FRAMEWORK_MODULES = ["results", "formatting", "tracebacks", "time_limit", "inputs", "answers", "tester",
                     "decorator", "recording", "framework"]


def _local_imports(module: str) -> set[str]:
    """The sibling modules ``module`` imports (``from .x import ...``, ``from . import x``)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {alias.name for alias in node.names}
    return found


def test_the_framework_modules_import_each_other_without_a_cycle():
    graph = {m: _local_imports(m) & set(FRAMEWORK_MODULES) for m in FRAMEWORK_MODULES}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join(path + (module,))}"
        if module in done:
            return
        for other in graph[module]:
            visit(other, path + (module,))
        done.add(module)

    for module in FRAMEWORK_MODULES:
        visit(module, ())
    assert "framework" not in set().union(*(graph[m] for m in FRAMEWORK_MODULES if m != "framework"))


def test_each_framework_module_is_small():
    for module in FRAMEWORK_MODULES:
        lines = len((PACKAGE / f"{module}.py").read_text(encoding="utf-8").splitlines())
        assert lines <= 350, f"{module}.py has {lines} lines"


def test_the_framework_still_offers_every_public_name():
    for name in ["read_only", "PASSED", "FAILED", "ERROR", "NOT_IMPLEMENTED", "CheckResult", "Tester", "check",
                 "registry", "is_placeholder", "fmt", "RECORD_ENV", "TIME_LIMIT_ENV", "DEFAULT_TIME_LIMIT",
                 "cell_first_line", "cell_label"]:
        assert hasattr(framework, name), name
    assert checks.Tester is framework.Tester and checks.check is framework.check


# Checks whose exercise must change the objects it is given (train this model, fill its gradients, load
# a checkpoint into it): the learner's function gets the very objects, and the check looks at them.
LEARNER_CHANGES_THE_MODEL = {
    "ch06.py": 1,   # train
    "ch13.py": 2,   # topological_sort returns the very nodes; exp_op's result points back to its input
    "ch15.py": 5,   # train_step, accumulate_gradients, adam_memory_bytes (a torch model), save/load_checkpoint
}


def test_chapter_checks_leave_in_place_changes_and_types_to_the_framework():
    """No chapter writes the in-place rule again (read-only copies, or copy_args=False with its own
    comparison), except ch06's train check, which must let the learner train the model it is given."""
    for path in sorted(PACKAGE.glob("ch[0-9][0-9].py")):
        text = path.read_text(encoding="utf-8")
        assert "read_only" not in text and '"read-only"' not in text, path.name
        allowed = LEARNER_CHANGES_THE_MODEL.get(path.name, 0)
        assert text.count("copy_args=False") == allowed, path.name
