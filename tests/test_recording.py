"""Recording and binarizing on tiny hand-weighted models: positions with padding, convolutions, thresholds."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from ndg_pipeline.data.splits import Split
from ndg_pipeline.ndg.binarize import binarize
from ndg_pipeline.ndg.recording import record_activations


class Tokens(nn.Module):
    """Embeds token ids as one-hot rows (vocab 5), so a layer's output at a position is its token, and predicts
    class 1 when the sum over real tokens of feature 4 is positive."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(5, 5)
        self.embed.weight.data = torch.eye(5)

    def forward(self, input_ids, attention_mask):
        hidden = self.embed(input_ids)
        score = (hidden[..., 4] * attention_mask).sum(dim=1)
        return torch.stack([-score, score], dim=1)


class Indices(Dataset):
    """Items are their own index; the collate function builds the tokenized batch."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int):
        return index, 0


def token_split(ids: list[list[int]], lengths: list[int]) -> Split:
    def collate(items):
        rows = [index for index, _ in items]
        input_ids = torch.tensor([ids[i] for i in rows])
        mask = torch.tensor([[1] * lengths[i] + [0] * (len(ids[i]) - lengths[i]) for i in rows])
        return {"input_ids": input_ids, "attention_mask": mask}, torch.zeros(len(rows), dtype=torch.long)

    return Split(Indices(len(ids)), collate)


IDS = [[0, 1, 4, 3], [2, 3, 0, 0]]
LENGTHS = [4, 2]  # the second sequence is padded after two tokens


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("first", [[1, 0, 0, 0, 0], [0, 0, 1, 0, 0]]),
        ("last", [[0, 0, 0, 1, 0], [0, 0, 0, 1, 0]]),  # the last *real* token: 3 and 3, not the padding 0
        ("mean", [[0.25, 0.25, 0, 0.25, 0.25], [0, 0, 0.5, 0.5, 0]]),  # padding left out of the mean
    ],
)
def test_each_position_reads_the_right_tokens_of_padded_sequences(position, expected):
    frame = record_activations(Tokens(), token_split(IDS, LENGTHS), {"emb": "embed"}, position, batch_size=2, desc=None)
    assert list(frame.columns) == [f"emb:{i}" for i in range(5)] + ["predicted", "label"]
    np.testing.assert_allclose(frame.iloc[:, :5].to_numpy(), np.array(expected, dtype=np.float32))
    assert frame["predicted"].tolist() == [1, 0]  # token 4 only in the first sequence


def test_convolution_outputs_are_flattened_per_input_in_channel_height_width_order():
    conv = nn.Conv2d(1, 2, kernel_size=1, bias=False)
    conv.weight.data = torch.tensor([[[[1.0]]], [[[-1.0]]]])
    model = nn.Sequential(conv, nn.Flatten(), nn.Linear(8, 2))
    images = torch.arange(8, dtype=torch.float32).reshape(2, 1, 2, 2)
    split = Split(TensorDataset(images, torch.tensor([0, 1])))
    frame = record_activations(model, split, {"conv": "0"}, batch_size=1, desc=None)
    expected = [[0, 1, 2, 3, 0, -1, -2, -3], [4, 5, 6, 7, -4, -5, -6, -7]]
    np.testing.assert_array_equal(frame[[f"conv:{i}" for i in range(8)]].to_numpy(), expected)
    assert frame["label"].tolist() == [0, 1]


def test_several_layers_are_recorded_in_one_pass_in_order():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    split = Split(TensorDataset(torch.randn(7, 2), torch.zeros(7, dtype=torch.long)))
    frame = record_activations(model, split, {"pre": "0", "post": "1"}, batch_size=3, desc=None)
    assert list(frame.columns) == ["pre:0", "pre:1", "pre:2", "post:0", "post:1", "post:2", "predicted", "label"]
    np.testing.assert_allclose(frame[["post:0", "post:1", "post:2"]], np.maximum(frame[["pre:0", "pre:1", "pre:2"]], 0))


def test_recording_refuses_an_empty_split_and_the_all_position():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="nothing to record"):
        record_activations(model, Split(TensorDataset(torch.zeros(0, 2), torch.zeros(0))), {"x": "0"}, desc=None)
    with pytest.raises(ValueError, match="one vector per input"):
        record_activations(model, Split(TensorDataset(torch.zeros(1, 2), torch.zeros(1))), {"x": "0"}, "all")


def test_binarize_is_strict_and_one_hot_encodes_the_predicted_not_the_true_class():
    activations = pd.DataFrame(
        {
            "a:0": [0.0, 1e-7, -1.0],  # pre-activation: > 0 is on; exactly 0 is off
            "s:0": [0.5, 0.5000001, 0.2],  # an applied sigmoid: > 0.5 is on; exactly 0.5 is off
            "predicted": [2, 0, 2],
            "label": [0, 0, 1],
        }
    )
    predicates = binarize(activations, {"a": "pre_activation", "s": "sigmoid"}, num_classes=3)
    assert list(predicates.columns) == ["class:0", "class:1", "class:2", "a:0", "s:0"]
    assert predicates.dtypes.eq(bool).all()
    assert predicates["a:0"].tolist() == [False, True, False]
    assert predicates["s:0"].tolist() == [False, True, False]
    assert predicates[["class:0", "class:1", "class:2"]].to_numpy().tolist() == [
        [False, False, True],
        [True, False, False],
        [False, False, True],
    ]


def test_binarize_takes_a_number_and_names_a_missing_threshold():
    activations = pd.DataFrame({"a:0": [0.2, 0.3], "b:0": [1.0, 2.0], "predicted": [0, 1], "label": [0, 1]})
    assert binarize(activations, {"a": 0.25, "b": 1.5}, 2)["a:0"].tolist() == [False, True]
    with pytest.raises(ValueError, match=r"no threshold for layer\(s\) \['b'\]"):
        binarize(activations, {"a": 0.25}, 2)
