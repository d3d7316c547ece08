"""Chapter 12's depth and initialization explorer in the built book, in headless Chromium, with no kernel.

The precomputed explorer (depth x activation x init) must render, and each control must switch the
picture in the browser alone (``jslink`` to nested ``Stack`` widgets).
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/12_deep_networks.html"


def _depth_slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "Depth" in s.text]
    return sliders[0] if sliders else None


def _button(browser, text):
    from selenium.webdriver.common.by import By
    return next((b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                 if b.text.strip() == text), None)


def _shown_image(browser):
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible explorer picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def test_depth_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    slider = _wait(lambda: _depth_slider(browser), what="the depth slider (widget manager loaded?)")
    assert _readout(slider) == "20"
    first = _wait(lambda: _shown_image(browser), what="the explorer picture")
    digests = {_digest(browser, first)}
    seen = {first}

    _press(browser, slider, Keys.ARROW_RIGHT)                        # 20 -> 50
    _wait(lambda: _readout(_depth_slider(browser)) == "50", what="depth readout 50")
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what="a new picture at depth 50")
    seen.add(src)
    digests.add(_digest(browser, src))

    for text in ("relu", "He/Kaiming"):
        button = _wait(lambda: _button(browser, text), what=f"the {text!r} button")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what=f"a new picture for {text!r}")
        seen.add(src)
        digests.add(_digest(browser, src))
    assert len(digests) == 4, "each (depth, activation, init) must show its own picture"
    browser.save_screenshot(str(artifacts_dir / "ch12-depth-explorer.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 12 page:\n" + "\n".join(errors)
