"""Chapter 15's scaling calculator in the built book, in headless Chromium, with no kernel behind it.

Every control must switch the table in the browser alone (``jslink`` to nested ``Stack`` widgets), and
the figures shown must be the calculator's arithmetic for the setting shown.
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, readout as _readout, press as _press

from nncourse.widgets.scaling import calculator_table

pytestmark = pytest.mark.browser

PAGE = "chapters/15_scaling.html"


def _sliders(browser):
    from selenium.webdriver.common.by import By
    return browser.find_elements(By.CSS_SELECTOR, ".widget-slider")


def _shown(browser):
    """The figures of the one visible table, as a tuple of strings (None until exactly one shows)."""
    from selenium.webdriver.common.by import By
    tables = [t for t in browser.find_elements(By.CSS_SELECTOR, "table.scaling-calculator") if t.is_displayed()]
    if len(tables) != 1:
        return None
    return tuple(b.text.strip() for b in tables[0].find_elements(By.TAG_NAME, "b"))


def _figures(n_params, tokens, workers, dtype):
    import re
    return tuple(re.findall(r"<b class='calc-\d'>([^<]*)</b>", calculator_table(n_params, tokens, workers, dtype)))


def test_scaling_calculator_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    sliders = _wait(lambda: len(_sliders(browser)) >= 3 and _sliders(browser),
                    what="the calculator's three sliders to render (widget manager loaded?)")
    params, tokens, workers = sliders[:3]
    assert "parameters" in params.text and "tokens" in tokens.text and "workers" in workers.text
    assert _readout(params) == "124M (GPT-2)" and _readout(workers) == "2"
    first = _wait(lambda: _shown(browser), what="the first table")
    assert first == _figures(124_000_000, 1024, 2, "float32")

    _press(browser, workers, Keys.ARROW_RIGHT, times=2)               # 2 -> 8 workers
    _wait(lambda: _readout(workers) == "8", what="workers readout 8")
    eight = _wait(lambda: (s := _shown(browser)) != first and s, what="the table for 8 workers")
    assert eight == _figures(124_000_000, 1024, 8, "float32")

    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                  if b.text.strip() == "bfloat16")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    half = _wait(lambda: (s := _shown(browser)) != eight and s, what="the table in bfloat16")
    assert half == _figures(124_000_000, 1024, 8, "bfloat16")

    _press(browser, params, Keys.ARROW_RIGHT, times=3)                # 124M -> 7B
    _wait(lambda: _readout(params) == "7B", what="parameters readout 7B")
    big = _wait(lambda: (s := _shown(browser)) != half and s, what="the table for 7B parameters")
    assert big == _figures(7_000_000_000, 1024, 8, "bfloat16")
    browser.save_screenshot(str(artifacts_dir / "ch15-scaling-calculator.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 15 page:\n" + "\n".join(errors)
