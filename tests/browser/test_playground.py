"""The playground page of the built book, in headless Chromium, with no kernel behind it.

The precomputed playground (learning rate x hidden layers) must render, and moving either slider must
switch the picture in the browser alone (``jslink`` to nested ``Stack`` widgets). Screenshots before
and after go to ``artifacts_dir``.
"""

from __future__ import annotations

import time

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/playground.html"


def _sliders(browser):
    """The two sliders of the static playground: (layers, learning rate), as widget elements."""
    from selenium.webdriver.common.by import By
    return browser.find_elements(By.CSS_SELECTOR, ".widget-slider")


def _shown_image(browser):
    """The ``src`` of the one playground picture that is visible (the selected child of the stacks)."""
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible playground picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def _screenshot(browser, element, path):
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", element)
    time.sleep(0.3)
    browser.save_screenshot(str(path))


def test_static_playground_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    sliders = _wait(lambda: len(_sliders(browser)) >= 2 and _sliders(browser),
                    what="the playground's two sliders to render (widget manager loaded?)")
    layers, lr = sliders[0], sliders[1]
    assert "Hidden layers" in layers.text and "Learning rate" in lr.text
    first = _wait(lambda: _shown_image(browser), what="the playground picture")
    assert first.startswith(("data:image/png", "blob:")), first[:40]
    first_digest = _digest(browser, first)
    assert len(first_digest) == 64, first_digest
    digests = {first_digest}
    assert _readout(layers) == "2" and _readout(lr) == "0.03"         # the defaults
    _screenshot(browser, layers, artifacts_dir / "playground-before.png")

    # learning rate 0.03 -> 0.3 -> 3: the picture changes each time, the readout shows the value
    seen = {first}
    for expected in ("0.3", "3.0"):
        _press(browser, lr, Keys.ARROW_RIGHT)
        _wait(lambda: _readout(lr) == expected, what=f"learning-rate readout {expected}")
        src = _wait(lambda: (s := _shown_image(browser)) not in seen and s,
                    what=f"a new picture for learning rate {expected}")
        seen.add(src)
        digests.add(_digest(browser, src))
    _screenshot(browser, layers, artifacts_dir / "playground-after-learning-rate.png")

    # hidden layers 2 -> 0 with the learning rate kept: again a different picture
    _press(browser, layers, Keys.ARROW_LEFT, times=2)
    _wait(lambda: _readout(layers) == "0", what="layers readout 0")
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s,
                what="a new picture for 0 hidden layers")
    seen.add(src)
    digests.add(_digest(browser, src))
    assert len(digests) == 4, "each combination must show its own picture"
    assert _readout(lr) == "3.0"        # the other slider is untouched
    _screenshot(browser, layers, artifacts_dir / "playground-after-layers.png")

    # and back: the first picture's combination shows the first picture's content again
    _press(browser, lr, Keys.ARROW_LEFT, times=2)
    _press(browser, layers, Keys.ARROW_RIGHT, times=2)
    _wait(lambda: _readout(lr) == "0.03" and _readout(layers) == "2", what="back to the defaults")
    assert _digest(browser, _shown_image(browser)) == first_digest

    errors = console_errors(browser)
    assert not errors, "console errors on the playground page:\n" + "\n".join(errors)
