"""tools/check-reproducible.sh (strict nbval under a matrix of emulated CPUs) and the extra-kernel run
of tools/test-all.sh: the matrix, the skipping of settings a CPU cannot run, and the table of failing
cells, on two tiny notebooks (one whose stored output holds, one whose output does not)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "check-reproducible.sh"


def run(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=600)


def test_the_matrix():
    listed = run("--list")
    assert listed.returncode == 0, listed.stderr
    settings = dict(line.split(None, 1) for line in listed.stdout.strip().splitlines())
    for core in ("Haswell", "SkylakeX", "Zen", "Sandybridge"):
        assert settings[f"coretype-{core}"] == f"OPENBLAS_CORETYPE={core}"
    assert settings["aten-default"] == "ATEN_CPU_CAPABILITY=default"
    assert settings["aten-avx2"] == "ATEN_CPU_CAPABILITY=avx2"
    assert settings["threads-2"] == "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2"
    assert settings["numpy-simd-baseline"].startswith("NPY_DISABLE_CPU_FEATURES=")


def _notebook(path: Path, stored: str) -> Path:
    cell = nbformat.v4.new_code_cell("print(2 + 2)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb")
    return _notebook(folder / "holds.ipynb", "4\n"), _notebook(folder / "breaks.ipynb", "5\n")


def test_a_failing_cell_is_listed_per_setting(notebooks, tmp_path):
    holds, breaks = notebooks
    result = run("--serial", "--only", "threads-1,threads-2", str(holds), str(breaks),
                 env={"NNCOURSE_ARTIFACTS": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    summary = (tmp_path / "reproducible" / "summary.txt").read_text()
    assert re.search(r"threads-1\s+1 failing of\s+2 cells", summary), summary
    assert re.search(r"threads-2\s+1 failing of\s+2 cells", summary), summary
    cells = summary.split("\n\n", 1)[1]                  # the failing cells, setting by setting
    assert cells.count("breaks.ipynb::Cell 0") == 2 and "holds.ipynb" not in cells
    assert "coretype-" not in summary  # --only ran only the named settings


def test_settings_the_cpu_cannot_run_are_skipped(notebooks, tmp_path):
    holds, _ = notebooks
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx\n")
    result = run("--serial", "--only", "coretype-SkylakeX,coretype-Haswell,coretype-Sandybridge", str(holds),
                 env={"NNCOURSE_ARTIFACTS": str(tmp_path), "NNCOURSE_CPUINFO": str(cpuinfo)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIP coretype-SkylakeX: this CPU has no avx512f" in result.stdout
    assert "SKIP coretype-Haswell: this CPU has no" in result.stdout
    assert re.search(r"coretype-Sandybridge\s+0 failing of\s+1 cells", result.stdout), result.stdout


def test_ci_runs_every_notebook_once_under_another_kernel():
    text = (REPO / "tools" / "test-all.sh").read_text()
    assert 'extra="${NNCOURSE_EXTRA_CORETYPE:-Sandybridge}"' in text
    assert 'kernels=(env OPENBLAS_CORETYPE="$extra")' in text
    run = text[text.index('"${kernels[@]}"} python -m pytest'):]
    assert " tests chapters exercises solutions --nbval" in run
    assert text.count("python -m pytest") == 1             # one session: no notebook is executed twice
    assert 'exit "$status"' in text


def test_ci_refuses_a_kernel_name_openblas_would_ignore():
    """OpenBLAS runs its native kernels when OPENBLAS_CORETYPE holds a name it does not know; test-all.sh
    must say so before it installs or runs anything."""
    env = dict(os.environ, NNCOURSE_EXTRA_CORETYPE="Sandybrige")
    result = subprocess.run(["bash", str(REPO / "tools" / "test-all.sh")], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "NNCOURSE_EXTRA_CORETYPE=Sandybrige is not an OpenBLAS x86 core type" in result.stderr
    assert "use Sandybridge (the default)" in result.stderr
