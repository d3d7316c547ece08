"""A Sphinx extension of the nncourse book: the widgets' and the maths' JavaScript served offline.

**Offline JavaScript.** By default a Jupyter Book page loads require.js, the ipywidgets HTML
manager and MathJax from CDNs. When the npm packages listed in ``package.json`` are installed
(``node_modules/`` exists: ``tools/setup.sh`` runs ``npm ci``), this extension copies the files the
pages need into a staging folder inside the build directory, adds that folder to
``html_static_path`` (so Sphinx copies it to ``<output>/_static/nncourse-js/``) and points
myst-nb's ``nb_ipywidgets_js`` and Sphinx's ``mathjax_path`` at those copies. The site then renders
widgets and maths with no outside request, also from ``file://``. The folder is deliberately *not*
the book's ``_static/``: Jupyter Book 1.x injects every ``.js``/``.css`` found there into every page.

Two snags are handled by ``widgets-setup.js`` (written below, loaded between require.js and the
widget manager; used with the CDNs too, where both snags exist as well):

* the HTML manager computes the URL of its icon fonts from its AMD module name, i.e. it would ask
  for ``/@jupyter-widgets/html-manager/dist/*.woff2`` at the site root; a ``require.config`` path maps
  that module folder onto the local copy;
* ``@jupyter-widgets/base`` calls the MathJax 2 API (``MathJax.Hub.Queue``) whenever
  ``window.MathJax`` exists; with MathJax 3 that throws for every widget label, so a tiny bridge gives
  any ``window.MathJax`` object a ``Hub.Queue`` that forwards to MathJax 3's ``typesetPromise``.

Without ``node_modules/`` (or with ``nncourse_local_js = False``) the pages load the same versions
from CDNs (jsDelivr) and MathJax from Sphinx's default CDN address; ``widgets-setup.js`` is still
served from the site, pointing the font paths at the CDN.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

__version__ = "0.1.0"

#: Folder (inside the output's ``_static/``) that receives the local JavaScript.
JS_DIR = "nncourse-js"

#: What is copied from node_modules: (source relative to node_modules, destination relative to JS_DIR,
#: glob or None for a single file). Missing required files switch the local mode off with a warning.
_COPIES = [
    ("requirejs/require.js", "require.js", None),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "embed-amd.js"),
    # the icon fonts the widget manager's CSS refers to (Font Awesome, content-hashed names)
    ("@jupyter-widgets/html-manager/dist", "html-manager", "*.woff2"),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "*.woff"),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "*.ttf"),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "*.eot"),
    ("@jupyter-widgets/html-manager/dist", "html-manager", "*.svg"),
    # MathJax 3: the combined TeX + MathML -> CHTML component (Sphinx's default flavour) and the
    # folders it loads from on demand (fonts, autoloaded TeX extensions, menu / accessibility parts)
    ("mathjax/es5", "mathjax", "tex-mml-chtml.js"),
    ("mathjax/es5/output/chtml", "mathjax/output/chtml", "**/*"),
    ("mathjax/es5/input", "mathjax/input", "**/*"),
    ("mathjax/es5/ui", "mathjax/ui", "**/*"),
    ("mathjax/es5/a11y", "mathjax/a11y", "**/*"),
    ("mathjax/es5/sre", "mathjax/sre", "**/*"),
    ("mathjax/es5/adaptors", "mathjax/adaptors", "**/*"),
]

_REQUIRED = [
    "requirejs/require.js",
    "@jupyter-widgets/html-manager/dist/embed-amd.js",
    "mathjax/es5/tex-mml-chtml.js",
]

#: The CDN addresses used without node_modules/ (versions as in package.json).
CDN_REQUIRE_JS = "https://cdn.jsdelivr.net/npm/requirejs@2.3.8/require.js"
CDN_HTML_MANAGER = "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15"

# Loaded after require.js and before embed-amd.js (see the module docstring).
_WIDGETS_SETUP_JS = r"""/* nncourse: font paths and a MathJax 2->3 bridge for the ipywidgets HTML manager
   (written by _ext/offline_js.py). */
(function () {
  "use strict";
  var me = document.currentScript;
  var here = (me && me.src) || "";
  // where the widget manager's files are: our local copy, or the CDN (data-widgets-base)
  var managerDir = (me && me.getAttribute("data-widgets-base")) ||
    here.slice(0, here.lastIndexOf("/") + 1) + "html-manager";
  // 1. The bundled modules derive their font URLs from their AMD module paths
  //    ("@jupyter-widgets/html-manager/dist/libembed-amd", "@jupyter-widgets/controls", ...), which
  //    would point at the site root: map both prefixes onto our copy, where the fonts are.
  if (window.require && typeof window.require.config === "function") {
    window.require.config({ paths: {
      "@jupyter-widgets/html-manager/dist": managerDir,
      "@jupyter-widgets": managerDir
    } });
  }
  // 2. A MathJax v2 -> v3 bridge: @jupyter-widgets/base calls MathJax.Hub.Queue(["Typeset", Hub, el]).
  // Jupyter writes inline maths in widget labels as $...$; the book's MathJax 3 only knows \(...\).
  function dollarsToDelimiters(el) {
    if (!el || !el.nodeType) { return; }
    var walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), texts = [];
    while (walker.nextNode()) { texts.push(walker.currentNode); }
    texts.forEach(function (node) {
      var text = node.nodeValue;
      if (text.indexOf("$") < 0) { return; }
      var out = text.replace(/\$\$([^$]+)\$\$/g, "\\[$1\\]")
                    .replace(/(^|[^\\])\$([^$\n]+?)\$/g, "$1\\($2\\)");
      if (out !== text) { node.nodeValue = out; }
    });
  }
  function typeset(el, tries) {
    var mj = window.MathJax;
    if (mj && typeof mj.typesetPromise === "function") {
      var run = function () { return mj.typesetPromise(el ? [el] : undefined); };
      var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
      ready.then(run).catch(function () { /* a label that is not TeX: leave it as text */ });
    } else if ((tries || 0) < 100) {
      setTimeout(function () { typeset(el, (tries || 0) + 1); }, 100);
    }
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset") { dollarsToDelimiters(job[2]); typeset(job[2]); }
      }
    }
  };
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      // not enumerable: MathJax 3 copies its configuration object and must not see a "Hub" block
      Object.defineProperty(mj, "Hub", { value: hub, configurable: true, writable: true, enumerable: false });
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  try {
    // MathJax 3 replaces window.MathJax when it starts: give the new object the bridge as well.
    Object.defineProperty(window, "MathJax", {
      configurable: true,
      enumerable: true,
      get: function () { return current; },
      set: function (value) { current = withHub(value); }
    });
  } catch (e) { /* window.MathJax not configurable: the bridge on the current object has to do */ }
})();
"""


def _node_modules(app: Sphinx) -> Path:
    return Path(app.confdir) / "node_modules"


def _local_js_wanted(app: Sphinx) -> bool:
    setting = app.config.nncourse_local_js
    if setting in (False, "false", "off", "cdn"):
        return False
    nm = _node_modules(app)
    present = all((nm / rel).is_file() for rel in _REQUIRED)
    if setting in (True, "true", "on") and not present:
        logger.warning(
            "nncourse_local_js is on but %s lacks the npm packages (run `npm ci`); using the CDNs",
            nm,
            type="nncourse",
            subtype="local_js",
        )
    return present


def _copy_if_changed(src: Path, dst: Path) -> None:
    if dst.exists() and filecmp.cmp(src, dst, shallow=True):
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def _stage_local_js(app: Sphinx, stage: Path) -> None:
    """Copy the needed npm files into ``stage / JS_DIR``."""
    nm = _node_modules(app)
    target = stage / JS_DIR
    for src_rel, dst_rel, pattern in _COPIES:
        src = nm / src_rel
        if pattern is None:
            _copy_if_changed(src, target / dst_rel)
            continue
        for path in sorted(src.glob(pattern)):
            if path.is_file():
                _copy_if_changed(path, target / dst_rel / path.relative_to(src))


def _write_setup_js(stage: Path) -> None:
    setup_js = stage / JS_DIR / "widgets-setup.js"
    setup_js.parent.mkdir(parents=True, exist_ok=True)
    if not setup_js.exists() or setup_js.read_text(encoding="utf-8") != _WIDGETS_SETUP_JS:
        setup_js.write_text(_WIDGETS_SETUP_JS, encoding="utf-8")


def _on_config_inited(app: Sphinx, config) -> None:
    # Stage inside the build directory (beside the doctrees), never in the book's _static/.
    stage = Path(app.doctreedir).parent / "nncourse-static"
    local = _local_js_wanted(app)
    if not local and (stage / JS_DIR / "require.js").exists():
        shutil.rmtree(stage / JS_DIR)  # a previous local build's copies: not wanted now
    _write_setup_js(stage)
    app._nncourse_js_stage = stage
    static_paths = list(config.html_static_path)
    if str(stage) not in static_paths:
        static_paths.append(str(stage))
    config.html_static_path = static_paths

    if not local:
        # The published set-up: the CDNs, with the same widget manager version as package.json.
        config.nb_ipywidgets_js = {
            CDN_REQUIRE_JS: {"crossorigin": "anonymous"},
            f"{JS_DIR}/widgets-setup.js": {"data-widgets-base": f"{CDN_HTML_MANAGER}/dist"},
            f"{CDN_HTML_MANAGER}/dist/embed-amd.js": {
                "data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/",
                "crossorigin": "anonymous",
            },
        }
        logger.info("[nncourse] JavaScript from the CDNs (no node_modules/)")
        return
    _stage_local_js(app, stage)
    # Keys are relative to the static folder (Sphinx prefixes "_static/"); order is load order.
    config.nb_ipywidgets_js = {
        f"{JS_DIR}/require.js": {},
        f"{JS_DIR}/widgets-setup.js": {},
        f"{JS_DIR}/html-manager/embed-amd.js": {},
    }
    config.mathjax_path = f"{JS_DIR}/mathjax/tex-mml-chtml.js"
    logger.info("[nncourse] JavaScript served locally from _static/%s (node_modules found)", JS_DIR)


def _on_build_finished(app: Sphinx, exception) -> None:
    """Sphinx copies static files only when some page was rewritten; keep the output's copy of the
    JavaScript in step with node_modules/ on every build (an npm upgrade with no page change)."""
    stage = getattr(app, "_nncourse_js_stage", None)
    if exception is not None or stage is None or app.builder.format != "html":
        return
    src_root = stage / JS_DIR
    dst_root = Path(app.outdir) / "_static" / JS_DIR
    for path in sorted(src_root.rglob("*")):
        if path.is_file():
            _copy_if_changed(path, dst_root / path.relative_to(src_root))


def setup(app: Sphinx) -> dict:
    # "auto": local JavaScript when node_modules/ holds the npm packages; True / False to force.
    app.add_config_value("nncourse_local_js", "auto", "html", types=[str, bool])
    # runs before myst-nb reads nb_ipywidgets_js (builder-inited) and Sphinx's mathjax reads its path
    app.connect("config-inited", _on_config_inited, priority=400)
    app.connect("build-finished", _on_build_finished)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
