"""Follow every link of every HTML page in a folder of reports, as a browser opening the files would, and as
MLflow's artifact viewer offers them (each link to a sibling file names that file's artifact path)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Anchors(HTMLParser):
    """The hrefs and srcs of a page (in comments or scripts they are not links) and its element ids."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.artifacts: dict[str, str | None] = {}  # href of each <a> → its data-artifact
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in ("href", "src"):
            if values.get(name) is not None:
                self.links.append(str(values[name]))
        if tag == "a" and values.get("href") is not None:
            self.artifacts[str(values["href"])] = values.get("data-artifact")


def anchors(page: Path) -> Anchors:
    parser = Anchors()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def broken_links(folder: Path) -> list[str]:
    """``page: link (why)`` for each link of a page under ``folder`` that does not resolve there: a fragment
    with no element of that id, a file that is not in the folder, or anything outside it (another host, an
    absolute path, a parent folder). Data URIs are content, not links."""
    pages = {page.relative_to(folder).as_posix(): anchors(page) for page in sorted(folder.rglob("*.html"))}
    broken = []
    for name, page in pages.items():
        for link in page.links:
            if link.startswith("data:"):
                continue
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or parts.path.startswith("/") or ".." in parts.path.split("/"):
                broken.append(f"{name}: {link} (points outside the folder)")
                continue
            target_name = (Path(name).parent / unquote(parts.path)).as_posix() if parts.path else name
            target = pages.get(target_name)
            if target is None and not (folder / target_name).is_file():
                broken.append(f"{name}: {link} (no file {target_name})")
            elif parts.fragment and (target is None or unquote(parts.fragment) not in target.ids):
                broken.append(f"{name}: {link} (no element with id {parts.fragment!r})")
    return broken


def broken_artifact_links(folder: Path, artifacts: set[str]) -> list[str]:
    """``page: link (why)`` for each link to another file of ``folder`` that, shown in MLflow's artifact viewer,
    does not name an existing artifact (``artifacts``: the run's artifact paths) for the reader to open."""
    broken = []
    for page in sorted(folder.rglob("*.html")):
        for link, artifact in anchors(page).artifacts.items():
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            if artifact is None:
                broken.append(f"{page.name}: {link} (no data-artifact)")
            elif artifact not in artifacts:
                broken.append(f"{page.name}: {link} (no artifact {artifact})")
    return broken
