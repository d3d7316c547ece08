"""Chapter 7's kernel explorer in the built book, in headless Chromium, with no kernel behind it.

The precomputed explorer (preset kernel × digit) must render, and choosing another kernel or moving the
digit slider must switch the picture in the browser alone (``jslink`` to nested ``Stack`` widgets).
Screenshots before and after go to ``artifacts_dir``.
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/07_cnn.html"


def _kernel_buttons(browser):
    from selenium.webdriver.common.by import By
    return browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-buttons button")


def _digit_slider(browser):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider") if "Digit" in s.text]
    return sliders[0] if sliders else None


def _shown_image(browser):
    """The ``src`` of the one explorer picture that is visible (the selected child of the stacks)."""
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible explorer picture, found {len(shown)}"
    return shown[0].get_attribute("src")


def _click(browser, button):
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def test_kernel_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    buttons = _wait(lambda: len(_kernel_buttons(browser)) >= 2 and _kernel_buttons(browser),
                    what="the kernel buttons to render (widget manager loaded?)")
    names = [b.text.strip() for b in buttons]
    assert names[:3] == ["identity", "vertical edges", "horizontal edges"], names
    slider = _wait(lambda: _digit_slider(browser), what="the digit slider")
    assert _readout(slider) == "0"
    first = _wait(lambda: _shown_image(browser), what="the explorer picture")
    assert first.startswith(("data:image/png", "blob:")), first[:40]
    first_digest = _digest(browser, first)
    assert len(first_digest) == 64, first_digest
    digests = {first_digest}
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", buttons[0])
    browser.save_screenshot(str(artifacts_dir / "ch07-kernels-before.png"))

    # another kernel: another picture
    seen = {first}
    for index in (1, 4):
        _click(browser, _kernel_buttons(browser)[index])
        src = _wait(lambda: (s := _shown_image(browser)) not in seen and s,
                    what=f"a new picture for the kernel {names[index]!r}")
        seen.add(src)
        digests.add(_digest(browser, src))
    browser.save_screenshot(str(artifacts_dir / "ch07-kernels-after-kernel.png"))

    # another digit, same kernel: again a different picture
    _press(browser, _digit_slider(browser), Keys.ARROW_RIGHT, times=2)
    _wait(lambda: _readout(_digit_slider(browser)) == "2", what="digit readout 2")
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what="a new picture for digit 2")
    digests.add(_digest(browser, src))
    assert len(digests) == 4, "each (kernel, digit) must show its own picture"
    browser.save_screenshot(str(artifacts_dir / "ch07-kernels-after-digit.png"))

    # back to the first kernel and digit: the first picture's content again
    _click(browser, _kernel_buttons(browser)[0])
    _press(browser, _digit_slider(browser), Keys.ARROW_LEFT, times=2)
    _wait(lambda: _readout(_digit_slider(browser)) == "0", what="digit readout back to 0")
    _wait(lambda: _digest(browser, _shown_image(browser)) == first_digest, what="the first picture again")

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 7 page:\n" + "\n".join(errors)
