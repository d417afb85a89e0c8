"""A study's parameters: cells from the preset, the shared and the variant overrides; typos refused at once."""

import pytest
import torch
import yaml

from ndg_pipeline.config import RunParams, StudyParams
from ndg_pipeline.errors import RunRefused
from ndg_pipeline.studies.cells import with_overrides


def _shipped() -> StudyParams:
    with open("conf/base/parameters_study.yml") as file:
        return StudyParams.model_validate(yaml.safe_load(file)["study"])


def test_each_shipped_study_and_preset_gives_valid_runs_whose_variants_differ_only_where_declared():
    shipped = _shipped()
    base = RunParams().model_dump()
    for name in shipped.studies:
        for preset in shipped.presets:
            study = shipped.model_copy(update={"name": name, "preset": preset})
            cells = study.cells()
            assert len(cells) == len(study.studies[name].variants) * len(study.presets[preset].seeds)
            runs = {(variant, seed): with_overrides(base, overrides) for variant, seed, overrides in cells}
            for (variant, seed), run in runs.items():
                assert run.train.seed == seed
                other = runs[(study.studies[name].baseline, seed)]
                variants = study.studies[name].variants
                declared = {
                    key.split(".")[0] for key in {**variants[variant], **variants[study.studies[name].baseline]}
                }
                differing = {
                    group for group in base if group != "study" and getattr(run, group) != getattr(other, group)
                }
                assert differing <= declared


def test_later_overrides_win_and_memorisation_shuffles_only_its_variant():
    study = _shipped().model_copy(update={"name": "memorization", "preset": "quick"})
    runs = {(v, s): with_overrides(RunParams().model_dump(), o) for v, s, o in study.cells()}
    assert runs[("shuffled_labels", 0)].data.shuffle_labels and not runs[("true_labels", 0)].data.shuffle_labels
    assert runs[("true_labels", 1)].model.root.dropout == 0.0  # shared override
    assert runs[("true_labels", 1)].data.limit == 500  # preset override


def test_a_shared_group_stays_the_studys_own_when_a_variant_overrides_inside_it():
    study = _shipped().model_copy(update={"name": "recurrent"})
    cells = study.cells()
    runs = {(v, s): with_overrides(RunParams().model_dump(), o) for v, s, o in cells}
    assert {(v, run.model.root.hidden) for (v, _), run in runs.items()} == {("state_16", 16), ("state_32", 32)}
    assert all("hidden" not in overrides["model"] for _, _, overrides in cells)
    assert study.studies["recurrent"].shared["model"] == {"architecture": "mnist_rnn", "steps": 7}


def test_an_override_naming_no_parameter_is_refused_with_the_closest_name():
    with pytest.raises(RunRefused, match="did you mean dropout"):
        with_overrides(RunParams().model_dump(), {"model.dropuot": 0.1})


@pytest.mark.parametrize(
    ("update", "message"),
    [
        ({"name": "dropuot"}, "did you mean dropout"),
        ({"preset": "ful"}, "did you mean full"),
    ],
)
def test_unknown_study_or_preset_names_the_known_ones(update, message):
    raw = _shipped().model_dump() | update
    with pytest.raises(ValueError, match=message):
        StudyParams.model_validate(raw)


def test_a_study_needs_its_baseline_among_two_or_more_variants():
    with pytest.raises(ValueError, match="baseline 'b' is not one of the variants"):
        StudyParams.model_validate(
            {"studies": {"s": {"question": "?", "baseline": "b", "variants": {"x": {}, "y": {}}}}, "name": "s"}
        )


def test_every_shipped_cell_plans_and_a_layer_its_network_lacks_is_refused_before_training():
    from ndg_pipeline.studies.cells import plan_cells

    base = RunParams().model_dump(mode="json")
    for name in ("dropout", "memorization", "depth", "recurrent"):
        assert len(plan_cells(_shipped().model_copy(update={"name": name}), base)) == 6
    broken = _shipped().model_dump()
    broken["studies"]["depth"]["variants"]["deep"]["record.layers"] = {"latent": "hidden.5.activation"}
    study = StudyParams.model_validate(broken | {"name": "depth"})
    with pytest.raises(RunRefused, match=r"variant 'deep': layer 'latent'.*hidden\.5\.activation"):
        plan_cells(study, base)


def test_each_player_of_the_recurrent_study_is_the_band_its_network_reads_at_one_step():
    from ndg_pipeline.interactions.players import grid_players
    from ndg_pipeline.models import build_model

    study = _shipped().model_copy(update={"name": "recurrent"})
    for _, _, overrides in study.cells():
        run = with_overrides(RunParams().model_dump(), overrides)
        model = build_model({**run.model.root.model_dump(), "num_classes": 10})
        players = grid_players(28, 28, *run.interactions.image.grid, run.interactions.image.region)
        read = torch.arange(28 * 28.0).reshape(1, 1, 28, 28).reshape(1, model.steps, model.step_inputs)
        assert len(players) == model.steps
        assert all(sorted(player) == read[0, step].long().tolist() for step, player in enumerate(players))
