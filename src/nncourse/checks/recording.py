"""Recording results for the command line: one JSON line per check, in the file named by
``NNCOURSE_CHECKS_RECORD`` (``python -m nncourse.checks`` sets it for the kernel it starts)."""

from __future__ import annotations

import json
import os

from .results import CheckResult

RECORD_ENV = "NNCOURSE_CHECKS_RECORD"


def record(result: CheckResult) -> None:
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    except OSError:  # recording is a convenience for the command line; never break a check for it
        pass
