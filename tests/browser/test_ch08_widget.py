"""Chapter 8's temperature slider in the built book, in headless Chromium, with no kernel behind it.

The precomputed widget (names sampled at seven temperatures) must render, and moving the slider must
switch the picture in the browser alone (``jslink`` to a ``Stack`` of images). Screenshots before and
after go to ``artifacts_dir``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.browser

PAGE = "chapters/08_sequences.html"


def _wait(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "temperature" in s.text]
    return sliders[0] if len(sliders) == 1 else None


def _shown_image(browser):
    """The ``src`` of the one visible sample picture (the selected child of the Stack)."""
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible sample picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def _digest(browser, src):
    """SHA-256 of the picture behind ``src`` (blob URLs are renewed when a Stack re-renders)."""
    return browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => crypto.subtle.digest('SHA-256', b))
          .then(h => done(Array.from(new Uint8Array(h)).map(x => x.toString(16).padStart(2, '0')).join('')))
          .catch(e => done('error: ' + e));""", src)


def _readout(slider):
    from selenium.webdriver.common.by import By
    return slider.find_element(By.CSS_SELECTOR, ".widget-readout").text.strip()


def _press(browser, slider, key, times=1):
    from selenium.webdriver.common.by import By
    handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
    for _ in range(times):
        handle.send_keys(key)
        time.sleep(0.15)


def test_temperature_slider_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    slider = _wait(lambda: _slider(browser), what="the temperature slider to render (widget manager loaded?)")
    assert _readout(slider) == "0.8"                                   # the default
    first = _wait(lambda: _shown_image(browser), what="the sampled names picture")
    assert first.startswith(("data:image/png", "blob:")), first[:40]
    first_digest = _digest(browser, first)
    assert len(first_digest) == 64, first_digest
    browser.save_screenshot(str(artifacts_dir / "ch08-temperature-before.png"))

    digests = {first_digest}
    seen = {first}
    for expected in ("1.0", "1.3"):
        _press(browser, slider, Keys.ARROW_RIGHT)
        _wait(lambda: _readout(slider) == expected, what=f"temperature readout {expected}")
        src = _wait(lambda: (s := _shown_image(browser)) not in seen and s,
                    what=f"a new picture for temperature {expected}")
        seen.add(src)
        digests.add(_digest(browser, src))
    assert len(digests) == 3, "each temperature must show its own names"
    browser.save_screenshot(str(artifacts_dir / "ch08-temperature-after.png"))

    _press(browser, slider, Keys.ARROW_LEFT, times=2)
    _wait(lambda: _readout(slider) == "0.8", what="back to temperature 0.8")
    assert _digest(browser, _shown_image(browser)) == first_digest

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 8 page:\n" + "\n".join(errors)
