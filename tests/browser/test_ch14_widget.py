"""Chapter 14's token explorer in the built book, in headless Chromium, with no kernel behind it.

The precomputed explorer (example text x vocabulary size) must render, and both controls must switch
the coloured tokens in the browser alone (``jslink`` to nested ``Stack`` widgets): a larger vocabulary
shows fewer tokens for the same text, another example shows another text.
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/14_tokenization.html"


def _slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "vocabulary" in s.text]
    return sliders[0] if sliders else None


def _shown_tokens(browser):
    """The tokens of the one visible row (the selected child of the nested stacks), as a tuple."""
    from selenium.webdriver.common.by import By
    rows = [r for r in browser.find_elements(By.CSS_SELECTOR, ".widget-html .token-row") if r.is_displayed()]
    if len(rows) != 1:
        return None
    return tuple(span.text for span in rows[0].find_elements(By.CSS_SELECTOR, "span.token"))


def test_token_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    slider = _wait(lambda: _slider(browser), what="the explorer's vocabulary slider (widget manager loaded?)")
    assert _readout(slider) == "1024"
    first = _wait(lambda: _shown_tokens(browser), what="the first row of tokens")
    assert "".join(first).replace("␣", " ") == "To be, or not to be: that is the question."

    _press(browser, slider, Keys.ARROW_RIGHT)                       # 1024 -> 4096
    _wait(lambda: _readout(slider) == "4096", what="vocabulary readout 4096")
    bigger = _wait(lambda: (t := _shown_tokens(browser)) != first and t, what="tokens for 4096")
    assert len(bigger) <= len(first) and "".join(bigger) == "".join(first)

    _press(browser, slider, Keys.ARROW_LEFT, times=3)               # -> 256: bytes alone
    _wait(lambda: _readout(slider) == "256", what="vocabulary readout 256")
    single = _wait(lambda: (t := _shown_tokens(browser)) not in (first, bigger) and t, what="byte tokens")
    assert len(single) == len("To be, or not to be: that is the question.")

    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                  if b.text.strip() == "numbers")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    numbers = _wait(lambda: (t := _shown_tokens(browser)) != single and t, what="the tokens of the numbers example")
    assert "".join(numbers).startswith("In␣1599")
    browser.save_screenshot(str(artifacts_dir / "ch14-token-explorer.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 14 page:\n" + "\n".join(errors)
