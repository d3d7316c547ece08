"""Chapter 17's next-token explorer in the built book, in headless Chromium, with no kernel behind it.

The prompt buttons and the temperature / top-k / top-p sliders must switch the bars in the browser alone
(``jslink`` to nested ``Stack`` widgets). Each view must be the one the notebook stored for that setting,
and must follow from the views before it by the sampling rule (temperature, then top-k, then top-p):

* top-k = 5 keeps the first five tokens of the unrestricted view, renormalised; top-k = 1 keeps one;
* temperature 0.5 squares the ratios between probabilities (p_i / p_0 -> (p_i / p_0)²);
* top-p keeps the most likely tokens up to and including the one whose cumulative probability reaches p.

The page shows probabilities rounded to 3 decimals, so the rule is checked with intervals: every shown
value stands for [value - 0.0005, value + 0.0005].
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from widget_browser import wait as _wait, readout as _readout, press as _press

pytestmark = pytest.mark.browser

PAGE = "chapters/17_smollm2.html"
NOTEBOOK = Path(__file__).resolve().parents[2] / "chapters" / "17_smollm2.ipynb"
HALF = 0.0005                                              # half a unit of the shown 3 decimals


# ---------------------------------------------------------------------------------------- the stored views
def _parse(value):
    """(((token label, probability), ...), 'N tokens can be drawn') from one view's HTML."""
    rows = re.findall(r"<td style='font-family:monospace;padding-right:8px'>(.*?)</td>.*?"
                      r"<td style='padding-left:6px'>([0-9.]+)</td>", value)
    count = re.search(r"<small>([\d,]+ tokens? can be drawn)</small>", value)
    return tuple((html.unescape(label), float(p)) for label, p in rows), count.group(1) if count else None


@pytest.fixture(scope="module")
def stored(built_site):
    """``stored(prompt, temperature, top_k, top_p)`` (indices) -> the view the notebook stored for it."""
    with open(NOTEBOOK, encoding="utf-8") as file:
        state = json.load(file)["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]

    def child(model, i):
        return state[model["state"]["children"][i].removeprefix("IPY_MODEL_")]

    boxes = [m for m in state.values() if m["model_name"] == "VBoxModel" and m["state"]["children"]
             and child(m, 0)["state"].get("value") == "<b>Next-token explorer</b>"]
    assert len(boxes) == 1, f"the notebook stores {len(boxes)} next-token explorers, expected 1"
    assert [child(boxes[0], i)["state"]["description"] for i in range(1, 5)] == \
        ["prompt", "temperature", "top-k", "top-p"]
    stack = child(boxes[0], 5)

    def view(*indices):
        node = stack
        for i in indices:
            node = child(node, i)
        return _parse(node["state"]["value"])

    return view


# ---------------------------------------------------------------------------------------- the page
def _slider(browser, label):
    from selenium.webdriver.common.by import By
    sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".widget-slider")
               if s.find_element(By.CSS_SELECTOR, ".widget-label").text.strip() == label]
    return sliders[0] if len(sliders) == 1 else None


def _shown(browser):
    """The one visible view of the explorer, as ``_parse`` gives it (None until exactly one shows)."""
    from selenium.webdriver.common.by import By
    views = [v for v in browser.find_elements(By.CSS_SELECTOR, ".widget-html")
             if v.is_displayed() and "can be drawn" in v.get_attribute("textContent")]
    if len(views) != 1:
        return None
    rows = []
    for row in views[0].find_elements(By.TAG_NAME, "tr"):
        cells = row.find_elements(By.TAG_NAME, "td")
        rows.append((cells[0].get_attribute("textContent"), float(cells[2].get_attribute("textContent"))))
    count = views[0].find_element(By.TAG_NAME, "small").get_attribute("textContent")
    return tuple(rows), count


def _move(browser, label, key, times, readout):
    slider = _slider(browser, label)
    _press(browser, slider, key, times=times)
    _wait(lambda: _readout(_slider(browser, label)) == readout, what=f"the {label} readout {readout}")


def _next_view(browser, before, what):
    return _wait(lambda: (v := _shown(browser)) and v != before and v, what=what)


# ---------------------------------------------------------------------------------------- the rule, in intervals
def _bounds(p):
    return max(p - HALF, 0.0), p + HALF


def _assert_within(shown, lo, hi, what):
    assert lo - HALF <= shown <= hi + HALF, f"{what}: shown {shown:.3f}, the rule says [{lo:.4f}, {hi:.4f}]"


def _assert_renormalised(kept, full, what):
    """``kept`` is the first len(kept) tokens of ``full``, each divided by their total."""
    n = len(kept)
    assert [t for t, _ in kept] == [t for t, _ in full[:n]], f"{what}: the kept tokens are not the most likely"
    for i, (_, q) in enumerate(kept):
        lo_i, hi_i = _bounds(full[i][1])
        others_lo = sum(_bounds(p)[0] for j, (_, p) in enumerate(full[:n]) if j != i)
        others_hi = sum(_bounds(p)[1] for j, (_, p) in enumerate(full[:n]) if j != i)
        _assert_within(q, lo_i / (lo_i + others_hi), hi_i / (hi_i + others_lo) if hi_i + others_lo else 1.0,
                       f"{what}, token {i}")


def _assert_squared_ratios(cold, warm, what):
    """Temperature 0.5 against 1.0: the same order, and p_i / p_0 squared."""
    assert [t for t, _ in cold] == [t for t, _ in warm], f"{what}: the order of the tokens changed"
    lo0, hi0 = _bounds(warm[0][1])
    clo0, chi0 = _bounds(cold[0][1])
    for i in range(1, len(cold)):
        lo, hi = _bounds(warm[i][1])
        clo, chi = _bounds(cold[i][1])
        want = ((lo / hi0) ** 2, (hi / lo0) ** 2)
        got = (clo / chi0, chi / clo0)
        assert got[0] <= want[1] and want[0] <= got[1], \
            f"{what}, token {i}: shown ratio in [{got[0]:.4f}, {got[1]:.4f}], " \
            f"(p_i/p_0)² in [{want[0]:.4f}, {want[1]:.4f}]"


def _assert_nucleus(kept, full, top_p, what):
    """``kept`` is the nucleus of ``full``: the last kept token starts below ``top_p``, the next one at or above."""
    n = len(kept)
    assert n < len(full), f"{what}: the nucleus must end within the shown tokens for this check"
    before_last = sum(_bounds(p)[0] for _, p in full[:n - 1])
    before_next = sum(_bounds(p)[1] for _, p in full[:n])
    assert before_last < top_p <= before_next, \
        f"{what}: {n} tokens kept, but the mass before them is {before_last:.4f}..{before_next:.4f}"
    _assert_renormalised(kept, full, what)


# ---------------------------------------------------------------------------------------- the test
def test_next_token_explorer_follows_the_sampling_rule_without_a_kernel(site_url, browser, stored, artifacts_dir,
                                                                          console_errors):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site_url + PAGE)
    _wait(lambda: _slider(browser, "top-p"), what="the explorer's top-p slider (widget manager loaded?)")
    assert [_readout(_slider(browser, s)) for s in ("temperature", "top-k", "top-p")] == ["1.0", "all", "1.0"]
    base = _wait(lambda: _shown(browser), what="the first view of the explorer")
    assert base == stored(0, 1, 0, 0)
    rows, count = base
    assert rows[0][0] == "' Paris'" and len(rows) == 10 and count == "49,152 tokens can be drawn"
    assert [p for _, p in rows] == sorted((p for _, p in rows), reverse=True) and sum(p for _, p in rows) <= 1

    _move(browser, "top-k", Keys.ARROW_RIGHT, 2, "5")                 # all -> 20 -> 5
    five = _next_view(browser, base, "the view for top-k = 5")
    assert five == stored(0, 1, 2, 0) and five[1] == "5 tokens can be drawn"
    _assert_renormalised(five[0], rows, "top-k = 5")

    _move(browser, "top-k", Keys.ARROW_RIGHT, 1, "1")                 # greedy
    one = _next_view(browser, five, "the view for top-k = 1")
    assert one == stored(0, 1, 3, 0) == (((rows[0][0], 1.0),), "1 token can be drawn")

    _move(browser, "top-k", Keys.ARROW_LEFT, 3, "all")
    _wait(lambda: _shown(browser) == base, what="the unrestricted view again")
    _move(browser, "top-p", Keys.ARROW_RIGHT, 2, "0.5")               # 1.0 -> 0.9 -> 0.5
    nucleus = _next_view(browser, base, "the view for top-p = 0.5")
    assert _bounds(rows[0][1])[0] >= 0.5                              # ' Paris' alone reaches 0.5
    assert nucleus == stored(0, 1, 0, 2) == (((rows[0][0], 1.0),), "1 token can be drawn")

    _move(browser, "top-p", Keys.ARROW_LEFT, 2, "1.0")
    _wait(lambda: _shown(browser) == base, what="the unrestricted view again")
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".widget-toggle-button")
                  if b.text.strip().startswith("Once upon a time"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    warm = _next_view(browser, base, "the view of the second prompt")
    assert warm == stored(1, 1, 0, 0) and warm[1] == "49,152 tokens can be drawn"
    assert warm[0][0][1] < 0.5                                        # an open question: no token dominates

    _move(browser, "temperature", Keys.ARROW_LEFT, 1, "0.5")
    cold = _next_view(browser, warm, "the view at temperature 0.5")
    assert cold == stored(1, 0, 0, 0) and cold[0][0][1] > warm[0][0][1]
    _assert_squared_ratios(cold[0], warm[0], "temperature 0.5")

    _move(browser, "top-p", Keys.ARROW_RIGHT, 2, "0.5")               # temperature first, then the nucleus
    cold_nucleus = _next_view(browser, cold, "the view at temperature 0.5 and top-p = 0.5")
    assert cold_nucleus == stored(1, 0, 0, 2)
    kept = len(cold_nucleus[0])
    assert 1 < kept and cold_nucleus[1] == f"{kept} tokens can be drawn"
    _assert_nucleus(cold_nucleus[0], cold[0], 0.5, "temperature 0.5, top-p = 0.5")
    browser.save_screenshot(str(artifacts_dir / "ch17-next-token-explorer.png"))

    errors = console_errors(browser)
    assert not errors, "console errors on the chapter 17 page:\n" + "\n".join(errors)
