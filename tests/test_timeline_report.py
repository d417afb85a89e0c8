"""The timeline report: numbers in the right table cells, the figure embedded, sections in reading order, missing
lenses stated, and the README figure a real PNG. Frames are built by hand in the timeline pipeline's layout."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ndg_pipeline.reporting.timeline import render_timeline_report, timeline_figure_png
from ndg_pipeline.reporting.timeline.report import settle_epoch

EPOCHS = [1, 2, 5, 10, 20]
LAYERS = ("encoder.10", "decoder.0", "decoder.3", "decoder.5")
INFO = {"name": "mnist_sample", "class_names": [str(d) for d in range(10)], "n_train": 1000, "n_test": 200}
LINEAGE = {"model": "model-abc123", "data": "data-def456"}


def timeline_frame() -> pd.DataFrame:
    """A timeline of five checkpoints as the pipeline builds it (fractions, percents, bits; whole-layer EI NaN)."""
    frame = pd.DataFrame(
        {
            "epoch": EPOCHS,
            "ndg.edges": [412, 655, 803, 846, 851],
            "ndg.train_accuracy": [0.962, 0.971, 0.978, 0.981, 0.982],
            "ndg.test_accuracy": [0.941, 0.955, 0.963, 0.967, 0.9683],
            "ndg.equivalent_pairs": [3, 2, 2, 1, 1],
            "ndg.patch.graph.aligned": [41.0, 55.5, 63.25, 66.0, 66.5],
            "ndg.patch.random.aligned": [4.0, 3.5, 3.0, 2.75, 2.5],
            "ndg.reference.graph.aligned": [22.0, 31.0, 40.0, 44.5, 45.0],
            "ndg.reference.random.aligned": [9.5, 8.0, 7.25, 7.0, 7.0],
            "interactions.concepts_per_sample": [38.2, 29.4, 21.7, 19.9, 19.6],
            "interactions.explanation_ratio": [0.912, 0.934, 0.951, 0.956, 0.957],
            "interactions.salient_ratio": [0.31, 0.22, 0.16, 0.15, 0.15],
        }
    )
    for offset, layer in enumerate(LAYERS):
        frame[f"ei.{layer}.ei"] = np.nan
        frame[f"ei.{layer}.ei_parts"] = [0.8 + offset * 0.3 + 0.2 * step for step in (0, 1, 2, 2.4, 2.45)]
        frame[f"ei.{layer}.sensitivity"] = frame[f"ei.{layer}.ei_parts"] * 1.6
        frame[f"ei.{layer}.degeneracy_parts"] = frame[f"ei.{layer}.sensitivity"] - frame[f"ei.{layer}.ei_parts"]
    return frame


def layers_frame() -> pd.DataFrame:
    """The layers → dependencies table of a one-layer NDG (the latent, produced by encoder.10)."""
    return pd.DataFrame(
        {
            "layer": ["latent"],
            "linear": ["encoder.10"],
            "edges": [851],
            "edges_within": [604],
            "edge_test_accuracy": [0.9683],
            "ei": [np.nan],
            "ei_parts": [1.69],
            "sensitivity": [2.704],
            "degeneracy": [1.014],
        }
    )


def concepts_frame() -> pd.DataFrame:
    """Two samples (classes 3 and 7), two concepts each plus the whole-input and baseline rows; class 7 has no
    sufficient neuron in the graph."""
    columns = ["sample", "label", "input", "rank", "kind", "order", "value", "players"]
    columns += ["sufficient", "sufficient_on", "necessary", "necessary_on"]
    rows = [
        (0, 3, "concept", 0, "and", 2, 2.5, "cell 3 cell 4", 4, 3, 6, 2),
        (0, 3, "concept", 1, "or", 1, -1.25, "cell 7", 4, 1, 6, 1),
        (0, 3, "full", -1, "", 9, np.nan, "", 4, 4, 6, 5),
        (0, 3, "empty", -1, "", 0, np.nan, "", 4, 0, 6, 0),
        (1, 7, "concept", 0, "and", 3, 1.75, "cell 0 cell 1 cell 4", 0, 0, 5, 3),
        (1, 7, "concept", 1, "and", 1, 0.5, "cell 8", 0, 0, 5, 1),
        (1, 7, "full", -1, "", 9, np.nan, "", 0, 0, 5, 4),
        (1, 7, "empty", -1, "", 0, np.nan, "", 0, 0, 5, 1),
    ]
    frame = pd.DataFrame(rows, columns=columns).assign(class_name=lambda f: f["label"].astype(str))
    frame["sufficient_share"] = frame["sufficient_on"] / frame["sufficient"].where(frame["sufficient"] > 0)
    frame["necessary_share"] = frame["necessary_on"] / frame["necessary"].where(frame["necessary"] > 0)
    return frame


class Page(HTMLParser):
    """Sections in order, tables as lists of rows of cell texts (by the id of the enclosing section), images."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.images: list[str] = []
        self.notices: list[str] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self._notice: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "section":
            self.sections.append(attributes.get("id") or "")
        elif tag == "table":
            self.tables.setdefault(self.sections[-1], []).append([])
        elif tag == "tr":
            self.tables[self.sections[-1]][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attributes.get("src") or "")
        elif tag == "div" and "notice" in (attributes.get("class") or ""):
            self._notice = []
        elif tag == "a":
            self.links.append(attributes.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[self.sections[-1]][-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "div" and self._notice is not None:
            self.notices.append(" ".join("".join(self._notice).split()))
            self._notice = None

    def handle_data(self, data: str) -> None:
        for sink in (self._cell, self._notice):
            if sink is not None:
                sink.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def row_of(table: list[list[str]], first: str, column: int = 0) -> list[str]:
    """The table row whose cell ``column`` reads ``first``."""
    matches = [row for row in table if len(row) > column and row[column] == first]
    assert len(matches) == 1, f"{first!r} in {[row[column] for row in table if len(row) > column]}"
    return matches[0]


def test_sections_figure_and_headline_cells() -> None:
    html = render_timeline_report(timeline_frame(), layers_frame(), concepts_frame(), INFO, LINEAGE)
    page = parse(html)
    assert page.sections == ["timeline", "layers", "concepts", "lens-reports", "how-to-read"]
    assert page.images[0].startswith("data:image/png;base64,")
    png = Image.open(io.BytesIO(base64.b64decode(page.images[0].split(",", 1)[1])))
    assert png.format == "PNG" and png.width > 800 and png.height > png.width  # stacked panels, taller than wide
    assert page.notices == []
    headline = page.tables["timeline"][0]
    assert headline[1] == ["lens", "metric", "1", "2", "5", "10", "20", "settles at epoch"]
    edges = row_of(headline, "edges", column=1)
    assert edges[2:] == ["412", "655", "803", "846", "851", "10"]  # 803 is 5.6% below 851: settles at 10
    accuracy = row_of(headline, "mean edge accuracy, test (%)", column=1)
    assert accuracy[2:] == ["94.10", "95.50", "96.30", "96.70", "96.83", "1"]
    random = row_of(headline, "aligned, patch values, random-set baseline (%, test)", column=1)
    assert random[2:] == ["4.00", "3.50", "3.00", "2.75", "2.50", "not yet"]  # 2.75 is 10% above 2.5
    concepts = row_of(headline, "concepts per sample", column=1)
    assert concepts[2:] == ["38.20", "29.40", "21.70", "19.90", "19.60", "10"]
    ei = row_of(headline, "EI_parts of decoder.0 (bits)", column=1)
    assert ei[2:] == ["1.100", "1.300", "1.500", "1.580", "1.590", "10"]  # 1.5 is 5.7% below 1.59
    assert "model-abc123" in html and "data-def456" in html


def test_cross_lens_tables_and_links() -> None:
    html = render_timeline_report(timeline_frame(), layers_frame(), concepts_frame(), INFO, LINEAGE)
    page = parse(html)
    layers = page.tables["layers"][0]
    assert row_of(layers, "latent") == ["latent", "encoder.10", "851", "604", "96.83", "–", "1.690", "2.704", "1.014"]
    per_class, detail = page.tables["concepts"]
    # class 3: the concept for it (I = 2.5) turns on 3/4 sufficient neurons, the one against it (I = −1.25) 1/4,
    # the whole input 4/4, the baseline 0/4; necessary: 2/6 and 1/6, whole input 5/6, baseline 0.
    sufficient = ["4", "75.00", "25.00", "100.00", "0.00"]
    assert row_of(per_class, "3") == ["3", "1", "1", "1", *sufficient, "6", "33.33", "16.67", "83.33", "0.00"]
    assert row_of(per_class, "7")[2:9] == ["2", "0", "0", "–", "–", "–", "–"]  # no sufficient neuron: undefined
    assert row_of(per_class, "7")[9:12] == ["5", "40.00", "–"]  # (3/5 + 1/5) / 2 for; no concept against class 7
    strongest = [row for row in detail if row[:4] == ["0", "3", "concept", "0"]]
    assert strongest == [["0", "3", "concept", "0", "and", "2", "2.50", "for", "cell 3 cell 4", "3 / 4", "2 / 6"]]
    assert [row[7] for row in detail if row[:4] == ["0", "3", "concept", "1"]] == ["against"]
    assert [row[2] for row in detail[1:5]] == ["concept", "concept", "full", "empty"]
    assert not [link for link in page.links if not link.startswith("#")]  # other reports: through the bundle
    named = html.split('id="lens-reports"')[1]
    assert all(name in named for name in ("report.html", "interaction_report.html", "effective_information.html"))
    assert len(page.images) == 3


def test_missing_lens_is_stated_and_nan_shown_as_dash() -> None:
    timeline = timeline_frame().drop(columns=[c for c in timeline_frame() if c.startswith("interactions.")])
    timeline.loc[timeline["epoch"] == 2, "ndg.edges"] = np.nan
    page = parse(render_timeline_report(timeline, layers_frame(), concepts_frame().iloc[0:0], INFO, LINEAGE))
    assert page.notices == [
        "The interaction concepts lens was not run on these checkpoints (the timeline has no value for it); "
        "its panel and rows are empty."
    ]
    headline = page.tables["timeline"][0]
    assert row_of(headline, "concepts per sample", column=1)[2:] == ["–"] * 6
    assert row_of(headline, "edges", column=1)[2:4] == ["412", "–"]
    assert "concepts" not in page.tables  # no concept table, a note instead


def test_settle_epoch_closed_cases() -> None:
    epochs = pd.Series(EPOCHS)
    assert settle_epoch(epochs, pd.Series([1.0, 2.0, 2.0, 2.0, 2.0])) == 2
    assert settle_epoch(epochs, pd.Series([2.0, 1.0, 2.0, 2.05, 2.0])) == 5  # left and came back: counts from 5
    assert settle_epoch(epochs, pd.Series([np.nan] * 5)) is None


def test_bad_table_is_refused_with_its_columns() -> None:
    with pytest.raises(ValueError, match=r"layers table lacks the columns \['edge_test_accuracy'\]"):
        render_timeline_report(
            timeline_frame(), layers_frame().drop(columns="edge_test_accuracy"), concepts_frame(), INFO, LINEAGE
        )


def test_readme_figure_is_a_png_of_the_timeline() -> None:
    png = Image.open(io.BytesIO(timeline_figure_png(timeline_frame())))
    assert png.format == "PNG" and png.size[1] > png.size[0]


def test_a_role_no_class_has_is_explained_in_words() -> None:
    concepts = concepts_frame().assign(sufficient=0, sufficient_on=0, sufficient_share=float("nan"))
    html = render_timeline_report(timeline_frame(), layers_frame(), concepts, INFO, LINEAGE)
    assert "has no sufficient neuron for any class" in " ".join(html.split())
    assert "has no necessary neuron" not in " ".join(html.split())
    plain = render_timeline_report(timeline_frame(), layers_frame(), concepts_frame(), INFO, LINEAGE)
    assert "neuron for any class" not in " ".join(plain.split())


def test_a_single_layer_is_said_to_compare_nothing() -> None:
    one = render_timeline_report(timeline_frame(), layers_frame(), concepts_frame(), INFO, LINEAGE)
    assert "This run recorded one layer" in " ".join(one.split())
    two_layers = pd.concat([layers_frame(), layers_frame().assign(layer="hidden", linear="decoder.0")])
    several = render_timeline_report(timeline_frame(), two_layers, concepts_frame(), INFO, LINEAGE)
    assert "This run recorded one layer" not in " ".join(several.split())


def test_a_silent_sensitivity_and_a_negative_degeneracy_are_marked_and_explained() -> None:
    silent = layers_frame().assign(ei_parts=74.6, sensitivity=0.458 / 100, degeneracy=0.458 / 100 - 74.6)
    page = " ".join(render_timeline_report(timeline_frame(), silent, concepts_frame(), INFO, LINEAGE).split())
    assert "0.005 ‡" in page and "-74.595 ‡" in page
    assert "one input at a time over its range with every other input held at 0" in page
    plain = " ".join(render_timeline_report(timeline_frame(), layers_frame(), concepts_frame(), INFO, LINEAGE).split())
    assert "‡" not in plain
