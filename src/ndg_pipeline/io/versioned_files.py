"""The shared base of this project's versioned datasets: a path on any fsspec filesystem, Kedro's versioning."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Generic, TypeVar

import fsspec
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    VersionNotFoundError,
    get_filepath_str,
    get_protocol_and_path,
)

Saved = TypeVar("Saved")
Loaded = TypeVar("Loaded")


class VersionedFiles(AbstractVersionedDataset[Saved, Loaded], Generic[Saved, Loaded]):
    """A versioned file or folder at ``filepath`` (local or any fsspec URL); subclasses write and read it."""

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None):
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists, glob_function=self._fs.glob
        )

    def load_path(self) -> str:
        """Where the version being loaded lies; a clear error, naming the command that makes it, when none exists."""
        try:
            return get_filepath_str(self._get_load_path(), self._protocol)
        except VersionNotFoundError as error:
            raise VersionNotFoundError(
                f"{self._filepath} has no saved version yet: the run that makes it has not run here. The trained "
                "model and its checkpoints come from `kedro run --pipelines=ndg` (or `kedro run`, every lens); run "
                f"that first, or pin another folder's version with --load-versions. ({error})"
            ) from error

    def save_path(self) -> str:
        """Where the version being saved goes (its parent folder created)."""
        path = get_filepath_str(self._get_save_path(), self._protocol)
        self._fs.makedirs(str(PurePosixPath(path).parent), exist_ok=True)
        return path

    def _exists(self) -> bool:
        try:
            return self._fs.exists(self.load_path())
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "protocol": self._protocol, "version": self._version}
