"""Tests for the HTML report and the paper's transcribed tables, on a small hand-made run."""

from __future__ import annotations

import dataclasses
import math
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from ndg_pipeline.reporting import PAPER_TABLES, ReportContext, paper_rows, render_report
from ndg_pipeline.reporting.figures import ACCURACY_CLIP, alpha_sweep_figure, logit, training_figure
from ndg_pipeline.reporting.paper import paper_dataset

NAN = math.nan
CHECKED_TAGS = {"html", "body", "header", "footer", "section", "table", "thead", "tbody", "tr", "details", "figure"}
SVG = (
    '<?xml version="1.0"?>\n'
    '<svg xmlns="http://www.w3.org/2000/svg" width="60pt" height="40pt"><text>latent 3</text></svg>'
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
INTERVENTION = pd.DataFrame(
    [
        ("train", "patch", 86.40, 11.20, 2.40, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("test", "patch", 85.13, 12.40, 2.47, 97.80, 0.0, 14.3, 0.446875, 978, 1000),
        ("train", "reference", 91.02, 7.11, 1.87, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("test", "reference", 90.50, 7.60, 1.90, 97.80, 0.0, 14.3, 0.446875, 978, 1000),
        ("train", "random_baseline", 31.55, 60.20, 8.25, 99.12, 0.0, 14.3, 0.446875, 3965, 4000),
        ("test", "random_baseline", 30.06, 61.10, 8.84, 97.80, 0.0, 14.3, 0.446875, 978, 1000),
    ],
    columns=[
        "split",
        "mode",
        "aligned",
        "unchanged",
        "unaligned",
        "model_accuracy",
        "mean_contradictions",
        "mean_set_size",
        "set_fraction",
        "n_correct",
        "n_inputs",
    ],
)
PER_CLASS = pd.DataFrame(
    [("test", "patch", c, 98, 80.61 + c, 15.0 - c, 4.39, 14.0, 0.0) for c in range(3)],
    columns=[
        "split",
        "mode",
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
        "support",
        "train_precision",
        "recall",
        "test_precision",
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


def make_context(dataset_name: str = "mnist_sample") -> ReportContext:
    """A small but complete run of the MNIST CNN, as the Kedro node would fill it."""
    return ReportContext(
        title=f"Neuron Dependency Graph — {dataset_name}",
        dataset={"name": dataset_name, "class_names": ["zero", "one", "two"], "n_train": 4000, "n_test": 1000},
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
        run_info={"mlflow_run_id": "3f2a9c0e", "kedro_version": "1.7.0", "created": "2026-11-22T11:04:31+00:00"},
    )


class PageParser(HTMLParser):
    """Checks that structural tags nest and close, and collects every table row's class and cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.rows: list[tuple[str, list[str]]] = []
        self.in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in CHECKED_TAGS:
            self.stack.append(tag)
        if tag == "tr":
            self.rows.append((dict(attrs).get("class") or "", []))
        if tag in ("td", "th"):
            self.rows[-1][1].append("")
            self.in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.in_cell = False
        if tag in CHECKED_TAGS:
            opened = self.stack.pop() if self.stack else None
            if opened != tag:
                self.errors.append(f"</{tag}> closes <{opened}>")

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.rows[-1][1][-1] += data.strip()


def parse(html: str) -> PageParser:
    """Parse a rendered page, failing on unbalanced structural tags."""
    parser = PageParser()
    parser.feed(html)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    return parser


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(make_context())


def test_page_is_well_formed_and_self_contained(page: str) -> None:
    parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?://""", page, re.IGNORECASE)
    assert "<script" not in page and "<link" not in page
    assert page.count('src="data:image/png;base64,') == 2  # training figure and α sweep
    assert "<?xml" not in page and "<svg" in page


def test_sections_come_in_reading_order(page: str) -> None:
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == [
        "how-to-read",
        "setup",
        "model-accuracy",
        "graph-statistics",
        "edge-accuracy",
        "alpha-sweep",
        "intervention",
        "intervention-per-class",
        "drawings",
        "top-edges",
    ]


def test_our_numbers_are_shown_as_passed(page: str) -> None:
    rows = {cells[0]: cells[1:] for _, cells in parse(page).rows if cells}
    assert rows["this run, patch values"] == [
        "86.40",
        "85.13",
        "11.20",
        "12.40",
        "2.40",
        "2.47",
        "99.12",
        "97.80",
        "0.00",
        "0.00",
    ]
    assert rows["this run, random-set baseline"][:2] == ["31.55", "30.06"]
    assert rows["this run (mnist_sample, α = 100)"] == ["470", "99.94", "99.81"]
    assert rows["this run, training history (epoch 3)"] == ["99.12", "97.80"]
    assert rows["mean degree (in + out) of non-isolated literals"] == ["13.06"]
    assert rows["longest path, in edges (– when the graph has a cycle)"] == ["–"]
    assert rows["latent:3"] == ["class:1", "mined", "412", "99.76", "82.11", "99.00"]
    assert rows["¬class:1"] == ["¬latent:3", "contrapositive", "3560", "99.91", "99.99", "–"]
    assert rows["patch values"] == ["test", "14.30", "44.69", "978", "1000"]
    assert rows["learning_rate"] == ["0.001"]
    assert rows["test"] == ["patch values", "2 (two)", "98", "82.61", "13.00", "4.39", "14.00", "0.00"]


def test_paper_rows_beside_ours_when_the_dataset_matches(page: str) -> None:
    rows = {cells[0]: cells[1:] for css, cells in parse(page).rows if css == "paper"}
    table5 = rows["paper, Table 5 (MNIST, α = 100)"]
    assert table5 == ["93.41", "95.21", "5.53", "3.78", "1.05", "1.01", "99.48", "98.93", "0.00", "0.00"]
    assert rows["paper, Table 3 original (MNIST, α = 100)"] == ["524", "99.90", "99.85"]


def test_no_paper_rows_for_an_unknown_dataset() -> None:
    html = render_report(make_context("my_data"))
    parser = parse(html)
    assert "95.21" not in html and "99.85" not in html
    assert not [cells for css, cells in parser.rows if css == "paper"]
    assert "The paper reports no row for this dataset" in html


def test_the_runs_alpha_row_is_highlighted(page: str) -> None:
    highlighted = [cells for css, cells in parse(page).rows if css == "current"]
    assert highlighted == [["100", "470", "3", "99.94", "99.81"]]
    assert "The highlighted row is this run's α = 100." in page


def test_sweep_caption_tells_about_clipping_and_nan_rows_show_as_dash(page: str) -> None:
    assert "clipped to 1 − 10⁻⁶" in page
    swept = [cells for _, cells in parse(page).rows if cells[:1] == ["100000"]]
    assert swept == [["100000", "0", "0", "–", "–"]]
    unclipped = SWEEP.iloc[:3]
    html = render_report(dataclasses.replace(make_context(), alpha_sweep=unclipped, alpha=3.0))
    assert "clipped" not in html
    assert "This run's α = 3 is not among the swept values." in html


def test_graphviz_error_is_shown_in_a_notice() -> None:
    message = "Graphviz's `dot` executable was not found on PATH <install graphviz>"
    html = render_report(dataclasses.replace(make_context(), drawings={"error": message}))
    parse(html)
    assert '<div class="notice">' in html
    assert "not found on PATH &lt;install graphviz&gt;" in html
    assert "<svg" not in html


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
    html = render_report(context)
    parse(html)
    assert "data:image/png;base64," not in html
    assert "No training history was recorded" in html
    assert "No intervention results were recorded" in html
    assert "No per-class intervention results" in html
    assert "95.21" in html  # the paper's Table 5 row still stands for comparison


@pytest.mark.parametrize(
    ("table", "dataset", "column", "value"),
    [
        ("table3", "MNIST", "original_edges", 524),
        ("table3", "SST2", "original_train", 100.0),
        ("table3", "CUB200", "random_model_test", 50.15),
        ("table3", "Devign", "random_input_test", 99.99),
        ("table4", "SST2", "different_models_test", 92.29),
        ("table4", "AllNLI", "different_models_edges", 138406),
        ("table5", "MNIST", "aligned_test", 95.21),
        ("table5", "Devign", "contradictions_train", 102.12),
        ("table5", "CUB200", "unaligned_test", 9.84),
        ("table6", "Devign", "inter_layer_edges", 3430234),
        ("table6", "SST2", "layer2_edges", 1877060),
        ("table6", "MNIST even", "layer1_test", 99.95),
    ],
)
def test_paper_tables_are_transcribed(table: str, dataset: str, column: str, value: float) -> None:
    assert PAPER_TABLES[table].loc[dataset, column] == value


def test_paper_tables_shape_and_missing_cells() -> None:
    datasets = ["MNIST", "MNIST even", "SST2", "AllNLI", "CUB200", "Devign"]
    assert {name: list(frame.index) for name, frame in PAPER_TABLES.items()} == dict.fromkeys(
        ["table3", "table4", "table5", "table6"], datasets
    )
    assert [frame.shape[1] for frame in PAPER_TABLES.values()] == [9, 4, 10, 9]
    assert math.isnan(PAPER_TABLES["table3"].loc["MNIST", "random_model_train"])
    assert math.isnan(PAPER_TABLES["table4"].loc["CUB200", "different_models_test"])
    assert PAPER_TABLES["table3"]["random_model_edges"].dtype == "int64"


def test_dataset_names_map_to_the_papers() -> None:
    assert [paper_dataset(name) for name in ("mnist", "mnist_sample", "mnist_even", "sst2", "allnli")] == [
        "MNIST",
        "MNIST",
        "MNIST even",
        "SST2",
        "AllNLI",
    ]
    assert paper_dataset("cub200") == "CUB200" and paper_dataset("devign") == "Devign"
    assert paper_dataset("my_data") is None
    assert paper_rows("table5", "my_data").empty
    assert list(paper_rows("table5", "my_data").columns) == list(PAPER_TABLES["table5"].columns)
    assert paper_rows("table4", "mnist_even").loc["MNIST even", "different_models_edges"] == 27


def test_logit_is_finite_at_the_ends() -> None:
    values = logit(pd.Series([0.0, 0.5, 1.0]))
    assert values.tolist() == pytest.approx([math.log(ACCURACY_CLIP / (1 - ACCURACY_CLIP)), 0.0, 13.8155], abs=1e-4)


def test_figures_are_png_data_uris() -> None:
    assert alpha_sweep_figure(SWEEP).startswith("data:image/png;base64,iVBORw0KGgo")
    assert training_figure(HISTORY).startswith("data:image/png;base64,iVBORw0KGgo")


def test_each_drawing_is_a_captioned_figure() -> None:
    drawings = {"class:0": SVG, "class:1": SVG}
    html = render_report(dataclasses.replace(make_context(), drawings=drawings))
    parse(html)
    assert html.count('<div class="drawing"><svg') == 2
    assert "Around class 1 (one): sufficient conditions below" in html
    assert 'class="notice"' not in html
