"""Kedro nodes of the tables pipeline: read every control's results partition, build and render the tables."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd


def assemble_tables(
    partitions: dict[str, Callable[[], pd.DataFrame]],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Tables 3, 4 and 6 for every dataset with control results (ours beside the paper's), and their HTML page."""
    from ndg_pipeline.reporting.tables import collect_results, comparison_tables, render_tables

    results = collect_results({key: load() for key, load in partitions.items()})
    tables = comparison_tables(results)
    return tables["table3"], tables["table4"], tables["table6"], render_tables(tables)
