"""Shared fixtures: a throw-away copy of the Kedro project (its own data folder and MLflow store)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).with_name("kedro"))


def make_project(parent: Path) -> Path:
    """A copy of the project's conf/ and pyproject.toml (and src/) under ``parent``: runs there write only there."""
    project = parent / "project"
    project.mkdir()
    shutil.copytree(ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    shutil.copy(ROOT / ".telemetry", project / ".telemetry")
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return project


@pytest.fixture
def kedro_project(tmp_path: Path) -> Path:
    """A fresh throw-away project for one test."""
    return make_project(tmp_path)


def run_kedro(
    project: Path, *args: str, check: bool = True, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real ``kedro`` CLI in ``project`` with telemetry off and the hub offline (``env`` added)."""
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        **(env or {}),
    }
    result = subprocess.run(
        [KEDRO, *args], cwd=project, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"kedro {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
        )
    return result


def mlflow_runs(project: Path):
    """All MLflow runs in the project's sqlite store, as a DataFrame."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    return mlflow.search_runs(search_all_experiments=True)


def versions(project: Path, relative: str) -> list[Path]:
    """The files a versioned catalog entry saved, oldest first."""
    entry = project / relative
    return sorted(entry.glob(f"*/{entry.name}"))


def run_notebook(name: str, started_in: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> list[dict]:
    """Execute ``notebooks/<name>`` from the folder ``started_in`` (it finds its project from there, as a user's
    would, with ``NDG_PROJECT_PATH`` unset) with ``env`` set; returns the outputs of its code cells."""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("NDG_PROJECT_PATH", raising=False)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(started_in)}}
    ).execute()
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under mutmut (``make mutate``), run a mutant's tests fastest first, by the durations of mutmut's traced run:
    with ``-x`` a killed mutant then stops at its cheapest failing test. Plain test runs keep the file order."""
    stats = Path("mutmut-stats.json")  # mutmut runs the tests from its mutants/ folder
    if not os.environ.get("MUTANT_UNDER_TEST") or not stats.exists():
        return
    durations = json.loads(stats.read_text())["duration_by_test"]
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
