"""Tests for the HTML report, on a small hand-made run: numbers in their table cells, sections in reading order."""

from __future__ import annotations

import dataclasses
import math
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from ndg_pipeline.names import RECALL, SUPPORT, TEST_PRECISION, TRAIN_PRECISION
from ndg_pipeline.reporting import PAPER_TABLES, ReportContext, paper_rows, render_report
from ndg_pipeline.reporting.figures import ACCURACY_CLIP, alpha_sweep_figure, logit, training_figure
from ndg_pipeline.reporting.paper import DATASET_NAMES
from ndg_pipeline.reporting.report import EDGE_ROLES, classes_without_sets, informative_edges, role_counts
from ndg_pipeline.reporting.tables import collect_results, comparison_tables, render_tables

NAN = math.nan
VOID = {"meta", "img", "input", "br", "hr", "link", "wbr"}
SVG = (
    '<?xml version="1.0"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="60pt" height="40pt" viewBox="0 0 60 40"><text>latent 3</text></svg>'
)
SWEEP = pd.DataFrame(
    {
        "alpha": [1.01, 20.0, 100.0, 5000.0, 100000.0],
        "edges": [3100, 720, 470, 18, 0],
        "equivalent_pairs": [3, 3, 3, 3, 0],
        "train_accuracy": [0.9712, 0.9984, 0.99943, 1.0, NAN],
        "test_accuracy": [0.9688, 0.9966, 0.99811, 1.0, NAN],
    }
)
SUMMARY_COLUMNS = [
    "split",
    "mode",
    "sets",
    "aligned",
    "unchanged",
    "unaligned",
    "model_accuracy",
    "mean_contradictions",
    "mean_set_size",
    "set_fraction",
    "n_correct",
    "n_inputs",
]
# Rows in the order the pipeline writes them (split, then mode, then sets); the report reorders them.
INTERVENTION = pd.DataFrame(
    [
        ("train", "patch", "graph", 86.40, 11.20, 2.40, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("train", "patch", "random", 31.55, 60.20, 8.25, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("train", "reference", "graph", 91.02, 7.11, 1.87, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("train", "reference", "random", 44.10, 50.00, 5.90, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("test", "patch", "graph", 85.13, 12.40, 2.47, 97.80, 0.0, 14.1, 0.440625, 978, 1000),
        ("test", "patch", "random", 30.06, 61.10, 8.84, 97.80, 0.0, 14.1, 0.440625, 978, 1000),
        ("test", "reference", "graph", 90.50, 7.60, 1.90, 97.80, 0.0, 14.1, 0.440625, 978, 1000),
        ("test", "reference", "random", 43.25, 50.75, 6.00, 97.80, 0.0, 14.1, 0.440625, 978, 1000),
    ],
    columns=SUMMARY_COLUMNS,
)
PER_CLASS = pd.DataFrame(
    [
        ("test", "patch", sets, c, 98, 80.61 + c, 15.0 - c, 4.39, 14.0, 0.0)
        for sets in ("graph", "random")
        for c in (1, 2)
    ],
    columns=[
        "split",
        "mode",
        "sets",
        "counterfactual",
        "n",
        "aligned",
        "unchanged",
        "unaligned",
        "mean_set_size",
        "mean_contradictions",
    ],
)
HISTORY = pd.DataFrame(
    {
        "epoch": [1, 2, 3],
        "loss": [0.9, 0.2, 0.1],
        "train_accuracy": [0.8, 0.95, 0.9912],
        "test_accuracy": [0.85, 0.96, 0.978],
    }
)
TOP_EDGES = pd.DataFrame(
    [
        ("latent:3", True, "class:1", True, "mined", 412, 0.99757, 0.8211, 0.99),
        ("class:1", False, "latent:3", False, "contrapositive", 3560, 0.9991, 0.9999, NAN),
    ],
    columns=[
        "source",
        "source_value",
        "target",
        "target_value",
        "kind",
        SUPPORT,
        TRAIN_PRECISION,
        RECALL,
        TEST_PRECISION,
    ],
)
STATISTICS = {
    "edges": 470.0,
    "mined_edges": 235.0,
    "equivalent_pairs": 3.0,
    "constants": 1.0,
    "literals": 84.0,
    "isolated_literals": 12.0,
    "mean_degree": 13.0556,
    "longest_path": NAN,
    "acyclic": 0.0,
    "weakly_connected_components": 1.0,
    "mean_train_accuracy": 0.99943,
    "mean_test_accuracy": 0.99811,
}
LINEAGE = {"model": "5be1c0ffee15900d", "data": "169ebe4efe76dbd0"}


def make_context(dataset_name: str = "mnist_sample") -> ReportContext:
    """A small but complete run of the MNIST CNN, as the Kedro node would fill it."""
    return ReportContext(
        title=f"Neuron Dependency Graph — {dataset_name}",
        dataset={
            "name": dataset_name,
            "class_names": ["zero", "one", "two"],
            "n_train": 4000,
            "n_test": 1000,
            "fingerprint": LINEAGE["data"],
        },
        parameters={
            "data": {"name": dataset_name, "test_fraction": 0.2, "limit": None},
            "model": {"architecture": "mnist_cnn", "latent_dim": 32},
            "train": {"epochs": 3, "learning_rate": 0.001},
            "record": {"layers": {"latent": "latent"}},
            "mine": {"alpha": 100},
            "intervene": {"value_modes": ["patch", "reference"]},
        },
        training_history=HISTORY,
        graph_statistics=STATISTICS,
        alpha_sweep=SWEEP,
        alpha=100.0,
        intervention=INTERVENTION,
        intervention_per_class=PER_CLASS,
        drawings={"all": SVG},
        top_edges=TOP_EDGES,
        run_info={"ndg_pipeline": "0.1.0", "kedro": "1.7.0", "torch": "2.14.1"},
        lineage=LINEAGE,
    )


@dataclasses.dataclass
class Element:
    """One parsed HTML element: its tag, attributes, children (elements and text) in document order."""

    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        """All text inside, whitespace collapsed."""
        parts = [child if isinstance(child, str) else child.text() for child in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self, tag: str | None = None) -> list[Element]:
        """Every descendant element (with ``tag``), in document order."""
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if tag is None or child.tag == tag:
                    found.append(child)
                found += child.iter(tag)
        return found

    def by_id(self, name: str) -> Element:
        """The descendant with ``id=name`` (exactly one)."""
        matches = [element for element in self.iter() if element.attrs.get("id") == name]
        assert len(matches) == 1, f"{len(matches)} elements with id {name!r}"
        return matches[0]

    def elements(self) -> list[Element]:
        """The direct child elements."""
        return [child for child in self.children if isinstance(child, Element)]


class TreeBuilder(HTMLParser):
    """Builds an Element tree, failing on an end tag that does not close the open element."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        opened = self.stack.pop()
        assert opened.tag == tag, f"</{tag}> closes <{opened.tag}>"

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    """The page as an Element tree; every element must be closed."""
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert [element.tag for element in builder.stack] == ["#document"]
    return builder.root


def table_cells(table: Element) -> dict[str, dict[tuple[str, str], str]]:
    """A rendered table as {row label: {(column group, column): cell text}}; groups are "" when there are none."""
    header_rows = table.iter("thead")[0].iter("tr")
    columns = [cell.text() for cell in header_rows[-1].elements()]
    groups = [""] * len(columns)
    if len(header_rows) == 2:
        groups = [cell.text() for cell in header_rows[0].elements() for _ in range(int(cell.attrs.get("colspan") or 1))]
    rows = {}
    for row in table.iter("tbody")[0].iter("tr"):
        cells = [cell.text() for cell in row.elements()]
        rows[cells[0]] = dict(zip(zip(groups, columns, strict=True), cells, strict=True))
    return rows


def row_classes(table: Element) -> dict[str, str]:
    """{row label: the row's css class} of a rendered table."""
    return {row.elements()[0].text(): row.attrs.get("class") or "" for row in table.iter("tbody")[0].iter("tr")}


def only_table(section: Element) -> Element:
    """The one table of a section."""
    tables = section.iter("table")
    assert len(tables) == 1
    return tables[0]


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(make_context())


@pytest.fixture(scope="module")
def page(html: str) -> Element:
    return parse(html)


def test_page_is_self_contained(html: str) -> None:
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html and "<link" not in html
    page = parse(html)
    images = [image.attrs["src"] for image in page.iter("img")]
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,iVBORw0KGgo") for src in images)
    assert "<?xml" not in html and len(page.iter("svg")) == 1


def test_summary_then_figures_then_details_then_collapsed_parameters(page: Element) -> None:
    body = page.iter("body")[0]
    top = [(element.tag, element.attrs.get("id")) for element in body.elements()]
    assert top == [
        ("header", None),
        ("section", "summary"),
        ("section", "figures"),
        ("section", "details"),
        ("section", "parameters"),
        ("footer", "run"),
    ]
    figures = [element.attrs.get("id") for element in page.by_id("figures").iter("section")]
    assert figures == ["alpha-sweep-figure", "training-figure", "drawings"]
    assert "Figure 3" in page.by_id("alpha-sweep-figure").text()
    assert [image.attrs["alt"] for image in page.by_id("figures").iter("img")] == [
        "Logit of mean edge accuracy and number of edges against α",
        "Training loss and train/test accuracy per epoch",
    ]
    (chart,) = page.by_id("summary").iter("img")  # the per-target-class intervention picture leads
    assert chart.attrs["alt"].startswith("Per target class: aligned, unchanged and unaligned")
    assert page.by_id("summary").elements()[1].attrs.get("id") == "per-target-class"
    assert not page.by_id("details").iter("img")


def test_parameters_are_inside_one_collapsed_details(page: Element) -> None:
    (details,) = page.by_id("parameters").iter("details")
    assert "open" not in details.attrs
    groups = [heading.text() for heading in details.iter("h4")]
    assert groups == ["data", "model", "train", "record", "mine", "intervene"]
    train = table_cells(details.iter("table")[2])
    assert train["learning_rate"][("", "value")] == "0.001"
    assert table_cells(details.iter("table")[3])["layers.latent"][("", "value")] == "latent"
    assert table_cells(details.iter("table")[5])["value_modes"][("", "value")] == "patch, reference"
    outside = [table for section in ("summary", "figures", "details") for table in page.by_id(section).iter("table")]
    assert not any("learning_rate" in table_cells(table) for table in outside)


def test_summary_shows_model_accuracy_edges_and_edge_accuracy_beside_the_paper(page: Element) -> None:
    headline = table_cells(page.by_id("summary").iter("table")[0])
    ours = headline["this run (mnist_sample, α = 100)"]
    assert ours[("model accuracy (%)", "train")] == "99.12" and ours[("model accuracy (%)", "test")] == "97.80"
    assert ours[("", "edges")] == "470"
    assert ours[("mean edge accuracy (%)", "train")] == "99.94"
    assert ours[("mean edge accuracy (%)", "test")] == "99.81"
    paper = headline["paper, Tables 3 and 5 (MNIST, α = 100)"]
    assert [paper[("", "edges")], paper[("mean edge accuracy (%)", "test")]] == ["524", "99.85"]
    assert paper[("model accuracy (%)", "test")] == "98.93"


def test_summary_sets_each_modes_aligned_rate_beside_its_random_baseline(page: Element) -> None:
    aligned = page.by_id("summary").iter("table")[1]
    cells = table_cells(aligned)
    assert list(cells) == ["patch values", "reference values", "paper, Table 5 (MNIST, α = 100)"]
    patch = cells["patch values"]
    assert [patch[("the graph's sets", "train")], patch[("the graph's sets", "test")]] == ["86.40", "85.13"]
    assert patch[("random-set baseline", "test")] == "30.06"
    assert cells["reference values"][("random-set baseline", "train")] == "44.10"
    paper = cells["paper, Table 5 (MNIST, α = 100)"]
    assert paper[("the graph's sets", "test")] == "95.21" and paper[("random-set baseline", "test")] == "–"
    assert row_classes(aligned)["paper, Table 5 (MNIST, α = 100)"] == "paper"


def test_table5_puts_each_modes_random_baseline_under_it(page: Element) -> None:
    table = page.by_id("intervention").iter("table")[0]
    cells = table_cells(table)
    assert list(cells) == [
        "this run, patch values",
        "this run, patch values, random-set baseline",
        "this run, reference values",
        "this run, reference values, random-set baseline",
        "paper, Table 5 (MNIST, α = 100)",
    ]
    assert cells["this run, patch values"][("aligned (%)", "test")] == "85.13"
    assert cells["this run, patch values, random-set baseline"][("aligned (%)", "test")] == "30.06"
    assert cells["this run, reference values"][("unchanged (%)", "train")] == "7.11"
    assert cells["paper, Table 5 (MNIST, α = 100)"][("aligned (%)", "test")] == "95.21"
    classes = row_classes(table)
    assert classes["this run, patch values, random-set baseline"] == "baseline"
    assert classes["this run, patch values"] == ""


def test_set_sizes_and_per_class_rows_name_their_sets(page: Element) -> None:
    sizes = page.by_id("intervention").iter("table")[1]
    rows = [[cell.text() for cell in row.elements()] for row in sizes.iter("tbody")[0].iter("tr")]
    assert rows[:2] == [
        ["patch values", "train", "14.30", "44.69", "3965", "4000"],
        ["patch values", "test", "14.10", "44.06", "978", "1000"],
    ]
    assert rows[2][0] == "patch values, random-set baseline" and len(rows) == 8
    (details,) = page.by_id("intervention-per-class").iter("details")
    assert "open" not in details.attrs
    per_class = [[cell.text() for cell in row.elements()] for row in details.iter("tbody")[0].iter("tr")]
    assert per_class[1] == ["test", "patch values", "2 (two)", "98", "82.61", "13.00", "4.39", "14.00", "0.00"]
    assert per_class[3][1] == "patch values, random-set baseline"


def test_fingerprints_are_in_the_header_line_and_the_footer(page: Element) -> None:
    line = page.by_id("runline").text()
    assert "model weights fingerprint 5be1c0ffee15900d" in line and "data split fingerprint 169ebe4efe76dbd0" in line
    footer = page.by_id("run")
    terms = [element.text() for element in footer.iter("dt")]
    values = [element.text() for element in footer.iter("dd")]
    facts = dict(zip(terms, values, strict=True))
    assert facts["model weights fingerprint"] == LINEAGE["model"]
    assert facts["data split fingerprint"] == LINEAGE["data"]
    assert facts["kedro"] == "1.7.0"


def test_a_run_without_lineage_says_so() -> None:
    page = parse(render_report(dataclasses.replace(make_context(), lineage={})))
    assert page.by_id("runline").text() == "no model or data fingerprint was recorded"
    assert "model weights fingerprint" not in [element.text() for element in page.by_id("run").iter("dt")]


def test_details_show_our_numbers_in_their_cells(page: Element) -> None:
    statistics = table_cells(only_table(page.by_id("graph-statistics")))
    assert statistics["mean degree (in + out) of non-isolated literals"][("", "value")] == "13.06"
    assert statistics["longest path, in edges (– when the graph has a cycle)"][("", "value")] == "–"
    edges = [[cell.text() for cell in row.elements()] for row in only_table(page.by_id("top-edges")).iter("tr")]
    assert edges[1] == [EDGE_ROLES["sufficient"], "latent:3", "class:1", "mined", "412", "99.76", "82.11", "99.00"]
    assert edges[2][:3] == ["contrapositive", "¬class:1", "¬latent:3"] and edges[2][-1] == "–"
    accuracy = table_cells(only_table(page.by_id("model-accuracy")))
    assert accuracy["this run, training history (epoch 3)"][("", "test accuracy (%)")] == "97.80"
    assert accuracy["this run, inputs of the intervention"][("", "train accuracy (%)")] == "99.12"
    dataset = table_cells(only_table(page.by_id("dataset")))
    assert dataset["fingerprint"][("", "value")] == LINEAGE["data"]


def test_no_paper_rows_for_an_unknown_dataset() -> None:
    page = parse(render_report(make_context("my_data")))
    rows = [row for table in page.iter("table") for row in table.iter("tr") if row.attrs.get("class") == "paper"]
    assert rows == []
    assert "The paper reports no row for this dataset" in page.by_id("summary").text()


def test_the_runs_alpha_row_is_highlighted(page: Element) -> None:
    table = only_table(page.by_id("alpha-sweep"))
    assert [label for label, css in row_classes(table).items() if css == "current"] == ["100"]
    assert table_cells(table)["100000"][("", "train accuracy (%)")] == "–"
    assert "The highlighted row is this run's α = 100." in page.by_id("alpha-sweep").text()


def test_sweep_caption_tells_about_clipping_only_when_it_happens(page: Element) -> None:
    assert "clipped to 1 − 10⁻⁶" in page.by_id("alpha-sweep-figure").text()
    unclipped = parse(render_report(dataclasses.replace(make_context(), alpha_sweep=SWEEP.iloc[:3], alpha=3.0)))
    assert "clipped" not in unclipped.by_id("alpha-sweep-figure").text()
    assert "This run's α = 3 is not among the swept values." in unclipped.by_id("alpha-sweep").text()


def test_graph_pictures_are_scaled_and_click_to_enlarge() -> None:
    drawings = {"class:0": SVG, "class:1": SVG}
    page = parse(render_report(dataclasses.replace(make_context(), drawings=drawings)))
    figures = page.by_id("drawings").iter("figure")
    assert len(figures) == 2
    for figure in figures:
        toggle, label, caption = figure.elements()
        assert (toggle.tag, toggle.attrs["type"]) == ("input", "checkbox")
        assert label.tag == "label" and label.attrs["for"] == toggle.attrs["id"]
        assert [child.tag for child in label.elements()] == ["svg"] and caption.tag == "figcaption"
    assert figures[1].iter("figcaption")[0].text().startswith("Around class 1 (one) (its strongest edges")
    assert not [element for element in page.iter("div") if element.attrs.get("class") == "notice"]


def test_graphviz_error_is_shown_in_a_notice() -> None:
    message = "Graphviz's `dot` executable was not found on PATH <install graphviz>"
    page = parse(render_report(dataclasses.replace(make_context(), drawings={"error": message})))
    (notice,) = [element for element in page.by_id("drawings").iter("div") if element.attrs.get("class") == "notice"]
    assert notice.text().endswith("not found on PATH <install graphviz>")
    assert page.iter("svg") == []


def test_empty_history_and_intervention_still_render() -> None:
    empty = pd.DataFrame()
    context = dataclasses.replace(
        make_context(),
        training_history=empty,
        intervention=empty,
        intervention_per_class=empty,
        top_edges=empty,
        alpha_sweep=empty,
    )
    page = parse(render_report(context))
    assert page.iter("img") == []
    assert "No training history was recorded" in page.by_id("training-figure").text()
    assert "No intervention results were recorded" in page.by_id("summary").text()
    assert "No per-class intervention results" in page.by_id("intervention-per-class").text()
    headline = table_cells(page.by_id("summary").iter("table")[0])
    assert headline["this run (mnist_sample, α = 100)"][("model accuracy (%)", "test")] == "–"
    table5 = table_cells(only_table(page.by_id("intervention")))
    assert list(table5) == ["paper, Table 5 (MNIST, α = 100)"]  # the paper's row still stands for comparison


def test_the_tables_page_puts_inter_layer_edges_under_their_direction() -> None:
    groups = {"layer1": (10, 0.99, 0.98), "layer2": (20, 0.97, 0.96), "inter_layer": (5, 0.95, 0.94)}
    results = pd.DataFrame(
        [("mnist_even", "two_layers", group, *numbers, 100.0, 4000, 1000) for group, numbers in groups.items()],
        columns=[
            "dataset",
            "control",
            "group",
            "edges",
            "train_accuracy",
            "test_accuracy",
            "alpha",
            "n_train",
            "n_test",
        ],
    )
    page = parse(render_tables(comparison_tables(collect_results({"mnist_even__two_layers": results}))))
    cells = table_cells(only_table(page.by_id("table6")))
    ours, paper = cells["mnist_even"], cells["paper: MNIST even"]
    assert ours[("inter-layer (layer 1 → layer 2)", "edges")] == "5"
    assert ours[("inter-layer (layer 1 → layer 2)", "test (%)")] == "94.00"
    assert ours[("layer 2", "edges")] == "20" and paper[("layer 2", "edges")] == "7002"
    assert "only the edges from a neuron of layer 1 to a neuron of layer 2" in page.by_id("how-to-read").text()


def test_every_dataset_the_paper_names_has_a_row_in_each_table() -> None:
    for run_name in DATASET_NAMES:
        for table in PAPER_TABLES:
            assert len(paper_rows(table, run_name)) == 1, (run_name, table)
    unknown = paper_rows("table5", "my_data")
    assert unknown.empty and list(unknown.columns) == list(PAPER_TABLES["table5"].columns)


def test_logit_is_finite_at_the_ends() -> None:
    values = logit(pd.Series([0.0, 0.5, 1.0]))
    assert values.tolist() == pytest.approx([math.log(ACCURACY_CLIP / (1 - ACCURACY_CLIP)), 0.0, 13.8155], abs=1e-4)


def test_figures_are_png_data_uris() -> None:
    assert alpha_sweep_figure(SWEEP).startswith("data:image/png;base64,iVBORw0KGgo")
    assert training_figure(HISTORY).startswith("data:image/png;base64,iVBORw0KGgo")


def test_edges_are_listed_in_their_informative_direction_without_contrapositives() -> None:
    columns = ["source", "source_value", "target", "target_value", "kind", SUPPORT]
    edges = pd.DataFrame(
        [
            ("class:1", False, "latent:3", False, "contrapositive", 900),  # ¬class:1 → ¬latent:3: largest support
            ("latent:3", True, "class:1", True, "mined", 40),  # n → class: sufficient
            ("class:2", True, "latent:5", True, "mined", 80),  # class → n: necessary
            ("latent:5", False, "class:2", False, "contrapositive", 500),
            ("latent:1", True, "latent:2", False, "mined", 300),  # n → n
            ("latent:7", False, "class:4", True, "mined", 10),  # ¬n → class: still sufficient
        ],
        columns=columns,
    )
    shown = informative_edges(edges, per_role=5)
    assert shown["role"].tolist() == ["sufficient", "sufficient", "necessary", "between neurons"]
    assert shown["source"].tolist() == ["latent:3", "latent:7", "class:2", "latent:1"]  # by support within a role
    assert role_counts(edges) == {"sufficient": 2, "necessary": 1, "between neurons": 1, "contrapositive": 2}
    assert informative_edges(edges, per_role=1)["source"].tolist() == ["latent:3", "class:2", "latent:1"]


def test_classes_the_graph_cannot_reach_are_named_in_words() -> None:
    per_class = PER_CLASS.assign(mean_set_size=[0.0, 14.0, 0.0, 14.0])  # class 1: empty sets on the graph's rows
    assert classes_without_sets(per_class, ["zero", "one", "two"]) == ["1 (one)"]
    context = make_context()
    context.intervention_per_class = per_class
    summary = parse(render_report(context)).by_id("per-target-class").text()
    assert "At α = 100 the graph has no neuron literal leading to class 1 (one)" in " ".join(summary.split())
    assert "leading to class" not in parse(render_report(make_context())).by_id("per-target-class").text()
