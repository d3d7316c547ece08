"""Chapter 11's regularization explorer in the built book, in headless Chromium, with no kernel.

The precomputed explorer (training digits x dropout x weight decay x augmentation) must render, and each
control must switch the picture in the browser alone (``jslink`` to nested ``Stack`` widgets).
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/11_generalization.html"


def _size_slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "Training digits" in s.text]
    return sliders[0] if sliders else None


def _button(browser, text):
    from selenium.webdriver.common.by import By
    return next((b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                 if b.text.strip() == text and b.is_displayed()), None)


def _shown_image(browser):
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible explorer picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def test_regularization_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    slider = _wait(lambda: _size_slider(browser), what="the training-digits slider (widget manager loaded?)")
    assert _readout(slider) == "500"
    first = _wait(lambda: _shown_image(browser), what="the explorer picture")
    digests = {_digest(browser, first)}
    seen = {first}

    _press(browser, slider, Keys.ARROW_RIGHT)                        # 500 -> 1,000
    _wait(lambda: _readout(_size_slider(browser)) == "1,000", what="training-digits readout 1,000")
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what="a new picture for 1,000 digits")
    seen.add(src)
    digests.add(_digest(browser, src))

    for text in ("0.3", "0.005", "2 shifted copies"):
        button = _wait(lambda: _button(browser, text), what=f"the {text!r} button")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what=f"a new picture for {text!r}")
        seen.add(src)
        digests.add(_digest(browser, src))
    assert len(digests) == 5, "each (size, dropout, weight decay, augmentation) must show its own picture"
    browser.save_screenshot(str(artifacts_dir / "ch11-regularization-explorer.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 11 page:\n" + "\n".join(errors)
