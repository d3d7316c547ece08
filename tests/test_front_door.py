"""The front door: README.md, intro.md, CONTRIBUTING.md and the package's description agree with the book.

Every chapter that ``_toc.yml`` lists must be in the README's chapter list (lines ``N. **Title**``), in
the intro's tables (rows ``| N. ...``) and in CONTRIBUTING's chapter table, under the part the table of
contents puts it in; the counts the README spells out ("fifteen chapters in three parts") must be the
table of contents' counts; every path CONTRIBUTING's map names must exist, and every package folder of
``src/nncourse`` must be on the map. A new part then cannot leave the front door describing the old book.
Fast, no build.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from book_toc import toc_docnames

REPO = Path(__file__).resolve().parents[1]
NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four "
        "twenty-five".split()
    )
}
CHAPTER_FILE = re.compile(r"^chapters/(\d{2})_\w+$")


def read(rel: str) -> str:
    return (REPO / rel).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def toc() -> dict:
    return yaml.safe_load(read("_toc.yml"))


@pytest.fixture(scope="module")
def chapters(toc) -> dict[int, tuple[str, str]]:
    """Chapter number -> (notebook stem, caption of its part), for every numbered chapter of the toc."""
    found = {}
    for part in toc["parts"]:
        for name in toc_docnames({"root": "", "parts": [part]})[1:]:
            match = CHAPTER_FILE.match(name)
            if match:
                found[int(match.group(1))] = (name.split("/", 1)[1], part["caption"])
    assert found, "no chapters/NN_* file in _toc.yml"
    return found


def chapters_by_part(text: str, item: re.Pattern) -> dict[int, str | None]:
    """Chapter number -> the bold ``**Part ...**`` line above it, for each line ``item`` matches."""
    part, found = None, {}
    for line in text.splitlines():
        heading = re.fullmatch(r"\*\*(Part [IVX]+: [^*]+)\*\*\s*", line)
        if heading:
            part = heading.group(1).strip()
            continue
        match = item.match(line)
        if match:
            number = int(match.group(1))
            assert number not in found, f"chapter {number} is listed twice"
            found[number] = part
    return found


@pytest.mark.parametrize("page, item, form", [
    ("README.md", r"^(\d+)\. \*\*[^*]+\*\*", "chapter list (lines 'N. **Title**: ...')"),
    ("intro.md", r"^\| (\d+)\. ", "tables (rows '| N. Title | ...')"),
])
def test_front_pages_list_every_chapter_under_its_part(chapters, page, item, form):
    listed = chapters_by_part(read(page), re.compile(item))
    missing = sorted(set(chapters) - set(listed))
    assert not missing, f"{page}'s {form} lacks chapters {missing}"
    unknown = sorted(set(listed) - set(chapters))
    assert not unknown, f"{page} lists chapters {unknown}, which _toc.yml does not have"
    wrong = {n: (listed[n], part) for n, (_, part) in chapters.items() if listed[n] != part}
    assert not wrong, f"{page} puts these chapters under another part than _toc.yml ({page}, toc): {wrong}"


def test_contributing_chapter_table_lists_every_chapter(chapters):
    rows = {}
    for line in read("CONTRIBUTING.md").splitlines():
        match = re.match(r"^\|[^|]*\| (\d+) [^|]+\| `(\d{2}_\w+)` \|", line)
        if match:
            rows[int(match.group(1))] = match.group(2)
    missing = sorted(set(chapters) - set(rows))
    assert not missing, f"CONTRIBUTING.md's chapter table lacks chapters {missing}"
    wrong = {n: (rows[n], stem) for n, (stem, _) in chapters.items() if rows[n] != stem}
    assert not wrong, f"CONTRIBUTING.md names another notebook than _toc.yml (CONTRIBUTING, toc): {wrong}"


def test_readme_counts_chapters_and_parts_as_the_toc_does(chapters):
    text = read("README.md").lower()
    parts = {part for _, part in chapters.values()}
    said = re.findall(r"\b([a-z]+(?:-[a-z]+)?) chapters\b", text)
    counts = [NUMBER_WORDS[word] for word in said if word in NUMBER_WORDS]
    assert counts, "README.md never says how many chapters the book has ('fifteen chapters ...')"
    assert set(counts) == {len(chapters)}, (
        f"README.md speaks of {counts} chapters; _toc.yml has {len(chapters)}: update the README's counts"
    )
    said_parts = [NUMBER_WORDS[w] for w in re.findall(r"\bin ([a-z]+) parts\b", text) if w in NUMBER_WORDS]
    assert said_parts == [len(parts)] * len(said_parts) and said_parts, (
        f"README.md speaks of {said_parts} parts; _toc.yml has {len(parts)} numbered parts"
    )


def test_package_description_follows_the_readme_title():
    title = read("README.md").splitlines()[0].removeprefix("# ").strip()
    description = re.search(r'^description\s*=\s*"([^"]*)"', read("pyproject.toml"), re.M).group(1)
    assert description.startswith(title), f"pyproject.toml's description {description!r} should open with {title!r}"
    docstring = read("src/nncourse/__init__.py").split('"""')[1]
    assert f'"{title}"' in docstring.splitlines()[0], f"src/nncourse/__init__.py should name the course {title!r}"
    assert "to MNIST" not in description + docstring


def test_readme_states_the_python_versions_the_workflow_tests():
    workflow = yaml.safe_load(read(".github/workflows/publish.yml"))
    versions = workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"]
    paragraph = next(
        (p for p in read("README.md").split("\n\n") if p.startswith("**Python versions.**")), None
    )
    assert paragraph, "README.md has no '**Python versions.**' paragraph"
    named = set(re.findall(r"\b3\.\d+\b", paragraph))
    assert set(versions) <= named, f"README.md's Python paragraph names {sorted(named)}; the workflow tests {versions}"
    assert {"3.12", "3.13"} <= set(versions), "the publish workflow should test Python 3.12 and 3.13"


# ---------------------------------------------------------------------------------------------
# CONTRIBUTING's map against the tree


def contributing_blocks() -> list[str]:
    return re.findall(r"^```\n(.*?)^```", read("CONTRIBUTING.md"), re.S | re.M)


def test_contributing_layout_names_only_paths_that_exist():
    layout = contributing_blocks()[0]
    names = re.findall(r"(?<![\w/.-])([\w.-]+(?:/[\w.-]+)*/?)(?=[,\s)]|$)", layout)
    paths = [n for n in names if "/" in n or re.search(r"\.(yml|md|py|sh)$", n)]
    assert "chapters/" in paths and "_toc.yml" in paths, paths
    missing = []
    for path in paths:
        candidates = [REPO / path, REPO / "tools" / path, REPO / "_ext" / path]
        if not any(c.exists() for c in candidates):
            missing.append(path)
    assert not missing, f"CONTRIBUTING.md's layout names paths that do not exist: {missing}"


def test_contributing_package_map_matches_src():
    package = REPO / "src" / "nncourse"
    block = next(b for b in contributing_blocks() if "numpy_nn/" in b)
    folders = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    mapped = set(re.findall(r"^([a-z_]+)/", block, re.M))
    assert folders - mapped == set(), f"CONTRIBUTING.md's package map leaves out {sorted(folders - mapped)}"
    extra = sorted(mapped - folders)
    assert not extra, f"CONTRIBUTING.md maps folders that src/nncourse lacks: {extra}"
    # each file the map names exists in the folder of its entry (or at the top for the first lines)
    missing, folder = [], ""
    for line in block.splitlines():
        head = re.match(r"^([a-z_]+)/", line)
        if head:
            folder = head.group(1)
        elif line and not line.startswith(" "):
            folder = ""
        for name in re.findall(r"(?<![\w/])((?:[a-z_]+/)*[a-z_]+\.py)\b", line):
            if not ((package / folder / name).exists() or (package / name).exists()):
                missing.append(f"{folder}/{name}" if folder else name)
    assert not missing, f"CONTRIBUTING.md's package map names files that do not exist: {missing}"


def test_contributing_backticked_paths_exist():
    text = read("CONTRIBUTING.md")
    missing = []
    for path in sorted(set(re.findall(r"`((?:tests|tools|src|_ext|binder|pages)/[^`\s]+)`", text))):
        pattern = path.replace("NN", "[0-9][0-9]").replace("<name>", "*")
        if not list(REPO.glob(pattern)):
            missing.append(path)
    assert not missing, f"CONTRIBUTING.md names paths that match no file: {missing}"


def test_contributing_layout_maps_every_top_level_folder():
    layout = contributing_blocks()[0]
    folders = sorted({path.split("/", 1)[0] for path in tracked_files() if "/" in path})
    missing = [name for name in folders if not re.search(rf"(?<![\w.-]){re.escape(name)}/", layout)]
    assert not missing, f"CONTRIBUTING.md's layout does not map the folders {missing}"


def tracked_files() -> list[str]:
    import subprocess

    result = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"git ls-files failed here: {result.stderr.strip()}")
    return result.stdout.splitlines()
