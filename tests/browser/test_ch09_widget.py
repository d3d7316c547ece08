"""Chapter 9's attention-map explorer in the built book, in headless Chromium, with no kernel.

The precomputed explorer (input sequence x layer x head) must render, and clicking a head, a layer or
an input must switch the heatmap in the browser alone (``jslink`` from ``ToggleButtons`` to nested
``Stack`` widgets). Screenshots go to ``artifacts_dir``.
"""

from __future__ import annotations

import pytest
from widget_browser import wait as _wait, image_digest as _digest

pytestmark = pytest.mark.browser

PAGE = "chapters/09_attention.html"


def _groups(browser):
    """The explorer's three ToggleButtons groups (Input, Layer, Head), in page order."""
    from selenium.webdriver.common.by import By
    return browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-buttons")


def _buttons(group):
    from selenium.webdriver.common.by import By
    return group.find_elements(By.CSS_SELECTOR, "button")


def _selected(group):
    return [b.text.strip() for b in _buttons(group) if "mod-active" in (b.get_attribute("class") or "")]


def _shown_image(browser):
    """The ``src`` of the one heatmap that is visible (the selected child of the nested stacks)."""
    from selenium.webdriver.common.by import By
    shown = [img for img in browser.find_elements(By.CSS_SELECTOR, ".widget-image")
             if img.is_displayed() and img.size["width"] > 100]
    assert len(shown) == 1, f"expected exactly one visible heatmap, found {len(shown)}"
    return shown[0].get_attribute("src")


def _click(browser, group, label):
    button = next(b for b in _buttons(group) if b.text.strip() == label)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    _wait(lambda: _selected(group) == [label], what=f"button {label!r} to be selected")


def _new_picture(browser, seen, what):
    src = _wait(lambda: (s := _shown_image(browser)) not in seen and s, what=f"a new heatmap for {what}")
    seen.add(src)
    return _digest(browser, src)


def test_attention_explorer_responds_without_a_kernel(site_url, browser, artifacts_dir, console_errors):
    browser.get(site_url + PAGE)
    groups = _wait(lambda: len(_groups(browser)) >= 3 and _groups(browser),
                   what="the explorer's three button groups (widget manager loaded?)")
    inputs, layers, heads = groups[:3]
    assert [b.text.strip() for b in _buttons(heads)] == ["head 0", "head 1", "mean of heads"]
    assert [b.text.strip() for b in _buttons(layers)] == ["0", "1"]
    assert len(_buttons(inputs)) == 4
    first = _wait(lambda: _shown_image(browser), what="the first heatmap")
    assert first.startswith(("data:image/png", "blob:")), first[:40]
    first_digest = _digest(browser, first)
    assert len(first_digest) == 64, first_digest
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", inputs)
    browser.save_screenshot(str(artifacts_dir / "ch09-explorer-before.png"))

    seen, digests = {first}, {first_digest}
    _click(browser, heads, "head 1")
    digests.add(_new_picture(browser, seen, "head 1"))
    _click(browser, layers, "1")
    digests.add(_new_picture(browser, seen, "layer 1"))
    second_input = _buttons(inputs)[1].text.strip()
    _click(browser, inputs, second_input)
    digests.add(_new_picture(browser, seen, f"input {second_input}"))
    assert _selected(heads) == ["head 1"] and _selected(layers) == ["1"]     # the others are untouched
    assert len(digests) == 4, "each combination must show its own heatmap"
    browser.save_screenshot(str(artifacts_dir / "ch09-explorer-after.png"))

    # back to the first combination: the first heatmap's content again
    _click(browser, inputs, _buttons(inputs)[0].text.strip())
    _click(browser, layers, "0")
    _click(browser, heads, "head 0")
    assert _wait(lambda: _digest(browser, _shown_image(browser)) == first_digest, what="the first heatmap again")

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 9 page:\n" + "\n".join(errors)
