"""Finding the learner's own line in a traceback, and naming the notebook cell it is in."""

from __future__ import annotations

import linecache
import re
import sysconfig
import traceback
from pathlib import Path

_LIBRARY_DIRS = tuple(
    {str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib", "platlib")
     if (p := sysconfig.get_paths().get(key))}
    | {str(Path(__file__).resolve().parents[1])}  # the nncourse package itself
)
_CELL_FILE = re.compile(r"(ipykernel_\d+|<ipython-input-|<cell)")


def is_learner_file(filename: str) -> bool:
    if _CELL_FILE.search(filename):
        return True
    if filename.startswith("<"):
        return False
    try:
        resolved = str(Path(filename).resolve())
    except OSError:
        return True
    return not resolved.startswith(_LIBRARY_DIRS)


def learner_frame(exc: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of the traceback that belongs to the learner's own code."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if is_learner_file(frame.filename):
            return frame
    return None


def cell_source_of(frame: traceback.FrameSummary | None) -> str | None:
    """The whole text of the notebook cell the frame belongs to (IPython keeps it in linecache)."""
    if frame is None or not _CELL_FILE.search(frame.filename):
        return None
    lines = linecache.getlines(frame.filename)
    return "".join(lines) if lines else None


def _execution_count(filename: str) -> int | None:
    """The ``In [n]`` of the cell IPython compiled under ``filename`` (as its own tracebacks say), if known."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        number = shell.compile._filename_map.get(filename) if shell is not None else None
    except Exception:  # not in IPython, or an IPython without this map
        return None
    return number if isinstance(number, int) else None


def cell_label(source: str | None, execution_count: int | None = None) -> str:
    """How a message names a notebook cell: by the prompt Jupyter shows next to it, if known, and its
    first line of code, ``cell In[12] ("def relu(z):")``, else ``the cell starting "def relu(z):"``.
    The command line, which knows the cells' order, rewrites it as ``code cell 5 ("def relu(z):")``."""
    first = cell_first_line(source)
    if execution_count is not None:
        return f'cell In[{execution_count}] ("{first}")' if first else f"cell In[{execution_count}]"
    return f'the cell starting "{first}"' if first else "your cell"


def frame_cell_label(frame: traceback.FrameSummary | None) -> str:
    return cell_label(cell_source_of(frame), _execution_count(frame.filename) if frame is not None else None)


def cell_first_line(source: str | None) -> str:
    """The first line of a cell that is not blank, a comment or a magic, shortened to 40 characters."""
    for line in (source or "").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "%", "!")):
            return line if len(line) <= 40 else line[:37] + "..."
    return ""


def where(frame: traceback.FrameSummary | None) -> str:
    if frame is None:
        return ""
    if _CELL_FILE.search(frame.filename):
        place = f"line {frame.lineno} of {frame_cell_label(frame)}"
    else:
        place = f"line {frame.lineno} of {Path(frame.filename).name}"
    code = (frame.line or "").strip()
    if code:
        if len(code) > 60:
            code = code[:57] + "..."
        place += f": {code}"
    return f" ({place})"

