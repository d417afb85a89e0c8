"""One folder of reports per run, linked to each other: ``data/08_reporting/runs/<run timestamp>/`` on disk and
the ``reports/`` artifact folder of the run's MLflow run.

Kedro saves each report as a versioned file (``data/08_reporting/report.html/<timestamp>/report.html``), where a
relative link to another report cannot resolve. At the end of a run this hook writes every HTML page the run
saved side by side in one folder, under its catalog file name, with an ``index.html``; the header of each page
(``macros.html.j2``'s ``run_header``) gets links to the others, so the links resolve in the folder and in any copy
of it (an MLflow artifact download, a zip). Pages without that header get the links at the top of their body.

MLflow's artifact viewer shows a page from a ``blob:`` URL in a sandboxed frame: a relative link has no folder to
resolve against there, and the server sends every artifact as a download, so no link can open a sibling file in
that frame (checked with ``mlflow server`` 3.17 and headless Chromium). Each link to a file of the bundle carries
its artifact path (``data-artifact="reports/graph.html"``); in that viewer :data:`VIEWER_SCRIPT` turns a click on
it into a line naming the file to pick in the run's artifact tree, instead of a link that silently does nothing.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

log = logging.getLogger(__name__)
BUNDLES = Path("data") / "08_reporting" / "runs"
ARTIFACT_FOLDER = "reports"
INDEX = "index.html"
NAV = re.compile(r'<nav class="bundle" id="bundle-links">.*?</nav>', re.DOTALL)
BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)
TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)
BUNDLE_LINK = re.compile(r'<a href="([\w.-]+\.html)(#[^"]*)?"')
VIEWER_SCRIPT = """<script>
if (location.protocol === "blob:") {  // MLflow's artifact viewer: links between files cannot open here
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-artifact]");
    if (!link) return;
    event.preventDefault();
    let note = document.getElementById("artifact-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "artifact-note";
      note.style.cssText = "background: #fff3cd; padding: 0.4rem 0.6rem; margin: 0.3rem 0;";
      document.body.prepend(note);
    }
    note.textContent = "MLflow's artifact viewer cannot follow links between files: pick " +
      link.dataset.artifact + " in this run's artifact tree on the left (or download the reports folder).";
  });
}
</script>"""


def is_page(data: Any) -> bool:
    """Whether a saved value is an HTML page (a report), not some other text."""
    return isinstance(data, str) and data.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))


def page_title(page: str, file: str) -> str:
    """A page's ``<title>`` as plain text, its file name when it has none."""
    found = TITLE.search(page)
    return html.unescape(found.group(1)).strip() if found and found.group(1).strip() else file


def links_nav(pages: dict[str, str], current: str) -> str:
    """The header's links: every page of the bundle by title, the current one unlinked, then the index."""
    items = [
        f"<strong>{html.escape(page_title(page, file))}</strong>"
        if file == current
        else f'<a href="{html.escape(file)}">{html.escape(page_title(page, file))}</a>'
        for file, page in pages.items()
    ]
    items.append(f'<a href="{INDEX}">all reports of this run</a>')
    return '<nav class="bundle" id="bundle-links">This run\'s reports: ' + " · ".join(items) + VIEWER_SCRIPT + "</nav>"


def with_artifact_paths(page: str, files: set[str]) -> str:
    """``page`` with each link to a file of the bundle marked with that file's MLflow artifact path."""
    return BUNDLE_LINK.sub(
        lambda found: (
            found.group(0) + f' data-artifact="{ARTIFACT_FOLDER}/{found.group(1)}"'
            if found.group(1) in files
            else found.group(0)
        ),
        page,
    )


def with_links(page: str, nav: str) -> str:
    """``page`` with ``nav`` in its header's link slot, or at the top of its body when it has no such slot."""
    if NAV.search(page):
        return NAV.sub(lambda _: nav, page, count=1)
    body = BODY.search(page)
    return page[: body.end()] + "\n" + nav + page[body.end() :] if body else nav + page


def index_page(pages: dict[str, str], version: str) -> str:
    """The bundle's ``index.html``: one link per report."""
    items = "\n".join(
        f'<li><a href="{html.escape(file)}">{html.escape(page_title(page, file))}</a> ({html.escape(file)})</li>'
        for file, page in pages.items()
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Reports of run {html.escape(version)}</title>\n</head>\n<body>\n"
        f"<h1>Reports of run {html.escape(version)}</h1>\n<ul>\n{items}\n</ul>\n{VIEWER_SCRIPT}\n</body>\n</html>\n"
    )


def write_bundle(pages: dict[str, str], folder: Path, version: str) -> Path:
    """Write ``pages`` (file name → HTML) linked to each other, and their index, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {*pages, INDEX}
    for file, page in pages.items():
        linked = with_links(page, links_nav(pages, file))
        (folder / file).write_text(with_artifact_paths(linked, files), encoding="utf-8")
    (folder / INDEX).write_text(with_artifact_paths(index_page(pages, version), files), encoding="utf-8")
    return folder


class ReportBundle:
    """Collects the HTML pages a run saves and, once it has finished, writes and logs them as one bundle."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.pages: dict[str, str] = {}
        self.version = ""

    @hook_impl
    def after_catalog_created(self, conf_catalog: dict[str, Any], save_version: str) -> None:
        self.files = {
            name: Path(entry["filepath"]).name
            for name, entry in conf_catalog.items()
            if isinstance(entry, dict) and str(entry.get("filepath", "")).endswith(".html")
        }
        self.pages, self.version = {}, save_version

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if is_page(data):
            self.pages[self.files.get(dataset_name, f"{dataset_name}.html")] = data

    @hook_impl(tryfirst=True)  # before kedro-mlflow ends the MLflow run
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if not self.pages:
            return
        import mlflow

        project = Path(run_params.get("project_path") or Path.cwd())
        folder = write_bundle(dict(sorted(self.pages.items())), project / BUNDLES / self.version, self.version)
        log.info("Reports of this run, linked to each other: %s", folder)
        if mlflow.active_run() is not None:
            mlflow.log_artifacts(str(folder), ARTIFACT_FOLDER)
