"""Chapter 13's backward-pass stepper in the built book, in headless Chromium, with no kernel.

The precomputed stepper must render, and moving its slider with the keyboard must switch the picture
of the graph in the browser alone (``jslink`` from the slider to a ``Stack``); going back shows the
first picture again. Screenshots go to ``artifacts_dir``.
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/13_autograd.html"


def _step_slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "backward step" in s.text]
    return sliders[0] if sliders else None


def _shown_image(browser):
    """The ``src`` of the one stepper picture that is visible (the Stack's selected child)."""
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible stepper picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def test_backward_stepper_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    slider = _wait(lambda: _step_slider(browser), what="the backward-step slider (widget manager loaded?)")
    assert _readout(slider) == "0"
    first = _wait(lambda: _shown_image(browser), what="the first picture of the graph")
    assert first.startswith(("data:image/png", "blob:")), first[:40]
    first_digest = _digest(browser, first)
    assert len(first_digest) == 64, first_digest
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
    browser.save_screenshot(str(artifacts_dir / "ch13-stepper-before.png"))

    seen, digests = {first}, {first_digest}
    for step in (1, 2, 3):
        _press(browser, _step_slider(browser), Keys.ARROW_RIGHT)
        _wait(lambda: _readout(_step_slider(browser)) == str(step), what=f"step readout {step}")
        src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what=f"a new picture for step {step}")
        seen.add(src)
        digests.add(_digest(browser, src))
    assert len(digests) == 4, "each step of the backward pass must show its own picture"
    browser.save_screenshot(str(artifacts_dir / "ch13-stepper-after.png"))

    _press(browser, _step_slider(browser), Keys.ARROW_LEFT, times=3)
    _wait(lambda: _readout(_step_slider(browser)) == "0", what="step readout back to 0")
    _wait(lambda: _digest(browser, _shown_image(browser)) == first_digest, what="the first picture again")

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 13 page:\n" + "\n".join(errors)
