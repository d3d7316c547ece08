"""A Sphinx extension of the nncourse book: the ``{binder}`` and ``{colab}`` launch links.

**Launch links.** Roles ``{binder}`` and ``{colab}`` turn a repository path into a link that opens
that notebook on Binder or Google Colab, e.g. ``{binder}`exercises/01_perceptron.ipynb``` or
``{colab}`Open the exercises <exercises/01_perceptron.ipynb>```. The addresses are built from the
single ``repository:`` section (``url``, ``branch``) and ``launch_buttons:`` of ``_config.yml``.

**No dead links while the repository is a placeholder.** As long as ``repository.url`` still names the
placeholder organisation (``YOUR-ORG``, see :func:`is_placeholder`), the build leaves out the launch
buttons (Binder, Colab, live code), the repository button and every ``{binder}``/``{colab}`` link (the
path is shown as text instead), and says so once in the build log. Setting the real URL in
``_config.yml`` brings them all back; ``python tools/colab_cell.py`` then refreshes the Colab first cell
of the notebooks, which is derived from the same URL.
"""

from __future__ import annotations

import urllib.parse

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole

__version__ = "0.1.0"
logger = logging.getLogger(__name__)

#: The organisation name ``_config.yml`` ships with, before anyone publishes the book.
PLACEHOLDER_ORG = "YOUR-ORG"


def is_placeholder(url: str | None) -> bool:
    """True when ``url`` (``repository.url`` of ``_config.yml``) is empty or still the placeholder."""
    url = (url or "").strip()
    return not url or PLACEHOLDER_ORG.lower() in url.lower()


def _drop_links_to_placeholder(app: Sphinx, config) -> None:
    """With a placeholder repository URL: no launch buttons, no repository button, no live code."""
    options = dict(config.html_theme_options or {})
    url = options.get("repository_url")
    config.nncourse_repository_placeholder = is_placeholder(url)
    if not config.nncourse_repository_placeholder:
        return
    options["launch_buttons"] = {}
    options["use_repository_button"] = False
    options["use_issues_button"] = False
    options["use_edit_page_button"] = False
    options["repository_url"] = ""
    config.html_theme_options = options
    logger.info(
        "[nncourse] repository.url in _config.yml is the placeholder %r: the launch buttons, the "
        "repository button and the {binder}/{colab} links are left out. Set the real URL there, then "
        "run python tools/colab_cell.py.",
        url,
    )


def launch_urls(theme_options: dict, path: str) -> dict[str, str]:
    """Binder and Colab addresses for ``path`` (relative to the repository root).

    ``theme_options`` is Sphinx's ``html_theme_options`` as Jupyter Book fills it from
    ``_config.yml`` (``repository_url``, ``repository_branch``, ``path_to_docs``, ``launch_buttons``).
    """
    repo_url = (theme_options.get("repository_url") or "").rstrip("/")
    if repo_url.endswith(".git"):
        repo_url = repo_url[: -len(".git")]
    branch = theme_options.get("repository_branch") or "main"
    buttons = theme_options.get("launch_buttons") or {}
    binderhub = (buttons.get("binderhub_url") or "https://mybinder.org").rstrip("/")
    colab = (buttons.get("colab_url") or "https://colab.research.google.com").rstrip("/")
    interface = buttons.get("notebook_interface") or "jupyterlab"
    book_dir = (theme_options.get("path_to_docs") or "").strip("/")
    path = path.strip().lstrip("/")
    if book_dir:
        path = f"{book_dir}/{path}"

    parsed = urllib.parse.urlparse(repo_url)
    parts = [p for p in parsed.path.split("/") if p]
    on_github = parsed.netloc.lower() in {"github.com", "www.github.com"} and len(parts) >= 2
    quoted_path = urllib.parse.quote(path)
    query = f"urlpath=lab/tree/{quoted_path}" if interface == "jupyterlab" else f"filepath={quoted_path}"
    if on_github:
        org, repo = parts[0], parts[1]
        binder = f"{binderhub}/v2/gh/{org}/{repo}/{urllib.parse.quote(branch)}?{query}"
        colab_url = f"{colab}/github/{org}/{repo}/blob/{urllib.parse.quote(branch)}/{quoted_path}"
    else:
        enc = urllib.parse.quote(repo_url, safe="")
        binder = f"{binderhub}/v2/git/{enc}/{urllib.parse.quote(branch)}?{query}"
        colab_url = ""  # Colab opens notebooks from GitHub only
    return {"binder": binder, "colab": colab_url}


class _LaunchRole(SphinxRole):
    service = ""  # "binder" or "colab"
    label = ""

    def run(self):
        text = self.text.strip()
        title, path = None, text
        if text.endswith(">") and "<" in text:
            title, path = text[: text.rindex("<")].strip(), text[text.rindex("<") + 1 : -1].strip()
        if getattr(self.config, "nncourse_repository_placeholder", False):
            # no repository to launch from yet: the path as text, not a dead link
            return [nodes.literal(text, path)], []
        theme_options = self.config.html_theme_options or {}
        url = launch_urls(theme_options, path)[self.service]
        if not url:
            msg = self.inliner.reporter.warning(
                f"{self.label}: the repository URL in _config.yml is not on GitHub, so there is no "
                f"{self.label} link for {path!r}",
                line=self.lineno,
            )
            return [nodes.literal(text, path)], [msg]
        if not title:
            title = f"{path} on {self.label}"
        ref = nodes.reference(self.rawtext, title, refuri=url, classes=["nncourse-launch", self.service])
        return [ref], []


class BinderRole(_LaunchRole):
    service = "binder"
    label = "Binder"


class ColabRole(_LaunchRole):
    service = "colab"
    label = "Colab"


def setup(app: Sphinx) -> dict:
    # before sphinx-book-theme and sphinx-thebe read the repository and the launch buttons
    app.add_config_value("nncourse_repository_placeholder", False, "env", types=[bool])
    app.connect("config-inited", _drop_links_to_placeholder, priority=400)
    app.add_role("binder", BinderRole())
    app.add_role("colab", ColabRole())
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
