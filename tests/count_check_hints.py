"""Count the wrong answers in the tests of the exercise checks, and how many get a hint that names the mistake.

    python tests/count_check_hints.py                    # chapters 7-15, a table and the totals
    python tests/count_check_hints.py --min 80           # exit 1 below 80 % specific, or if one is let through
    python tests/count_check_hints.py tests/test_checks_ch07.py

It runs the given test files (default: ``tests/test_checks_ch07.py`` ... ``ch15.py``) with pytest in
this process. Every result a test hands to ``check_helpers.assert_hint`` is a plausible wrong answer;
``assert_hint`` keeps it before asserting anything, so an answer that the check lets through is counted
too (as not caught), whether or not its test then fails. A wrong answer is

* **caught** when the check did not pass it;
* **specific** when the check's report carries a hint and that hint is not the check's general
  fallback: a failure from ``Tester.close`` / ``Tester.equal`` that matched none of the plausible
  mistakes is marked ``generic`` by the framework ("should be X, yours returns Y", with at most the
  check's general ``hint=``), and does not count, whatever the hint says.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DEFAULT_FILES = [HERE / f"test_checks_ch{n:02d}.py" for n in range(7, 16)]

sys.path.insert(0, str(HERE))
import check_helpers  # noqa: E402  (the very module the tests import: pytest puts tests/ on the path too)


def classify(result) -> str:
    """``"passed"`` (let through), ``"generic"`` (caught, no named mistake) or ``"specific"``."""
    if result.passed:
        return "passed"
    if result.hint is None or getattr(result, "generic", False):
        return "generic"
    return "specific"


def count(files: list[str]) -> tuple[dict[str, collections.Counter], list[tuple[str, object]], int]:
    check_helpers.WRONG_ANSWERS.clear()
    status = pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", *files])
    per_check: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for _test, result in check_helpers.WRONG_ANSWERS:
        per_check[f"{result.module.rsplit('.', 1)[-1]}.{result.name}"][classify(result)] += 1
    return per_check, list(check_helpers.WRONG_ANSWERS), int(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=[str(f) for f in DEFAULT_FILES])
    parser.add_argument("--min", type=float, default=None, help="fail below this percentage of specific hints")
    parser.add_argument("--list", action="store_true", help="list the wrong answers that get no specific hint")
    args = parser.parse_args(argv)
    per_check, answers, status = count(args.files)
    print(f"\n{'check':34s} {'wrong':>6s} {'caught':>7s} {'specific':>9s}")
    totals = collections.Counter()
    for name in sorted(per_check):
        c = per_check[name]
        n = sum(c.values())
        totals.update(c)
        print(f"{name:34s} {n:6d} {n - c['passed']:7d} {c['specific']:9d}")
    n = sum(totals.values())
    caught, specific = n - totals["passed"], totals["specific"]
    share = 100.0 * specific / n if n else 0.0
    print(f"{'total':34s} {n:6d} {caught:7d} {specific:9d}   ({share:.1f} % with a specific hint)")
    if args.list:
        for test, result in answers:
            kind = classify(result)
            if kind != "specific":
                print(f"  [{kind}] {test}: {result.message} | hint: {result.hint}")
    if status not in (0, 1):
        print(f"pytest could not run the tests (exit status {status})")
        return 2
    if args.min is not None and (share < args.min or caught < n):
        print(f"FAILED: {caught} of {n} caught, {share:.1f} % specific (wanted every one caught and >= {args.min} %)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
