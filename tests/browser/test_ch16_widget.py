"""Chapter 16's rotary-positions explorer in the built book, in headless Chromium, with no kernel.

Both sliders (the query's position, the pair of features) must switch the picture in the browser alone
(``jslink`` to nested ``Stack`` widgets)."""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/16_modern_blocks.html"


def _slider(browser, label):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if label in s.text]
    return sliders[0] if sliders else None


def _shown_image(browser):
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible explorer picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def test_rotary_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    position = _wait(lambda: _slider(browser, "Query position"), what="the position slider (widget manager loaded?)")
    assert _readout(position) == "6"
    first = _wait(lambda: _shown_image(browser), what="the explorer picture")
    seen, digests = {first}, {_digest(browser, first)}

    _press(browser, position, Keys.ARROW_RIGHT)                       # m = 6 -> 7
    _wait(lambda: _readout(_slider(browser, "Query position")) == "7", what="position readout 7")
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what="a new picture at m = 7")
    seen.add(src)
    digests.add(_digest(browser, src))

    pair = _wait(lambda: _slider(browser, "Pair i"), what="the pair slider")
    _press(browser, pair, Keys.ARROW_RIGHT)                           # pair 0 -> 1
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what="a new picture for pair 1")
    digests.add(_digest(browser, src))
    assert len(digests) == 3, "each (position, pair) must show its own picture"
    browser.save_screenshot(str(artifacts_dir / "ch16-rotary-explorer.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 16 page:\n" + "\n".join(errors)
