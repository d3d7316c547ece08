"""The pages of the book, read from ``_toc.yml`` (shared by the config test and the browser test)."""


def toc_docnames(toc: dict) -> list[str]:
    """Every document the table of contents lists, root first, in reading order (sections included)."""
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return names
