"""Chapter 10's sampling explorer in the built book, in headless Chromium, with no kernel behind it.

The precomputed explorer (temperature x top-k x prefix) must render, and each control must switch the
list of sampled names in the browser alone (``jslink`` to nested ``Stack`` widgets).
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/10_transformer.html"


def _sliders(browser):
    from selenium.webdriver.common.by import By
    return browser.find_elements(By.CSS_SELECTOR, ".widget-slider")


def _shown_names(browser):
    """The names of the one visible list (the selected child of the nested stacks)."""
    from selenium.webdriver.common.by import By
    lists = [ul for ul in browser.find_elements(By.CSS_SELECTOR, ".widget-html ul") if ul.is_displayed()]
    if len(lists) != 1:
        return None
    return tuple(li.text.strip() for li in lists[0].find_elements(By.TAG_NAME, "li"))


def test_sampling_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    sliders = _wait(lambda: len(_sliders(browser)) >= 2 and _sliders(browser),
                    what="the explorer's two sliders to render (widget manager loaded?)")
    temperature, top_k = sliders[0], sliders[1]
    assert "temperature" in temperature.text and "top-k" in top_k.text
    assert _readout(temperature) == "1.0" and _readout(top_k) == "all"
    first = _wait(lambda: _shown_names(browser), what="the first list of names")
    assert len(first) == 12
    seen = {first}

    _press(browser, temperature, Keys.ARROW_RIGHT)                  # 1.0 -> 1.5
    _wait(lambda: _readout(temperature) == "1.5", what="temperature readout 1.5")
    hot = _wait(lambda: (n := _shown_names(browser)) not in seen and n, what="new names at T = 1.5")
    seen.add(hot)

    _press(browser, top_k, Keys.ARROW_RIGHT, times=4)               # all -> 1: greedy
    _wait(lambda: _readout(top_k) == "1", what="top-k readout 1")
    greedy = _wait(lambda: (n := _shown_names(browser)) not in seen and n, what="names with top-k = 1")
    assert len(set(greedy)) == 1, "top-k = 1 always takes the most likely letter: every sample is the same"
    seen.add(greedy)

    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button") if b.text.strip() == "mc")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    prefixed = _wait(lambda: (n := _shown_names(browser)) not in seen and n, what="names for the prefix 'mc'")
    assert all(name.startswith("mc") for name in prefixed), prefixed
    browser.save_screenshot(str(artifacts_dir / "ch10-sampling-explorer.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 10 page:\n" + "\n".join(errors)
