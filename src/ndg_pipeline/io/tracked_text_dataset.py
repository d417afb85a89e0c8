"""A versioned text file (an HTML report, a graph view) that is also logged to the active MLflow run."""

from __future__ import annotations

import mlflow
from kedro.io.core import get_filepath_str
from kedro_datasets.text import TextDataset


class TrackedTextDataset(TextDataset):
    """``text.TextDataset`` that logs each saved version as an artifact of the active MLflow run.

    kedro-mlflow's ``MlflowArtifactDataset`` cannot wrap a versioned dataset under Kedro 1.7: it draws its own
    save version when the catalog builds it lazily, which the catalog then rejects (``VersionAlreadyExistsError``).
    This subclass keeps Kedro's versioning and adds the logging through the dataset's documented save path.
    """

    def save(self, data: str) -> None:
        super().save(data)
        if mlflow.active_run() is not None:
            mlflow.log_artifact(get_filepath_str(self._get_load_path(), self._protocol))  # the version just saved
