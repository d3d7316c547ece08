"""What the browser tests do to a static widget in the built book: wait for it, move a slider with the
keyboard, read a slider's value, and fingerprint the picture it shows. Shared by ``tests/browser``."""

from __future__ import annotations

import time


def wait(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def image_digest(browser, src):
    """SHA-256 of the picture behind ``src`` (blob URLs are renewed when a Stack re-renders)."""
    return browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest('SHA-256', b))
          .then(h => done(Array.from(new Uint8Array(h)).map(x => x.toString(16).padStart(2, '0')).join('')))
          .catch(e => done('error: ' + e));""", src)


def readout(slider):
    from selenium.webdriver.common.by import By
    return slider.find_element(By.CSS_SELECTOR, ".widget-readout").text.strip()


def press(browser, slider, key, times=1):
    """Focus the slider's handle and press an arrow key, as a reader using the keyboard would."""
    from selenium.webdriver.common.by import By
    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    for _ in range(times):
        handle.send_keys(key)
        time.sleep(0.15)
