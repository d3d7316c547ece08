"""ruff, configured in pyproject.toml, finds nothing in the code (src, tests, tools, benchmarks, _ext)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ["src", "tests", "tools", "benchmarks", "_ext"]


def _ruff():
    found = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("ruff is not installed: pip install -r requirements.txt (it lists ruff)", pytrace=False)
    return found


def test_ruff_finds_nothing():
    result = subprocess.run([_ruff(), "check", "--no-cache", *FOLDERS], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, f"ruff check found problems (fix them, or run ruff check --fix):\n{result.stdout}"


def test_ruff_is_configured_for_the_project():
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.ruff]" in text and "line-length = 120" in text


def test_ruff_would_see_a_problem(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    result = subprocess.run([_ruff(), "check", "--no-cache", "--config", str(REPO / "pyproject.toml"), str(bad)],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "F401" in result.stdout
