"""The parameter schema against the real conf/base: every key documented, the YAML's values the schema's defaults,
and readable errors for what cannot be run."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ROOT
from kedro.config import OmegaConfigLoader
from pydantic import BaseModel, RootModel

from ndg_pipeline.config import RunParams, validate
from ndg_pipeline.settings import CONFIG_LOADER_ARGS


def base_parameters() -> dict[str, Any]:
    loader = OmegaConfigLoader(str(ROOT / "conf"), **CONFIG_LOADER_ARGS)
    return loader["parameters"]


def schema_keys(model: BaseModel, prefix: str = "") -> set[str]:
    """Dotted names of every field of the schema (parameter groups recursed into; dict parameters are values)."""
    keys = set()
    for name in type(model).model_fields:
        value = getattr(model, name)
        value = value.root if isinstance(value, RootModel) else value
        keys |= schema_keys(value, f"{prefix}{name}.") if isinstance(value, BaseModel) else {f"{prefix}{name}"}
    return keys


def yaml_keys(values: dict[str, Any], model: BaseModel, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in values.items():
        field = getattr(model, name, None)
        field = field.root if isinstance(field, RootModel) else field
        if isinstance(field, BaseModel) and isinstance(value, dict):
            keys |= yaml_keys(value, field, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_every_schema_parameter_is_in_the_base_yaml_and_nothing_else():
    defaults = RunParams()
    assert yaml_keys(base_parameters(), defaults) == schema_keys(defaults)


def test_the_base_yaml_holds_the_schemas_defaults():
    from_yaml = validate(base_parameters()).model_dump()
    defaults = RunParams().model_dump()
    for group, key in (("data", "raw_dir"), ("scale", "store")):  # the YAML resolves them under the project root
        assert from_yaml[group][key] == str(ROOT / defaults[group][key])
        from_yaml[group][key] = defaults[group][key]
    for key in ("studies", "presets"):  # the YAML's catalogue of studies is content: the schema ships none
        from_yaml["study"][key] = defaults["study"][key]
    assert from_yaml == defaults


def test_mistyped_and_impossible_parameters_are_named_with_the_fix():
    with pytest.raises(ValueError, match=r"mine\.alpah: unknown parameter; did you mean alpha\?"):
        validate({"mine": {"alpah": 5}})
    with pytest.raises(ValueError, match=r"mnie: unknown parameter; did you mean mine\?"):
        validate({"mnie": {"alpha": 5}})
    with pytest.raises(ValueError, match=r"alpha must be > 1"):
        validate({"mine": {"alpha": 1}})
    with pytest.raises(ValueError, match=r"data\.name: Input should be 'mnist_sample', 'mnist', 'mnist_even'"):
        validate({"data": {"name": "mnst"}})
    with pytest.raises(ValueError, match=r"no threshold for recorded layer\(s\) \['fc'\]"):
        validate({"record": {"layers": {"fc": "decoder.0"}}})
    with pytest.raises(ValueError, match="layer alias 'class' is not allowed"):
        validate({"record": {"layers": {"class": "latent"}}, "binarize": {"thresholds": {"class": "sigmoid"}}})
