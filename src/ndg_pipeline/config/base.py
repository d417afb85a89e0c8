"""The base of every parameter group: frozen, and unknown keys are errors, so a typo stops the run at once."""

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base of every parameter group: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
