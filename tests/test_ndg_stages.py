"""The ndg pipeline's stages in-process: Kedro's SequentialRunner on a catalog of memory datasets, a tiny CNN and a
slice of the embedded digits; the outputs must equal the library run by hand on the same inputs."""

from __future__ import annotations

import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from ndg_pipeline.config import RunParams
from ndg_pipeline.data import load_dataset
from ndg_pipeline.models import build_model
from ndg_pipeline.ndg.binarize import binarize
from ndg_pipeline.ndg.edges import mine_edges
from ndg_pipeline.ndg.recording import record_activations
from ndg_pipeline.pipelines.ndg import create_pipeline


def test_record_to_mine_in_process_equals_the_library_by_hand():
    params = RunParams.model_validate({"data": {"limit": 120}, "mine": {"alpha": 3}})
    splits = load_dataset(params.data)
    model = build_model({**params.model.root.model_dump(), "num_classes": splits.num_classes}, seed=0).eval()
    info = {"num_classes": splits.num_classes}
    catalog = DataCatalog(
        {
            "trained_model": MemoryDataset(model, copy_mode="assign"),
            "dataset_splits": MemoryDataset(splits, copy_mode="assign"),
            "dataset_info": MemoryDataset(info),
            **{f"params:{group}": MemoryDataset(getattr(params, group)) for group in ("record", "binarize", "mine")},
            "params:scale": MemoryDataset(params.scale.model_copy(update={"store": "memory://ndg-stages"})),
        }
    )
    stages = create_pipeline().from_nodes("record_activations").to_nodes("mine_edges")
    SequentialRunner().run(stages, catalog)

    activations = record_activations(model, splits.train, params.record.layers, desc=None)
    predicates = binarize(activations, params.binarize.thresholds, splits.num_classes)
    test_predicates = binarize(
        record_activations(model, splits.test, params.record.layers, desc=None), params.binarize.thresholds, 10
    )
    expected = mine_edges(predicates, test_predicates, alpha=3.0)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(catalog.load("edges_table"), expected)
    priors = catalog.load("priors_table")
    assert priors["n"].tolist() == predicates.sum().astype(int).tolist()
