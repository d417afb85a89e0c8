"""The one error type for a run this project refuses before (or instead of) doing the work: bad parameters, inputs
out of step, a missing or corrupt saved version. The CLI prints it in a few lines (``ndg_pipeline.cli``)."""


class RunRefused(ValueError):
    """A run that cannot give right results as asked: the message says what, why, and the command that fixes it."""
