"""Chapter 8's temperature slider in the built book, in headless Chromium, with no kernel behind it.

The precomputed widget (names sampled at seven temperatures) must render, and moving the slider must
switch the picture in the browser alone (``jslink`` to a ``Stack`` of images). Screenshots before and
after go to ``artifacts_dir``.
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/08_sequences.html"


def _slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "temperature" in s.text]
    return sliders[0] if len(sliders) == 1 else None


def _shown_image(browser):
    """The ``src`` of the one visible sample picture (the selected child of the slider's Stack)."""
    from selenium.webdriver.common.by import By
    box = _slider(browser).find_element(By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]")
    shown = [img for img in box.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible sample picture, found {len(shown)}"
    return shown[0].get_attribute("src")


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


def test_next_character_buttons_respond_without_a_kernel(site_url, browser):
    from selenium.webdriver.common.by import By

    browser.get(site_url + PAGE)
    buttons = _wait(lambda: [b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                             if b.text.strip() in ("(start)", "'mc'")] or None,
                    what="the prefix buttons of the next-character widget")
    box = buttons[0].find_element(By.XPATH, "./ancestor::div[contains(@class, 'widget-vbox')][1]")

    def shown():
        images = [img for img in box.find_elements(By.CSS_SELECTOR, ".widget-image")
                  if img.is_displayed() and img.size["width"] > 100]
        return images[0].get_attribute("src") if len(images) == 1 else None

    first = _wait(shown, what="the next-character picture")
    first_digest = _digest(browser, first)
    mc = [b for b in buttons if b.text.strip() == "'mc'"][0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", mc)
    mc.click()
    src = _wait(lambda: (s := shown()) != first and s, what="a new picture after clicking 'mc'")
    assert _digest(browser, src) != first_digest
