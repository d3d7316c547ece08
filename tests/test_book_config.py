"""The book's frame: _config.yml, _toc.yml, the glossary, the Colab first cell, the launch links,
the npm pins, Binder and the GitHub workflows. Fast checks, no build and no network needed."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from book_toc import toc_docnames

REPO = Path(__file__).resolve().parents[1]
PLACEHOLDER_HINT = "YOUR-ORG"


def load_yaml(rel: str):
    return yaml.safe_load((REPO / rel).read_text(encoding="utf-8"))


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def config():
    return load_yaml("_config.yml")


@pytest.fixture(scope="module")
def toc():
    return load_yaml("_toc.yml")


# ---------------------------------------------------------------------------------------------
# _toc.yml


PART_TWO_NAMES = ["07_cnn", "08_sequences", "09_attention", "10_transformer"]
PART_THREE_NAMES = ["11_generalization", "12_deep_networks", "13_autograd", "14_tokenization", "15_scaling"]
PART_FOUR_NAMES = ["16_modern_blocks"]
CHAPTER_NAMES = [
    "01_perceptron",
    "02_forward_pass",
    "03_loss_functions",
    "04_backpropagation",
    "05_optimizers",
    "06_mnist",
]


def test_toc_structure(toc):
    assert toc["format"] == "jb-book"
    assert toc["root"] == "intro"
    captions = [p.get("caption") for p in toc["parts"]]
    assert captions == ["Part I: Foundations", "Part II: Architectures", "Part III: Training well",
                        "Part IV: Language models for real", "Play", "Reference"]
    chapters_part, part_two, part_three, part_four, play, reference = toc["parts"]
    for part, names in ((chapters_part, CHAPTER_NAMES), (part_two, PART_TWO_NAMES),
                        (part_three, PART_THREE_NAMES), (part_four, PART_FOUR_NAMES)):
        assert part.get("numbered") is True
        chapters = part["chapters"]
        if part in (part_three, part_four):   # other chapters may sit around ours; ours keep their order
            chapters = [c for c in chapters if c["file"].split("/")[-1] in names]
        assert [c["file"] for c in chapters] == [f"chapters/{n}" for n in names]
        for chapter, name in zip(chapters, names):
            assert [s["file"] for s in chapter.get("sections", [])] == [f"solutions/{name}"], chapter
    assert [c["file"] for c in play["chapters"]] == ["chapters/playground"]
    assert [c["file"] for c in reference["chapters"]] == [
        "pages/glossary",
        "pages/hyperparameters",
        "pages/run-locally",
        "pages/execution-report",
    ]


def test_every_toc_file_exists(toc):
    missing = [f for f in toc_docnames(toc) if not any((REPO / f"{f}{s}").is_file() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_exercise_notebook_has_a_solutions_page():
    exercises = {p.stem for p in (REPO / "exercises").glob("*.ipynb")}
    solutions = {p.stem for p in (REPO / "solutions").glob("*.ipynb")}
    assert exercises <= solutions, f"exercises without solutions: {sorted(exercises - solutions)}"


def test_execution_report_lists_what_nbval_compares():
    assert "```{output-report}" in (REPO / "pages" / "execution-report.md").read_text(encoding="utf-8")


def test_output_report_counts_marked_cells_and_their_reasons(tmp_path):
    sys.path.insert(0, str(REPO / "_ext"))
    from output_report import notebook_summary

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)"),
        nbformat.v4.new_code_cell("# NBVAL_IGNORE_OUTPUT\n# Why: torch float32 digits differ\nprint(2)"),
        nbformat.v4.new_code_cell("load()", metadata={"tags": ["nbval-ignore-output"]}),
        nbformat.v4.new_markdown_cell("# NBVAL_IGNORE_OUTPUT in prose does not count"),
    ])
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    assert notebook_summary(path) == {
        "code_cells": 3, "compared": 1,
        "reasons": ["torch float32 digits differ", "tagged nbval-ignore-output"],
    }


# ---------------------------------------------------------------------------------------------
# _config.yml


def test_config_essentials(config):
    assert config["author"] == "The nncourse authors"
    assert config["title"]
    assert config["only_build_toc_files"] is True
    execute = config["execute"]
    assert execute["execute_notebooks"] == "off"  # stored outputs, checked by nbval: run once in CI
    assert isinstance(execute["timeout"], int) and execute["timeout"] >= 60
    excluded = set(config["exclude_patterns"])
    for pattern in ("_build", "node_modules", "artifacts", "data", "exercises", "tests", "README.md",
                    "CONTRIBUTING.md", "benchmarks"):
        assert pattern in excluded, f"{pattern} should be excluded from the book"
    assert ".*" in excluded, "hidden folders (.venv, .git, .pytest_cache) should be excluded"


def test_myst_extensions(config):
    extensions = set(config["parse"]["myst_enable_extensions"])
    assert {"dollarmath", "amsmath", "colon_fence", "deflist", "substitution"} <= extensions
    assert "linkify" not in extensions


def test_sphinx_extensions(config):
    sphinx = config["sphinx"]
    assert "sphinx_exercise" in sphinx["extra_extensions"]
    local = sphinx["local_extensions"]
    assert local == {"offline_js": "_ext", "launch_links": "_ext", "output_report": "_ext"}
    for name in local:
        assert (REPO / "_ext" / f"{name}.py").is_file()


def test_launch_and_repository_buttons(config):
    buttons = config["launch_buttons"]
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["colab_url"] == "https://colab.research.google.com"
    assert buttons["notebook_interface"] == "jupyterlab"
    assert config["html"]["use_repository_button"] is True
    assert config["sphinx"]["config"]["html_theme_options"]["use_download_button"] is True
    assert config["sphinx"].get("recursive_update") is True, "needed so html_theme_options merges"


def test_repository_url_is_set_in_one_place(config):
    url = config["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    assert config["repository"]["branch"]
    # no other hand-written file may repeat the address (notebooks get it via tools/colab_cell.py)
    repeated = []
    suffixes = {".md", ".py", ".yml", ".yaml", ".toml", ".cfg", ".txt", ".sh", ".json", ".html", ".js"}
    skip = {".git", ".venv", "node_modules", "_build", "artifacts", "data", ".pytest_cache"}
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if rel.parts[0] in skip or not path.is_file() or path.suffix not in suffixes or rel == Path("_config.yml"):
            continue
        if "package-lock" in path.name or rel == Path("tests/test_book_config.py"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if url in text or f"github.com/{PLACEHOLDER_HINT}" in text:
            repeated.append(str(rel))
    assert not repeated, f"the repository URL is repeated outside _config.yml in: {repeated}"


# ---------------------------------------------------------------------------------------------
# glossary


REQUIRED_TERMS = [
    "perceptron", "neuron", "weight", "bias", "activation function", "layer", "forward pass",
    "linear separability", "logits", "softmax", "one-hot encoding", "loss function", "cross-entropy",
    "gradient", "backpropagation", "chain rule", "gradient check", "learning rate", "epoch",
    "batch size", "mini-batch", "optimizer", "momentum", "hyperparameter", "parameter",
    "initialization", "regularization", "overfitting", "training set", "test set", "accuracy",
    "dropout",
]


def glossary_terms() -> list[str]:
    """The terms of every ```{glossary} block (the main one, then one block per later chapter)."""
    text = (REPO / "pages" / "glossary.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```\{glossary\}\n(.*?)\n```", text, re.S)   # one block per chapter group (<!-- chNN -->)
    assert blocks, "pages/glossary.md has no ```{glossary} block"
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip() and not line[0].isspace()]


def test_glossary_defines_the_required_terms():
    terms = glossary_terms()
    missing = [t for t in REQUIRED_TERMS if t not in terms]
    assert not missing, f"glossary lacks: {missing}"
    assert len(terms) == len(set(terms)), "a glossary term is defined twice"


def test_term_references_in_sources_exist():
    """Every {term}`...` in the Markdown pages and notebooks names a glossary entry (the build would
    fail too, but this says which file)."""
    known = {t.lower() for t in glossary_terms()}
    unknown = []
    sources = list(REPO.glob("*.md")) + list((REPO / "pages").glob("*.md"))
    for folder in ("chapters", "solutions"):
        sources += list((REPO / folder).glob("*.ipynb"))
    for path in sources:
        for match in re.finditer(r"\{term\}`([^`]+)`", path.read_text(encoding="utf-8")):
            target = match.group(1)
            if "<" in target and target.endswith(">"):
                target = target[target.rindex("<") + 1 : -1]
            if target.strip().lower() not in known:
                unknown.append(f"{path.relative_to(REPO)}: {target}")
    assert not unknown, f"unknown glossary terms: {unknown}"


# ---------------------------------------------------------------------------------------------
# the Colab first cell


def test_colab_first_cell_in_every_notebook():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "colab_cell.py"), "--check"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_colab_cell_text(config):
    colab_cell = load_module("nncourse_colab_cell", REPO / "tools" / "colab_cell.py")
    url, branch = colab_cell.repository(REPO)
    assert url == config["repository"]["url"]
    for url in (url, "https://github.com/some-org/nncourse"):   # this book's URL, and a published one
        source = colab_cell.cell_source(url, branch)
        assert 'if "google.colab" in sys.modules:' in source
        if colab_cell.is_placeholder(url):
            # no dead address: on Colab the cell says why it cannot install the course
            assert PLACEHOLDER_HINT not in source and "git+" not in source
            assert "placeholder" in source and "run it locally" in source
        else:
            assert f'"nncourse @ git+{url}@{branch}"' in source
            assert '[sys.executable, "-m", "pip", "install", "-q",' in source
        # outside Colab it runs silently and leaves nothing behind
        namespace: dict = {}
        exec(compile(source, "<colab cell>", "exec"), namespace)
        cell = colab_cell.make_cell(source)
        assert cell["metadata"]["tags"] == ["remove-cell"] and cell["outputs"] == []


def test_placeholder_rule():
    ext = load_module("launch_links_ext", REPO / "_ext" / "launch_links.py")
    assert ext.is_placeholder("https://github.com/YOUR-ORG/nncourse")
    assert ext.is_placeholder("https://github.com/your-org/nncourse/")
    assert ext.is_placeholder("") and ext.is_placeholder(None)
    assert not ext.is_placeholder("https://github.com/some-org/nncourse")


def test_placeholder_url_drops_the_launch_buttons():
    """While repository.url is the placeholder, the theme gets no launch or repository buttons."""
    ext = load_module("launch_links_ext", REPO / "_ext" / "launch_links.py")

    class Config:
        def __init__(self, url):
            self.html_theme_options = {
                "repository_url": url,
                "use_repository_button": True,
                "launch_buttons": {"binderhub_url": "https://mybinder.org", "thebe": True,
                                   "colab_url": "https://colab.research.google.com"},
            }

    placeholder = Config("https://github.com/YOUR-ORG/nncourse")
    ext._drop_links_to_placeholder(None, placeholder)
    assert placeholder.nncourse_repository_placeholder is True
    assert placeholder.html_theme_options["launch_buttons"] == {}
    assert placeholder.html_theme_options["use_repository_button"] is False
    assert placeholder.html_theme_options["repository_url"] == ""
    published = Config("https://github.com/some-org/nncourse")
    ext._drop_links_to_placeholder(None, published)
    assert published.nncourse_repository_placeholder is False
    assert published.html_theme_options["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert published.html_theme_options["use_repository_button"] is True


def test_colab_cell_stamp_and_check(tmp_path):
    colab_cell = load_module("nncourse_colab_cell", REPO / "tools" / "colab_cell.py")
    import nbformat

    (tmp_path / "_config.yml").write_text(
        "repository:\n  url: https://github.com/example-org/example\n  branch: dev\n", encoding="utf-8"
    )
    (tmp_path / "chapters").mkdir()
    nb_path = tmp_path / "chapters" / "x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# X")]), nb_path)
    assert colab_cell.main(["--check"], root=tmp_path) == 1
    assert colab_cell.main([], root=tmp_path) == 0
    assert colab_cell.main(["--check"], root=tmp_path) == 0
    nb = nbformat.read(nb_path, as_version=4)
    assert len(nb.cells) == 2 and "example-org/example@dev" in nb.cells[0].source
    nbformat.validate(nb)
    # a new URL makes the cell stale; stamping again replaces it rather than adding a second one
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/other/repo\n", encoding="utf-8")
    assert colab_cell.main(["--check"], root=tmp_path) == 1
    assert colab_cell.main([], root=tmp_path) == 0
    nb = nbformat.read(nb_path, as_version=4)
    assert len(nb.cells) == 2 and "other/repo@main" in nb.cells[0].source


# ---------------------------------------------------------------------------------------------
# the {binder} / {colab} roles


def test_launch_urls():
    ext = load_module("launch_links_ext", REPO / "_ext" / "launch_links.py")
    options = {
        "repository_url": "https://github.com/some-org/nncourse",
        "repository_branch": "main",
        "launch_buttons": {
            "binderhub_url": "https://mybinder.org",
            "colab_url": "https://colab.research.google.com",
            "notebook_interface": "jupyterlab",
        },
    }
    urls = ext.launch_urls(options, "exercises/01_perceptron.ipynb")
    assert urls["binder"] == (
        "https://mybinder.org/v2/gh/some-org/nncourse/main?urlpath=lab/tree/exercises/01_perceptron.ipynb"
    )
    assert urls["colab"] == (
        "https://colab.research.google.com/github/some-org/nncourse/blob/main/exercises/01_perceptron.ipynb"
    )
    classic = ext.launch_urls({**options, "launch_buttons": {"notebook_interface": "classic"}}, "a b.ipynb")
    assert classic["binder"].endswith("?filepath=a%20b.ipynb")
    other_host = ext.launch_urls({**options, "repository_url": "https://gitlab.com/o/r"}, "x.ipynb")
    assert other_host["binder"].startswith("https://mybinder.org/v2/git/https%3A%2F%2Fgitlab.com%2Fo%2Fr/main")
    assert other_host["colab"] == ""


# ---------------------------------------------------------------------------------------------
# npm pins


def test_npm_packages_pinned_exactly():
    package = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    deps = package["dependencies"]
    assert set(deps) == {"@jupyter-widgets/html-manager", "mathjax", "requirejs"}
    for name, version in deps.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned exactly: {version}"
    assert deps["@jupyter-widgets/html-manager"].startswith("1.0."), "ipywidgets 8 needs html-manager 1.0.x"
    assert deps["mathjax"].startswith("3.")
    lock = json.loads((REPO / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in deps.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_node_modules_is_not_committed():
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert "node_modules/" in ignored or "node_modules" in ignored


# ---------------------------------------------------------------------------------------------
# Binder


def test_binder_environment():
    assert (REPO / "binder" / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"
    lines = [
        line.strip()
        for line in (REPO / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    names = {re.split(r"[<>=!~\[ ]", line)[0].lower() for line in lines if not line.startswith("-")}
    assert {"torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "tqdm"} <= names
    assert not any(line.startswith("-e") for line in lines), "-e . cannot work from binder/requirements.txt"
    post_build = (REPO / "binder" / "postBuild").read_text(encoding="utf-8")
    assert "pip install" in post_build and "-e ." in post_build
    assert (REPO / "binder" / "postBuild").stat().st_mode & 0o111, "binder/postBuild must be executable"


# ---------------------------------------------------------------------------------------------
# GitHub workflows


def workflow(name: str) -> dict:
    data = load_yaml(f".github/workflows/{name}")
    # YAML 1.1 reads the key `on` as the boolean True
    data["on"] = data.get("on", data.pop(True, None))
    return data


def all_steps(wf: dict) -> list[dict]:
    return [step for job in wf["jobs"].values() for step in job.get("steps", [])]


def uses(wf: dict) -> list[str]:
    return [s["uses"].split("@")[0] for s in all_steps(wf) if "uses" in s]


def runs(wf: dict) -> str:
    return "\n".join(s.get("run", "") for s in all_steps(wf))


def test_publish_workflow():
    wf = workflow("publish.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    test_job, deploy = wf["jobs"]["test"], wf["jobs"]["deploy"]
    assert test_job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11"]
    wanted = {"actions/checkout", "actions/setup-python", "actions/setup-node", "actions/upload-pages-artifact"}
    assert wanted <= set(uses(wf))
    text = runs(wf)
    assert "pip install -r requirements.txt" in text
    assert "npm ci" in text
    assert "tools/test-all.sh" in text
    assert "NNCOURSE_MNIST_SAMPLE" not in json.dumps(wf), "CI must use the full MNIST download"
    assert test_job["env"]["CI"] == "true"
    pages = next(s for s in test_job["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert pages["with"]["path"] == "_build/html"
    assert deploy["needs"] == "test"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert "refs/heads/main" in deploy["if"]


def test_weekly_workflow():
    wf = workflow("weekly.yml")
    assert wf["on"]["schedule"][0]["cron"].count(" ") == 4
    assert "workflow_dispatch" in wf["on"]
    text = runs(wf)
    assert "pip install --upgrade" in text and "-r requirements.txt" in text
    assert "tools/test-all.sh" in text
