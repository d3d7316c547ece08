"""The shared results table of the name models (chapters 8-10): test loss and size of every model.

Chapter 8 writes its rows (counting bigram ... LSTM) to ``chapters/results/names_models.json``;
chapters 9 and 10 add theirs (attention, GPT) with the same helper, so the last chapter can show
every model side by side. A row is a dict::

    {"chapter": 8, "model": "LSTM (hidden 64)", "parameters": 23179,
     "numpy": 2.256, "torch": 2.256}       # test loss in nats per character, rounded to 3 decimals

``torch`` is ``None`` for a model without a PyTorch twin (the counting bigram model). Losses are
measured on the test split of ``load_names("last", seed=0)``, over every letter and end token.

Usage from a chapter (the notebook's working directory is ``chapters/``)::

    from nncourse.results import update_results, results_table
    rows = update_results("results/names_models.json", chapter=10, rows=[
        {"model": "GPT (2 layers)", "parameters": 50_000, "numpy": 2.1, "torch": 2.1}])
    print(results_table(rows))              # plain text; results_markdown(rows) for the book
"""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path

from . import validation
from .errors import ConfigError, DataError

__all__ = ["load_results", "update_results", "results_table", "results_markdown", "RESULTS_FILE"]

#: where the chapters keep the table, relative to the repository root
RESULTS_FILE = Path("chapters") / "results" / "names_models.json"
_COLUMNS = ("chapter", "model", "parameters", "numpy", "torch")


def _check_path(path, who):
    """``path`` as a ``Path`` to a file: not a folder, and no file where a folder of it should be."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"{who}: path must be a file path such as 'results.json', got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{who}: path {path} is a folder; give the results file inside it, e.g. "
                        f"{path / 'results.json'}")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise DataError(f"{who}: path {path} cannot be written: {parent} is a file, not a folder")
    return path


def load_results(path) -> list[dict]:
    """The rows stored in ``path`` (an empty list if the file does not exist yet)."""
    path = _check_path(path, "load_results")
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path} is not a results file (expected JSON with a 'rows' list): {error}") from None
    return [_check_row(row, path) for row in rows]


def _round(value):
    return None if value is None else round(float(value), 3)


def _check_row(row, where):
    missing = [c for c in _COLUMNS if c not in row]
    if missing:
        raise ConfigError(f"results row {row!r} ({where}) lacks {missing}; every row needs {list(_COLUMNS)}")
    if not isinstance(row["parameters"], numbers.Integral):
        raise ConfigError(f"results row {row['model']!r}: parameters must be an int, got {row['parameters']!r}")
    return {"chapter": int(row["chapter"]), "model": str(row["model"]), "parameters": int(row["parameters"]),
            "numpy": _round(row["numpy"]), "torch": _round(row["torch"])}


def update_results(path, *, chapter: int, rows) -> list[dict]:
    """Replace the rows of ``chapter`` in ``path`` by ``rows`` (others kept), write, return all rows.

    Rows are ordered by chapter, then as given; losses are rounded to 3 decimals. The file is
    rewritten only if its content changes.
    """
    path = _check_path(path, "update_results")
    validation.positive_int(chapter, "chapter", "update_results")
    if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, (list, tuple)) or not rows \
            or not all(isinstance(row, dict) for row in rows):
        raise ConfigError(f"update_results: rows must be a non-empty list of dicts (one per model), got "
                          f"{type(rows).__name__} {rows!r:.60}")
    new = [_check_row({**row, "chapter": chapter}, "update_results") for row in rows]
    kept = [row for row in load_results(path) if row["chapter"] != chapter]
    merged = sorted(kept + new, key=lambda row: row["chapter"])     # stable: order within a chapter kept
    text = json.dumps({"unit": "test loss, nats per character", "rows": merged}, indent=1) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        # write a temporary file, then rename it over the table: a reader (another chapter running at
        # the same time) sees the old table or the new one, never half of one
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    return merged


def _check_rows(rows, who):
    """``rows`` must be a list of row dicts with every column (what load_results / update_results return)."""
    if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, (list, tuple)) \
            or not all(isinstance(row, dict) for row in rows):
        raise ConfigError(f"{who}: rows must be a list of dicts, one per model, such as update_results(...) or "
                          f"load_results(path) returns, got {type(rows).__name__} {rows!r:.60}")
    for row in rows:
        missing = [c for c in _COLUMNS if c not in row]
        if missing:
            raise ConfigError(f"{who}: a row of rows lacks {missing}: every row needs {list(_COLUMNS)}, "
                              f"got {row!r:.80}")


def _cells(rows):
    header = ["ch.", "model", "parameters", "NumPy", "PyTorch"]
    body = [[str(r["chapter"]), r["model"], f"{r['parameters']:,}",
             "-" if r["numpy"] is None else f"{r['numpy']:.3f}",
             "-" if r["torch"] is None else f"{r['torch']:.3f}"] for r in rows]
    return header, body


def results_table(rows) -> str:
    """A plain-text table (test loss in nats/char, parameter count), one line per row."""
    _check_rows(rows, "results_table")
    header, body = _cells(rows)
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    align = ["<", "<", ">", ">", ">"]
    lines = ["  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, align, widths)) for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def results_markdown(rows) -> str:
    """The same table in Markdown (``IPython.display.Markdown(results_markdown(rows))``)."""
    _check_rows(rows, "results_markdown")
    header, body = _cells(rows)
    lines = ["| " + " | ".join(header) + " |", "|---|---|--:|--:|--:|"]
    lines += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(lines)
