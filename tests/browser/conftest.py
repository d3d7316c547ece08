"""Fixtures for testing the built book in a real (headless) Chromium, as a reader would see it.

The book must be built first (``tools/test-all.sh`` builds it before running pytest):
``_build/html/index.html`` has to exist. ``NNCOURSE_SITE_DIR`` points the tests at another built site.

Chromium and ChromeDriver come from the system (``apt-get install chromium chromium-driver``; paths
overridable with ``CHROMIUM`` and ``CHROMEDRIVER``). When they are missing the browser tests are
skipped on a developer machine and FAIL in CI (environment variable ``CI`` set), so CI cannot pass
without having looked at the site.

Only the offline test needs the book's local JavaScript (``node_modules/``, installed by
``tools/setup.sh`` when npm is there): it asks for the ``local_js`` fixture, which says what is
missing (no npm / no ``npm ci`` yet / which files), and likewise skips locally and fails in CI.
Without Node.js every other browser test runs against the CDN JavaScript.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: Logged on every page by a double injection of sphinx-thebe's configuration: known and harmless.
HARMLESS_CONSOLE_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)

CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


def site_dir() -> Path:
    return Path(os.environ.get("NNCOURSE_SITE_DIR", REPO / "_build" / "html")).resolve()


def _find(env: str, *candidates: str) -> str | None:
    if os.environ.get(env):
        value = os.environ[env]
        return value if os.path.isfile(value) else shutil.which(value)
    for name in candidates:
        found = shutil.which(name) or (name if os.path.isfile(name) else None)
        if found:
            return found
    return None


def chromium_paths() -> tuple[str | None, str | None]:
    browser = _find("CHROMIUM", "/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
    driver = _find("CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")
    return browser, driver


def _missing(reason: str):
    """Skip on a developer machine, fail in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


def _required_js() -> list[str]:
    """The npm files the book needs to serve its JavaScript itself (the book extension's own list)."""
    spec = importlib.util.spec_from_file_location("offline_js", REPO / "_ext" / "offline_js.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module._REQUIRED)


def local_js_missing() -> str | None:
    """What keeps the book from serving its own JavaScript, in words; None when nothing does."""
    node_modules = REPO / "node_modules"
    if not node_modules.is_dir():
        if shutil.which("npm"):
            how = "run bash tools/setup.sh (it runs npm ci), then rebuild the book"
        else:
            how = "npm was not found: install Node.js (with npm), run bash tools/setup.sh, then rebuild the book"
        return (f"node_modules/ is missing, so the book loads its JavaScript from CDNs and cannot be tested "
                f"offline: {how}")
    absent = [rel for rel in _required_js() if not (node_modules / rel).is_file()]
    if absent:
        return f"node_modules/ lacks {', '.join(absent)}: run npm ci (bash tools/setup.sh), then rebuild the book"
    return None


@pytest.fixture(scope="session")
def local_js() -> Path:
    """``node_modules/`` with the book's local JavaScript; skips (locally) or fails (CI) saying what is missing."""
    reason = local_js_missing()
    if reason:
        _missing(reason)
    return REPO / "node_modules"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The folder of the built book; fails clearly when the book has not been built."""
    root = site_dir()
    if not (root / "index.html").is_file():
        pytest.fail(
            f"{root / 'index.html'} is missing: build the book first "
            "(bash tools/build-book.sh; tools/test-all.sh does it before running pytest)",
            pytrace=False,
        )
    return root


@pytest.fixture(scope="session")
def site_url(built_site: Path):
    """Serve the built book on 127.0.0.1 (a free port) from a background thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go: $NNCOURSE_ARTIFACTS, or ./artifacts."""
    path = Path(os.environ.get("NNCOURSE_ARTIFACTS", "artifacts")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Selenium, capturing the console log (``browser.get_log``)."""
    chrome, driver_path = chromium_paths()
    if not chrome or not driver_path:
        _missing(
            "Chromium/ChromeDriver not found (apt-get install chromium chromium-driver, "
            "or set CHROMIUM and CHROMEDRIVER)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - selenium is in requirements.txt
        _missing("selenium is not installed")

    profile = tempfile.mkdtemp(prefix="nncourse-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_entries(driver) -> list[dict]:
    """The console entries logged since the last call (reading the log empties it)."""
    return driver.get_log("browser")


def severe_console_errors(driver, entries: list[dict] | None = None) -> list[str]:
    """Messages of SEVERE console entries (errors, uncaught exceptions, failed loads), minus the
    known harmless ones."""
    if entries is None:
        entries = console_entries(driver)
    return [
        e["message"]
        for e in entries
        if e.get("level") == "SEVERE" and not any(h in e.get("message", "") for h in HARMLESS_CONSOLE_ERRORS)
    ]


@pytest.fixture(scope="session")
def console_errors():
    """``console_errors(driver)`` -> the severe console messages since the last read, minus the
    harmless ones (a fixture, so that test modules need not import this conftest)."""
    return severe_console_errors
