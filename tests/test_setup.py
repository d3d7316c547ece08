"""tools/setup.sh on a machine without Node.js, and what the offline browser test says is missing.

The set-up runs in a scratch copy whose ``.venv`` is a stub that is already up to date, so nothing is
installed; only the npm branch runs. PATH holds just the few commands the script uses, with or
without a fake ``npm``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("bash", "cat", "cut", "dirname", "sha256sum", "mkdir")
NO_NPM_LINE = ("[setup] npm not found: the book will load its JavaScript (MathJax, widgets) from CDNs; "
               "install Node.js to serve it locally")


def _scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "setup.sh", repo / "tools" / "setup.sh")
    for name in ("requirements.txt", "pyproject.toml", "package-lock.json", "tools/install-no-deps.sh"):
        shutil.copy(ROOT / name, repo / name)
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text("#!/bin/sh\nexit 0\n")
    (venv_bin / "python").chmod(0o755)
    stamp = hashlib.sha256((repo / "requirements.txt").read_bytes() + (repo / "pyproject.toml").read_bytes()
                           + (repo / "tools" / "install-no-deps.sh").read_bytes())
    (repo / ".venv" / ".requirements.sha256").write_text(stamp.hexdigest() + "\n")
    return repo


def _bin_dir(tmp_path: Path, *, fake_npm: bool) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run tools/setup.sh"
        (bin_dir / tool).symlink_to(found)
    if fake_npm:  # records its arguments and installs nothing but the folder
        (bin_dir / "npm").write_text('#!/bin/sh\necho "$@" > npm-args.txt\nmkdir -p node_modules\n')
        (bin_dir / "npm").chmod(0o755)
    return bin_dir


def _setup(repo: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    env = {"PATH": str(bin_dir), "HOME": str(repo)}
    return subprocess.run([str(bin_dir / "bash"), "tools/setup.sh"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=60)


def test_setup_without_npm_succeeds_and_says_so_in_one_line(tmp_path):
    repo = _scratch_repo(tmp_path)
    result = _setup(repo, _bin_dir(tmp_path, fake_npm=False))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [NO_NPM_LINE]
    assert result.stderr == ""
    assert not (repo / "node_modules").exists()


def test_setup_with_npm_installs_the_local_javascript_once(tmp_path):
    repo = _scratch_repo(tmp_path)
    bin_dir = _bin_dir(tmp_path, fake_npm=True)
    first = _setup(repo, bin_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.splitlines() == ["[setup] installing the book's local JavaScript (npm ci)"]
    assert (repo / "npm-args.txt").read_text().split()[0] == "ci"
    assert _setup(repo, bin_dir).stdout == ""  # up to date: quiet


def _browser_conftest():
    spec = importlib.util.spec_from_file_location("browser_conftest", ROOT / "tests" / "browser" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_offline_browser_test_says_what_is_missing(tmp_path, monkeypatch):
    conftest = _browser_conftest()
    monkeypatch.setattr(conftest, "REPO", tmp_path)
    monkeypatch.setattr(conftest, "_required_js", lambda: ["requirejs/require.js"])
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    reason = conftest.local_js_missing()
    assert "node_modules/ is missing" in reason and "npm was not found: install Node.js" in reason
    (tmp_path / "node_modules").mkdir()
    assert conftest.local_js_missing() == ("node_modules/ lacks requirejs/require.js: run npm ci "
                                           "(bash tools/setup.sh), then rebuild the book")
    (tmp_path / "node_modules" / "requirejs").mkdir()
    (tmp_path / "node_modules" / "requirejs" / "require.js").write_text("")
    assert conftest.local_js_missing() is None


def test_the_offline_browser_test_fails_in_ci_and_skips_elsewhere(tmp_path, monkeypatch):
    conftest = _browser_conftest()
    monkeypatch.setattr(conftest, "REPO", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="node_modules/ is missing"):
        conftest._missing(conftest.local_js_missing())
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="node_modules/ is missing"):
        conftest._missing(conftest.local_js_missing())
