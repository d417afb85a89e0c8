"""The project's ``kedro run``: Kedro's own command, with short errors.

A run this project refuses (bad parameters, inputs out of step, a missing or corrupt saved version), an
interrupted run, a dataset that cannot be read or written and a data or model file that is not there end with the
problem, its cause and the fix in a few lines instead of a traceback; ``kedro run --verbose`` (or ``NDG_VERBOSE=1``)
shows the traceback too.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.io.core import DatasetError

from ndg_pipeline.errors import RunRefused
from ndg_pipeline.hooks import RunInterrupted

SHORT = (RunRefused, RunInterrupted, DatasetError, FileNotFoundError)  # the last: data or model files a user provides
VERBOSE_ENV = "NDG_VERBOSE"


def short_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` whose refusals print as a few lines and exit with status 1 (the traceback when verbose)."""

    @functools.wraps(command)
    def wrapped(*args: Any, verbose: bool = False, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SHORT as error:
            if verbose or os.environ.get(VERBOSE_ENV, "") not in ("", "0"):
                raise
            click.secho("\n".join([f"Error: {error}", *getattr(error, "__notes__", [])]), fg="red", err=True)
            click.secho(f"(the traceback: kedro run --verbose …, or {VERBOSE_ENV}=1)", err=True)
            sys.exit(1)

    return wrapped


@click.group(name="ndg_pipeline")
def cli() -> None:
    """Project commands (``kedro run`` with short errors)."""


run = click.Command(
    name="run",
    callback=short_errors(kedro_run.callback),
    params=[
        *kedro_run.params,
        click.Option(["--verbose"], is_flag=True, default=False, help="Show the full traceback of an error."),
    ],
    help=kedro_run.help,
)
cli.add_command(run)
