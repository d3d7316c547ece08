#!/usr/bin/env python3
"""Stamp the "install the course on Colab" first cell into every course notebook, or check it.

Colab opens a single notebook from GitHub, without the rest of the repository, so `import nncourse`
would fail there. Every notebook under chapters/, exercises/ and solutions/ therefore starts with a
small code cell that, *only on Colab*, pip-installs the course package from the repository named in
_config.yml (`repository.url` and `repository.branch`). Everywhere else (JupyterLab, Binder, nbval,
the book build) the cell does nothing and prints nothing. The cell carries the `remove-cell` tag, so
the book does not show it.

Usage:
    python tools/colab_cell.py            # add or refresh the cell in every notebook
    python tools/colab_cell.py --check    # exit 1, listing notebooks whose first cell is missing or stale
    python tools/colab_cell.py PATH ...   # only these notebooks

Run it again after changing the repository URL in _config.yml. While that URL is still the
placeholder (`YOUR-ORG`), the cell names no address: on Colab it says that this copy of the course
has no published repository to install from (the book leaves its launch buttons out for the same reason).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("chapters", "exercises", "solutions")
MARKER = "# nncourse: Colab set-up"
TAG = "remove-cell"
CELL_ID = "nncourse-colab-setup"


def repository(root: Path = REPO) -> tuple[str, str]:
    """(url, branch) from _config.yml."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url = str(repo.get("url") or "").strip().rstrip("/")
    if not url:
        raise SystemExit("_config.yml has no repository.url: set it first")
    return url, str(repo.get("branch") or "main").strip()


def is_placeholder(url: str) -> bool:
    """The book extension's rule (one place: _ext/launch_links.py): is `url` still the placeholder?"""
    spec = importlib.util.spec_from_file_location("launch_links", REPO / "_ext" / "launch_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.is_placeholder(url)


def cell_source(url: str, branch: str) -> str:
    if is_placeholder(url):
        return (
            f"{MARKER} (hidden in the book; does nothing outside Google Colab).\n"
            "import sys\n"
            "\n"
            'if "google.colab" in sys.modules:\n'
            '    raise RuntimeError("This copy of the course names no published repository yet "\n'
            '                       "(repository.url in _config.yml is a placeholder), so Colab cannot "\n'
            '                       "install the nncourse package: open the notebook from the published "\n'
            '                       "course, or run it locally (see the book\'s page Run it locally).")'
        )
    spec = f"nncourse @ git+{url}@{branch}"
    return (
        f"{MARKER} (hidden in the book; does nothing outside Google Colab).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "{spec}"], check=True)\n'
    ).rstrip("\n")


def make_cell(source: str, with_id: bool = True):
    cell = nbformat.v4.new_code_cell(source=source, metadata={"tags": [TAG]})
    if with_id:  # cell ids exist from nbformat 4.5 on
        cell["id"] = CELL_ID
    else:
        cell.pop("id", None)
    return cell


def notebooks(root: Path = REPO) -> list[Path]:
    found = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" not in path.parts:
                found.append(path)
    return found


def _is_setup_cell(cell) -> bool:
    return cell.get("cell_type") == "code" and "".join(cell.get("source", "")).startswith(MARKER)


def problem(nb, source: str) -> str | None:
    """Why this notebook's first cell is not the expected one, or None if it is."""
    if not nb.cells or not _is_setup_cell(nb.cells[0]):
        return "missing"
    cell = nb.cells[0]
    if "".join(cell.source) != source:
        return "stale (different repository URL/branch or an older text)"
    if TAG not in cell.get("metadata", {}).get("tags", []):
        return f"not tagged {TAG}"
    if cell.get("outputs"):
        return "has outputs"
    return None


def stamp(nb, source: str) -> bool:
    """Insert or refresh the first cell; True if the notebook changed."""
    if problem(nb, source) is None:
        return False
    # drop any older copy, wherever it is, then put the fresh one first
    nb.cells = [c for c in nb.cells if not _is_setup_cell(c)]
    ids = {c.get("id") for c in nb.cells}
    cell = make_cell(source, with_id=nb.get("nbformat_minor", 0) >= 5)
    if "id" in cell and CELL_ID in ids:  # pragma: no cover - only if someone reused the id
        cell["id"] = CELL_ID + "-1"
    nb.cells.insert(0, cell)
    return True


def main(argv: list[str] | None = None, root: Path = REPO) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing; exit 1 on problems")
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: all under %s)" % ", ".join(FOLDERS))
    args = parser.parse_args(argv)

    url, branch = repository(root)
    source = cell_source(url, branch)
    paths = [p.resolve() for p in args.paths] or notebooks(root)
    bad = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if args.check:
            why = problem(nb, source)
            if why:
                bad.append(f"{path.relative_to(root) if path.is_relative_to(root) else path}: {why}")
        elif stamp(nb, source):
            nbformat.write(nb, path)
            print(f"[colab-cell] stamped {path.relative_to(root) if path.is_relative_to(root) else path}")
    if args.check:
        if bad:
            print("Notebooks without an up-to-date Colab first cell (fix: python tools/colab_cell.py):")
            print("\n".join(f"  {line}" for line in bad))
            return 1
        print(f"[colab-cell] {len(paths)} notebooks OK ({url}@{branch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
