"""The interaction library against closed forms, brute force, shapiq's exact indices and real tiny models."""

from __future__ import annotations

import copy
import io
import itertools
import math
import re
import warnings
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.interactions import (
    ImageMasker,
    TabularMasker,
    TokenMasker,
    aggregate,
    and_interactions,
    and_inverse,
    and_or_graph,
    and_transpose,
    compute_rewards,
    discrimination_power,
    explanation_ratio,
    grid_players,
    learn_and_or,
    learn_baseline,
    log_odds,
    modelwise_transferability,
    normalized_strengths,
    or_interactions,
    or_inverse,
    or_transpose,
    reconstruction_error,
    remove_noisy,
    salient_ratio,
    samplewise_transferability,
    sparsity_curve,
    subset_index,
    subset_masks,
    subset_sizes,
    words_of,
)
from ndg_pipeline.interactions.and_or import _learn_compiled, _learn_torch, decaying_rates, reorganize
from ndg_pipeline.interactions.metrics import (
    cover_shares,
    interval_over_inputs,
    matches_null,
    null_draws,
    random_identities,
    salient,
    verdict,
)
from ndg_pipeline.interactions.mlp import TabularMlp
from ndg_pipeline.interactions.patterns import description_length, sub_coalitions
from ndg_pipeline.interactions.split_kernel import row_butterfly_


def brute_and(v: np.ndarray) -> np.ndarray:
    """Σ_{L⊆S} (−1)^{|S|−|L|} v(L), subset by subset (bit tests on indices)."""
    size = len(v)
    return np.array(
        [
            sum((-1) ** (bin(s).count("1") - bin(k).count("1")) * v[k] for k in range(size) if k & ~s == 0)
            for s in range(size)
        ]
    )


def game_of(v: np.ndarray, n: int):
    """shapiq's game protocol (bool coalitions [m, n] → values) reading a reward vector in our order."""
    weights = 1 << (n - 1 - np.arange(n))
    return lambda coalitions: v[(coalitions.astype(np.int64) * weights).sum(axis=1)]


def shapiq_indices(v: np.ndarray, n: int, index: str) -> np.ndarray:
    """shapiq 1.4.1's exact index, mapped from its (size, lexicographic) order to our subset order."""
    from shapiq import ExactComputer

    values = ExactComputer(n_players=n, game=game_of(v, n))(index=index, order=n)
    result = np.zeros(1 << n)
    for players, position in values.interaction_lookup.items():
        result[subset_index(players, n)] = values.values[position]
    return result


def test_subset_order_is_the_authors():
    masks = subset_masks(3)
    assert masks[0].tolist() == [False] * 3 and masks[-1].tolist() == [True] * 3
    assert masks[4].tolist() == [True, False, False]  # player 0 is the most significant bit
    assert subset_index([0, 2], 3) == 5 and subset_sizes(3).tolist() == [0, 1, 1, 2, 1, 2, 2, 3]


def test_more_than_twenty_players_is_refused_with_a_fix():
    with pytest.raises(ValueError, match=r"at most 20.*coarser image grid"):
        subset_masks(21)
    with pytest.raises(ValueError, match="at most 20"):
        TabularMasker(torch.zeros(21))


@pytest.mark.parametrize("n", [1, 3, 6])
def test_unanimity_game_gives_the_and_indicator(n):
    target = (1 << n) - 1 - 1  # all players but the last
    v = np.array([float(k & target == target) for k in range(1 << n)])
    expected = np.zeros(1 << n)
    expected[target] = 1.0
    np.testing.assert_array_equal(and_interactions(v), expected)
    np.testing.assert_array_equal(and_interactions(torch.tensor(v)).numpy(), expected)


def test_any_game_gives_the_or_indicator():
    n, target = 5, 0b01101
    v = np.array([float(k & target != 0) for k in range(1 << n)])
    expected = np.zeros(1 << n)
    expected[target] = 1.0
    np.testing.assert_allclose(or_interactions(v), expected, atol=1e-15)


def test_inverses_efficiency_and_batches():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(4, 1 << 7))
    interactions = and_interactions(rows)
    np.testing.assert_allclose(and_inverse(interactions), rows, atol=1e-12)
    np.testing.assert_allclose(interactions.sum(axis=1), rows[:, -1], atol=1e-12)  # Σ I = v(N)
    np.testing.assert_allclose(or_inverse(or_interactions(rows)), rows, atol=1e-12)
    np.testing.assert_allclose(interactions[2], and_interactions(rows[2]), atol=0)
    np.testing.assert_allclose(brute_and(rows[0][: 1 << 4]), and_interactions(rows[0][: 1 << 4]), atol=1e-12)
    assert and_interactions(rows).dtype == np.float64 and rows.base is None  # input untouched
    with pytest.raises(ValueError, match="2\\^n values"):
        and_interactions(np.zeros(12))
    # One set function as a 1-D torch tensor: reversed along its only axis, like the numpy row.
    single = torch.from_numpy(rows[1].copy())
    np.testing.assert_allclose(or_interactions(single).numpy(), or_interactions(rows[1]), atol=0)
    np.testing.assert_allclose(or_inverse(or_interactions(single)).numpy(), rows[1], atol=1e-12)
    np.testing.assert_allclose(and_interactions(single).numpy(), and_interactions(rows[1]), atol=0)
    np.testing.assert_array_equal(single.numpy(), rows[1])  # the caller's tensor is never written into
    # Integer and float32 inputs come back in float64 (the module's promise), with the brute-force values.
    counts = np.arange(16) ** 2
    for transform in (and_interactions, or_interactions, and_inverse, or_inverse):
        assert transform(counts).dtype == np.float64
        assert transform(torch.from_numpy(counts).float()).dtype == torch.float64
    np.testing.assert_allclose(and_interactions(counts), brute_and(counts.astype(np.float64)), atol=1e-9)


def test_transposes_are_the_gradients_of_the_torch_transforms():
    rng = np.random.default_rng(1)
    v = torch.tensor(rng.normal(size=(3, 64)), requires_grad=True)
    weights = torch.tensor(rng.normal(size=(3, 64)))
    for forward, transpose in ((and_interactions, and_transpose), (or_interactions, or_transpose)):
        (gradient,) = torch.autograd.grad((forward(v) * weights).sum(), v)
        np.testing.assert_allclose(gradient.numpy(), transpose(weights.numpy()), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_shapiq_moebius_and_co_moebius_on_random_games(seed):
    n = 5
    v = np.random.default_rng(seed).normal(size=1 << n)
    np.testing.assert_allclose(and_interactions(v), shapiq_indices(v, n, "Moebius"), atol=1e-12)
    co = shapiq_indices(v, n, "Co-Moebius")
    expected = -((-1.0) ** subset_sizes(n)) * co
    np.testing.assert_allclose(or_interactions(v)[1:], expected[1:], atol=1e-12)
    assert or_interactions(v)[0] == v[0]


def tiny_mlp(features: int = 6, classes: int = 3, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return TabularMlp(features, classes, hidden=16, layers=3).eval()


def test_shapiq_on_real_rewards_of_a_tiny_model():
    model = tiny_mlp()
    x = torch.randn(6, generator=torch.Generator().manual_seed(3))
    v = compute_rewards(model, [TabularMasker(x, 0.0)], [1], batch_size=16, desc=None)[0]
    np.testing.assert_allclose(and_interactions(v), shapiq_indices(v, 6, "Moebius"), atol=1e-9)
    co = shapiq_indices(v, 6, "Co-Moebius")
    np.testing.assert_allclose(or_interactions(v)[1:], (-((-1.0) ** subset_sizes(6)) * co)[1:], atol=1e-9)


def test_rewards_are_the_stable_log_odds_of_the_masked_inputs():
    model = tiny_mlp()
    x, baseline = torch.randn(6), torch.linspace(-1, 1, 6)
    v = compute_rewards(model, [TabularMasker(x, baseline)], [2], desc=None)[0]
    mask = subset_masks(6)[37]
    with torch.no_grad():
        logits = model(torch.where(torch.from_numpy(mask), x, baseline)[None]).double()[0]
    p = torch.softmax(logits, 0)[2]
    assert v[37] == pytest.approx(float(torch.log(p / (1 - p))), abs=1e-5)
    huge = torch.tensor([[400.0, -300.0, -310.0]])
    assert log_odds(huge, 0).item() == pytest.approx(700.0 - np.log1p(np.exp(-10.0)), abs=1e-9)  # no saturation
    assert log_odds(torch.tensor([[2.5]]), 1).item() == 2.5 and log_odds(torch.tensor([[2.5]]), 0).item() == -2.5
    shifted = compute_rewards(model, [TabularMasker(x, baseline)], [2], subtract_empty=True, desc=None)[0]
    np.testing.assert_allclose(shifted, v - v[0])


def trained_binary_model(one_logit: bool) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A tiny MLP trained on a separable two-class table (class = first column > 0)."""
    generator = torch.Generator().manual_seed(0)
    rows = torch.randn(256, 5, generator=generator)
    labels = (rows[:, 0] > 0).long()
    torch.manual_seed(0)
    model = TabularMlp(5, 1 if one_logit else 2, hidden=16, layers=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(150):
        logits = model(rows)
        loss = (
            nn.functional.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
            if one_logit
            else nn.functional.cross_entropy(logits, labels)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), rows, labels


@pytest.mark.parametrize("one_logit", [False, True])
def test_correct_samples_have_positive_full_reward_and_wrong_labels_are_refused(one_logit):
    model, rows, labels = trained_binary_model(one_logit)
    with torch.no_grad():
        logits = model(rows[:20])
    predicted = (logits[:, 0] > 0).long() if one_logit else logits.argmax(1)
    correct = [i for i in range(20) if predicted[i] == labels[i]]
    maskers = [TabularMasker(rows[i], 0.0) for i in correct]
    v = compute_rewards(model, maskers, [int(labels[i]) for i in correct], check_positive=True, desc=None)
    assert (v[:, -1] > 0).all()
    with pytest.raises(ValueError, match="v\\(N\\) ≤ 0"):
        compute_rewards(model, maskers[:1], [1 - int(labels[correct[0]])], check_positive=True, desc=None)


def test_image_masker_keeps_players_and_background():
    image = torch.arange(1.0, 1 + 2 * 6 * 6).reshape(2, 6, 6)
    players = grid_players(6, 6, 2, 2, region=(0, 0, 4, 4))
    masker = ImageMasker(image, players, baseline=-1.0)
    out = masker.inputs(torch.tensor([[True, False, False, True]]))[0]
    assert torch.equal(out[:, :2, :2], image[:, :2, :2]) and torch.equal(out[:, 2:4, 2:4], image[:, 2:4, 2:4])
    assert (out[:, :2, 2:4] == -1).all() and (out[:, 2:4, :2] == -1).all()
    assert torch.equal(out[:, 4:, :], image[:, 4:, :]) and torch.equal(out[:, :, 4:], image[:, :, 4:])
    hidden = ImageMasker(image, players, baseline=0.0, background_kept=False).inputs(
        torch.zeros(1, 4, dtype=torch.bool)
    )
    assert (hidden == 0).all()
    with pytest.raises(ValueError, match="inside"):
        grid_players(6, 6, 2, 2, region=(0, 0, 7, 4))


def tiny_text_model():
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(0)
    config = DistilBertConfig(
        vocab_size=30, dim=16, n_layers=1, n_heads=2, hidden_dim=32, max_position_embeddings=16, pad_token_id=0
    )
    return DistilBertForSequenceClassification(config).eval()


def test_token_masker_replaces_word_embeddings_through_the_probe():
    model = tiny_text_model()
    ids = torch.tensor([2, 11, 12, 13, 14, 3])  # [CLS] w0 w1(two tokens) w2 [SEP]
    inputs = {"input_ids": ids, "attention_mask": torch.ones(6, dtype=torch.long)}
    words = words_of([None, 0, 1, 1, 2, None])
    assert words == [[1], [2, 3], [4]]
    masker = TokenMasker.for_model(model, inputs, words, pad_token_id=0)
    masks = torch.tensor([[True, False, True], [False, False, False]])
    logits = masker.logits(model, masks)
    table = model.get_input_embeddings().weight.detach()
    for row, keep_tokens in enumerate(([1, 1, 0, 0, 1, 1], [1, 0, 0, 0, 0, 1])):
        embeds = table[ids].clone()
        embeds[torch.tensor(keep_tokens) == 0] = table[0]
        with torch.no_grad():
            expected = model(inputs_embeds=embeds[None], attention_mask=inputs["attention_mask"][None]).logits[0]
        torch.testing.assert_close(logits[row].detach(), expected)


def test_and_or_split_keeps_q_in_its_box_gets_sparser_and_finds_the_planted_or():
    rng = np.random.default_rng(2)
    n = 6
    base = np.array([float(k & 0b110000 == 0b110000) * 3 + float(k & 0b000011 != 0) * 2 for k in range(1 << n)])
    rewards = base + rng.normal(scale=0.05, size=(3, 1 << n))
    split = learn_and_or(rewards, iterations=400, learning_rate=1e-3, desc=None)
    assert (np.abs(split.q) <= split.q_bound[:, None] + 1e-12).all()
    assert (split.loss_history[-1] < 0.8 * split.loss_history[0]).all()
    low = subset_sizes(n) <= 1
    assert (split.or_interactions[:, low] == 0).all()
    single = learn_and_or(rewards[1], iterations=400, learning_rate=1e-3, desc=None)
    np.testing.assert_allclose(single.and_interactions[0], split.and_interactions[1], atol=1e-9)
    strongest_or = np.argmax(np.abs(split.or_interactions), axis=1)
    assert (strongest_or == 0b000011).all()  # the planted OR pattern is found as an OR


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 9])
def test_compiled_row_butterfly_is_the_subset_and_superset_mobius_transform(n):
    v = np.random.default_rng(n).normal(size=1 << n)
    subset = v.copy()
    row_butterfly_(subset, True)
    np.testing.assert_allclose(subset, brute_and(v), atol=1e-9)
    superset = v.copy()
    row_butterfly_(superset, False)
    np.testing.assert_allclose(superset, brute_and(v[::-1])[::-1], atol=1e-9)  # J·M·J: sums over supersets


@pytest.mark.parametrize("n", [1, 3, 4, 6, 8])
def test_compiled_split_follows_the_torch_loop_step_for_step(n):
    rewards = np.random.default_rng(n).normal(size=(3, 1 << n)) + np.linspace(0, 4, 1 << n)
    rates = decaying_rates(1e-3, 120)
    steps = np.array([0, 60, 119])
    bound = 0.04 * np.abs(rewards[:, -1] - rewards[:, 0])
    with tqdm(disable=True) as progress:
        compiled = _learn_compiled(rewards, bound, rates, 0.9, steps, progress)
        batched = _learn_torch(rewards, bound, rates, 0.9, steps, progress, torch.device("cpu"))
    for ours, theirs in zip(compiled, batched, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert (compiled[4][-1] < compiled[4][0]).all()  # the loss fell: both loops really stepped


class Updates(list):
    """A stand-in progress bar that keeps the size of every update."""

    def update(self, n=1):
        self.append(n)


def test_both_split_loops_advance_the_progress_bar_by_every_iteration():
    rewards = np.random.default_rng(0).normal(size=(2, 8))
    bound = 0.04 * np.abs(rewards[:, -1] - rewards[:, 0])
    rates = decaying_rates(1e-3, 101)
    steps = np.array([0, 100])
    compiled, batched = Updates(), Updates()
    _learn_compiled(rewards, bound, rates, 0.9, steps, compiled)
    _learn_torch(rewards, bound, rates, 0.9, steps, batched, torch.device("cpu"))
    assert compiled == [2] * 50 + [1]  # about a hundred chunks: ⌈101 / 100⌉ = 2 iterations each, the last one 1
    assert batched == [1] * 101
    with tqdm(total=101, file=io.StringIO()) as progress:  # tqdm takes both
        _learn_torch(rewards, bound, rates, 0.9, steps, progress, torch.device("cpu"))
        assert progress.n == 101


def test_learning_rates_decay_log_linearly_from_lr_to_a_tenth():
    np.testing.assert_allclose(decaying_rates(0.2, 3), [0.2, 0.2 / math.sqrt(10), 0.02], rtol=1e-15)
    np.testing.assert_allclose(decaying_rates(0.2, 2), [0.2, 0.02], rtol=1e-15)
    one = decaying_rates(0.2, 1)
    assert one.tolist() == [0.2] and one.dtype == np.float64
    with pytest.raises(ValueError, match=r"^iterations must be at least 1; got 0\.$"):
        decaying_rates(0.2, 0)
    for rate in (0.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match=rf"^the learning rate must be positive; got {rate}\.$"):
            decaying_rates(rate, 5)


def test_or_terms_of_order_at_most_one_move_to_and_by_hand():
    # n = 2: indices 0 = ∅, 1 = {1}, 2 = {0} are of order ≤ 1; 3 = {0, 1} stays OR.
    and_values, or_values = np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 20.0, 30.0, 40.0])
    moved_and, kept_or = reorganize(and_values, or_values)
    assert moved_and.tolist() == [11.0, 22.0, 33.0, 4.0] and kept_or.tolist() == [0.0, 0.0, 0.0, 40.0]
    rows_and, rows_or = reorganize(np.tile(and_values, (3, 1)), np.tile(or_values, (3, 1)))
    assert rows_and.tolist() == [[11.0, 22.0, 33.0, 4.0]] * 3 and rows_or.tolist() == [[0.0, 0.0, 0.0, 40.0]] * 3


def test_and_or_split_reads_rewards_in_float64_and_refuses_a_length_other_than_2_to_the_n():
    rewards = np.array([[0.1, 1.3, -0.7, 2.9], [1e-8, 0.3, 0.2, 1.0]], dtype=np.float32)
    split = learn_and_or(rewards, iterations=30, learning_rate=1e-3, desc=None)
    exact = rewards.astype(np.float64)
    np.testing.assert_array_equal(split.q_bound, 0.04 * np.abs(exact[:, -1] - exact[:, 0]))
    assert split.q_bound.dtype == np.float64 and split.p.dtype == np.float64
    with pytest.raises(ValueError, match=r"a set function has 2\^n values .*; got a row of length 12\."):
        learn_and_or(np.zeros(12), iterations=5, desc=None)
    with pytest.raises(ValueError, match=r"a set function has 2\^n values .*; got a row of length 6\."):
        learn_and_or(np.zeros((3, 6)), iterations=5, desc=None)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_and_or_split_on_cuda_equals_the_compiled_cpu_one():
    rewards = np.random.default_rng(1).normal(size=(3, 1 << 5)) + np.linspace(0, 4, 1 << 5)
    on_cpu = learn_and_or(rewards, iterations=120, learning_rate=1e-3, desc=None)
    on_cuda = learn_and_or(rewards, iterations=120, learning_rate=1e-3, device="cuda", desc=None)
    for field in ("and_interactions", "or_interactions", "p", "q", "loss_history"):
        np.testing.assert_allclose(getattr(on_cuda, field), getattr(on_cpu, field), rtol=1e-9, atol=1e-9)


def test_learned_baseline_makes_interactions_sparser_within_bounds():
    model = tiny_mlp(5, 2)
    x = torch.randn(5, generator=torch.Generator().manual_seed(4))
    start = torch.zeros(5)
    learned = learn_baseline(
        model, TabularMasker(x, start), 1, start - 0.5, start + 0.5, iterations=20, learning_rate=0.05, desc=None
    )
    assert learned.l1_history[-1] < learned.l1_history[0]
    assert (learned.baseline.abs() <= 0.5 + 1e-6).all()
    direct = compute_rewards(model, [TabularMasker(x, learned.baseline)], [1], desc=None)[0]
    np.testing.assert_allclose(learned.rewards, direct)


def brute_learned_baseline(model, x, start, lower, upper, label, iterations, learning_rate, reward):
    """Spec §4 step by step with dense matrices: M[S, L] = (−1)^{|S|−|L|} for L ⊆ S, c = Mᵀ sign(M v_b), the
    gradient of Σ_L c_L v_b(L) by autograd over all masked inputs at once, b ← clip(b − lr·10^{−t/(T−1)}·g)."""
    n, size = len(x), 1 << len(x)
    dense = np.array(
        [[(-1.0) ** bin(s ^ k).count("1") if k & ~s == 0 else 0.0 for k in range(size)] for s in range(size)]
    )
    keep = torch.tensor([[bool(k >> (n - 1 - i) & 1) for i in range(n)] for k in range(size)])

    def rewards(b):
        return reward(model(torch.where(keep, x, b)), label).double()

    baseline, history = start.clone(), []
    for t in range(iterations):
        rate = learning_rate * 10.0 ** (-t / (iterations - 1))
        leaf = baseline.clone().requires_grad_(True)
        v = rewards(leaf)
        interactions = dense @ v.detach().numpy()
        history.append(np.abs(interactions).sum())
        weights = torch.from_numpy(dense.T @ np.sign(interactions))
        (gradient,) = torch.autograd.grad((v * weights).sum(), leaf)
        baseline = torch.minimum(torch.maximum(baseline - rate * gradient, lower), upper)
    with torch.no_grad():
        final = rewards(baseline).numpy()
    return baseline, final, dense @ final, np.array(history)


def assert_learned_like(learned, expected):
    np.testing.assert_allclose(learned.baseline.numpy(), expected[0].numpy(), rtol=1e-6, atol=1e-7)
    for ours, theirs in zip((learned.rewards, learned.interactions, learned.l1_history), expected[1:], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_learned_baseline_with_the_defaults_is_the_dense_method_and_labels_its_progress_bar(capsys):
    model = tiny_mlp(3, 2, seed=2)
    x = torch.tensor([1.5, -0.8, 0.6])
    start = torch.tensor([0.2, -0.1, 0.0])
    lower, upper = start - 0.05, start + 0.05
    learned = learn_baseline(model, TabularMasker(x, start), 0, lower, upper)  # 50 iterations, lr 1e-3, log-odds

    def two_class_log_odds(z, y):
        return z[:, y] - z[:, 1 - y]

    assert_learned_like(learned, brute_learned_baseline(model, x, start, lower, upper, 0, 50, 1e-3, two_class_log_odds))
    assert re.search(r"(^|\r)baseline: 100%", capsys.readouterr().err)


def test_learned_baseline_in_chunks_against_binding_bounds_is_the_dense_method_and_silent(capsys):
    model = tiny_mlp(4, 2, seed=2)
    x = torch.tensor([0.9, 1.2, -1.1, 0.4])
    start = torch.tensor([0.0, 0.3, -0.2, 0.1])
    lower = start + torch.tensor([-0.03, -0.03, 0.0, -0.03])  # player 2's bounds meet: its baseline cannot move
    upper = start + torch.tensor([0.03, 0.03, 0.0, 0.03])

    def logit(z, y):  # a reward other than the default log-odds
        return z[:, y].double()

    learned = learn_baseline(
        model, TabularMasker(x, start), 1, lower, upper, 12, 0.3, batch_size=3, reward=logit, desc=None
    )  # 16 masks in chunks of 3, 3, 3, 3, 3, 1
    assert_learned_like(learned, brute_learned_baseline(model, x, start, lower, upper, 1, 12, 0.3, logit))
    assert learned.baseline[0] == lower[0] and learned.baseline[1] == upper[1]  # both bounds bind…
    assert lower[3] < learned.baseline[3] < upper[3]  # …and one player's baseline stays inside them
    assert capsys.readouterr().err == ""  # desc=None: no progress bar, not even the rewards' one


def test_learned_baseline_refuses_crossed_bounds_and_keeps_the_maskers_dtype():
    model = tiny_mlp(3, 2)
    masker = TabularMasker(torch.tensor([1.0, 2.0, 3.0]), 0.0)
    message = r"^the baseline's lower bound exceeds its upper bound somewhere; give lower ≤ upper\.$"
    with pytest.raises(ValueError, match=message):
        learn_baseline(model, masker, 1, torch.tensor([0.0, 0.2, 0.0]), 0.1, iterations=1, desc=None)
    pinned = learn_baseline(model, masker, 1, np.full(3, 0.1), np.full(3, 0.1), iterations=2, desc=None)
    assert pinned.baseline.dtype == torch.float32  # float64 bounds are read in the masker's dtype
    np.testing.assert_array_equal(pinned.baseline.numpy(), np.full(3, 0.1, dtype=np.float32))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_learned_baseline_on_cuda_equals_the_cpu_one():
    model = tiny_mlp(4, 2, seed=2)
    x = torch.tensor([0.9, 1.2, -1.1, 0.4])
    start = torch.tensor([0.0, 0.3, -0.2, 0.1])
    lower, upper = start - 0.03, start + 0.03
    runs = [
        learn_baseline(copy.deepcopy(model).to(device), TabularMasker(x, start), 1, lower, upper, 12, 0.3, batch_size=3)
        for device in ("cpu", "cuda")
    ]
    np.testing.assert_allclose(runs[1].baseline.numpy(), runs[0].baseline.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(runs[1].l1_history, runs[0].l1_history, rtol=1e-5)


def brute_error(target, kinds, masks, values, bias):
    size = len(target)
    and_values, or_values = np.zeros(size), np.zeros(size)
    and_values[0] = bias
    for kind, mask, value in zip(kinds, masks, values, strict=True):
        (and_values if kind == "and" else or_values)[mask] += value
    rebuilt = and_inverse(and_values) + or_inverse(or_values)
    return np.sum((target - rebuilt) ** 2) / np.sum(target**2)


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_noise_removal_error_is_exact_and_small_games_do_not_crash(n):
    rng = np.random.default_rng(n)
    target = rng.normal(size=1 << n)
    split = learn_and_or(target, iterations=50, learning_rate=1e-3, desc=None)
    kept = remove_noisy(
        target + split.q[0], split.and_interactions[0], split.or_interactions[0], min_patterns=3, max_patterns=6
    )
    assert len(kept.values) <= 6
    assert kept.error == pytest.approx(
        brute_error(target + split.q[0], kept.kinds, kept.masks, kept.values, kept.bias), abs=1e-9
    )
    assert (np.diff(np.abs(kept.values)) <= 0).all() and 0 not in kept.masks[kept.kinds == "and"]


def test_noise_removal_keeps_a_planted_sparse_game():
    n = 8
    size = 1 << n
    v = np.zeros(size)
    planted = {0b11000000: 4.0, 0b00110000: -3.0, 0b00001110: 2.0}
    noise = np.random.default_rng(0).normal(scale=1e-3, size=size)
    for mask, value in planted.items():
        v += value * np.array([float(k & mask == mask) for k in range(size)])
    kept = remove_noisy(v + and_inverse(noise), and_interactions(v) + noise, min_patterns=1, max_patterns=10)
    assert kept.thresholds_met and set(kept.masks.tolist()) == set(planted)


def authors_greedy(
    target, and_values, or_values, min_patterns, max_patterns, n_greedy, max_error, min_ratio, cut, bulk=0
):
    """The authors' remove_noisy_greedy written out independently: at each step zero every candidate among the
    n_greedy weakest remaining patterns in turn, rebuild the target on all masks, keep the removal with the
    smallest squared error; then the last step meeting both thresholds (else max_patterns kept). The constant
    (I_and(∅)) stays, as in ours; the games here have no zero patterns. ``bulk``: the weakest patterns removed
    first in one recorded step (ours does that beyond the ``greedy_from`` strongest)."""
    size = len(target)
    values = np.concatenate([and_values, or_values])
    pool = [i for i in np.argsort(np.abs(values), kind="stable") if i % size != 0 and values[i] != 0]
    energy = np.sum(target**2)

    def rebuilt(removed):
        kept = values.copy()
        kept[list(removed)] = 0.0
        return and_inverse(kept[:size]) + or_inverse(kept[size:])

    def ratios(removed):
        kept = [i for i in pool if i not in removed]
        strong = np.abs(values[kept]).sum()
        authors = strong / (strong + abs(values[list(removed)].sum())) if removed else 1.0
        return authors, strong / np.abs(values[pool]).sum()

    removed, steps = pool[:bulk], [(len(pool), np.sum((target - rebuilt([])) ** 2) / energy, *ratios([]))]
    if bulk:
        steps.append((len(pool) - bulk, np.sum((target - rebuilt(removed)) ** 2) / energy, *ratios(removed)))
    while len(pool) - len(removed) > min_patterns:
        window = [i for i in pool if i not in removed][:n_greedy]
        errors = [np.sum((target - rebuilt([*removed, i])) ** 2) for i in window]
        removed.append(window[int(np.argmin(errors))])
        steps.append((len(pool) - len(removed), min(errors) / energy, *ratios(removed)))
    column = 2 if cut == "authors" else 3
    good = [i for i, step in enumerate(steps) if step[1] < max_error and step[column] > min_ratio]
    good = [i for i in good if steps[i][0] <= max_patterns]
    count = steps[good[-1]][0] if good else min(max_patterns, len(pool))
    kept = sorted(set(pool) - set(removed[: len(pool) - count]))
    return kept, np.array(steps), bool(good)


@pytest.mark.parametrize("cut", ["authors", "strict"])
@pytest.mark.parametrize("seed", range(6))
def test_noise_removal_is_the_authors_greedy(cut, seed):
    rng = np.random.default_rng(seed)
    n = 5
    planted = np.zeros(1 << n)
    planted[rng.choice(np.arange(1, 1 << n), 4, replace=False)] = rng.normal(scale=4.0, size=4)
    and_values = planted + rng.normal(scale=0.3, size=1 << n)
    and_values[0] = 0.0  # v(∅) = 0: the constant is no concept
    or_values = rng.normal(scale=0.2, size=1 << n) * (subset_sizes(n) >= 2)
    target = and_inverse(and_values) + or_inverse(or_values)
    rules = {"min_patterns": 3, "max_patterns": 12, "n_greedy": 6, "max_error": 0.05, "min_explanation": 0.8}
    kept = remove_noisy(target, and_values, or_values, **rules, greedy_from=400, cut=cut)
    expected, steps, met = authors_greedy(target, and_values, or_values, *rules.values(), cut)
    ours = sorted(np.where(kept.kinds == "and", kept.masks, kept.masks + (1 << n)).tolist())
    assert ours == expected and kept.thresholds_met == met and kept.cut == cut
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, atol=1e-9)
    values = np.concatenate([and_values, or_values])
    dropped = [i for i in range(2 << n) if i % (1 << n) and i not in expected]
    strong = np.abs(values[expected]).sum()
    assert kept.explanation_ratio == pytest.approx(strong / (strong + abs(values[dropped].sum())), abs=1e-12)
    assert kept.strength_share == pytest.approx(strong / (strong + np.abs(values[dropped]).sum()), abs=1e-12)
    assert kept.error == pytest.approx(brute_error(target, kept.kinds, kept.masks, kept.values, kept.bias), abs=1e-9)


def test_the_authors_cut_keeps_fewer_patterns_than_the_strict_one_on_cancelling_noise():
    rng = np.random.default_rng(3)
    n = 7
    and_values = rng.normal(scale=0.05, size=1 << n)  # noise that largely cancels in sum
    and_values[[0b1100000, 0b0011000, 0b0000111]] = [5.0, -4.0, 3.0]
    and_values[0] = 0.0
    target = and_inverse(and_values)
    rules = {"min_patterns": 3, "max_patterns": 80}
    authors = remove_noisy(target, and_values, **rules)
    strict = remove_noisy(target, and_values, **rules, cut="strict")
    assert authors.thresholds_met and authors.explanation_ratio > 0.95
    assert sorted(authors.masks.tolist()) == [0b0000111, 0b0011000, 0b1100000]  # just the planted three
    assert authors.strength_share < 0.95  # the stricter number is reported beside R, never as R
    assert strict.thresholds_met and strict.strength_share > 0.95 and len(strict.values) > 50


def kept_indices(kept, n):
    """Retained patterns as indices into [and_values, or_values], as authors_greedy returns them."""
    return sorted(np.where(kept.kinds == "and", kept.masks, kept.masks + (1 << n)).tolist())


def default_rules_game(case):
    n = 6
    size = 1 << n
    rng = np.random.default_rng(2 if case == "error-bound" else 0)
    if case == "error-bound":  # 50 planted patterns of alternating sign in noise: the error decides the cut
        values = rng.normal(scale=0.05, size=2 * size)
        planted = rng.choice(np.arange(1, size), 50, replace=False)
        values[planted] = rng.choice([-1.0, 1.0], 50) * np.geomspace(3.0, 0.5, 50)
    else:  # all positive and alike: R stays far below 0.95 at every count up to 80
        values = rng.uniform(0.5, 1.5, size=2 * size)
    and_values, or_values = values[:size], values[size:] * (subset_sizes(n) >= 2)
    and_values[0] = 0.0
    return n, and_inverse(and_values) + or_inverse(or_values), and_values, or_values


@pytest.mark.parametrize("case", ["error-bound", "unmet"])
def test_noise_removal_with_the_default_rules_is_the_authors_greedy(case):
    n, target, and_values, or_values = default_rules_game(case)
    kept = remove_noisy(target, and_values, or_values)  # 15 to 80 patterns, greedy among 20, E < 0.1, R > 0.95
    expected, steps, met = authors_greedy(target, and_values, or_values, 15, 80, 20, 0.1, 0.95, "authors")
    assert kept_indices(kept, n) == expected and kept.thresholds_met == met
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, atol=1e-12)
    if case == "error-bound":
        cut = len(kept.values)
        after = kept.steps[kept.steps.patterns < cut]
        assert cut > 15 and ((after.error >= 0.1) | (after.explanation_ratio <= 0.95)).all()
        assert (after.explanation_ratio > 0.95).any()  # the error alone stops the cut there
    else:
        assert not met and len(kept.values) == 80


def test_noise_removal_moves_the_empty_or_term_into_the_constant():
    rng = np.random.default_rng(11)
    n = 4
    and_values = rng.normal(size=1 << n)
    and_values[0] = 0.5
    or_values = rng.normal(scale=0.5, size=1 << n) * (subset_sizes(n) >= 2)
    or_values[0] = 1.0  # I_or(∅) fires on every mask, as the constant does
    target = and_inverse(and_values) + or_inverse(or_values)
    originals = and_values.copy(), or_values.copy()
    rules = {"min_patterns": 2, "max_patterns": 6, "n_greedy": 4, "max_error": 0.05, "min_explanation": 0.8}
    kept = remove_noisy(target, and_values, or_values, **rules)
    expected, steps, met = authors_greedy(target, and_values, or_values, *rules.values(), "authors")
    assert kept_indices(kept, n) == expected and kept.thresholds_met == met
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, atol=1e-12)
    assert kept.bias == 1.5
    np.testing.assert_array_equal(and_values, originals[0])  # the caller's arrays are not written into
    np.testing.assert_array_equal(or_values, originals[1])


def test_noise_removal_reads_any_real_numbers_in_float64():
    n = 4
    rng = np.random.default_rng(2)
    and_values = rng.integers(-9, 10, size=1 << n)  # integer interactions
    or_values = [Fraction(int(k), 4) for k in rng.integers(-9, 10, size=1 << n) * (subset_sizes(n) >= 2)]
    or_values[0] = Fraction(3, 4)  # exact fractions; I_or(∅) moves into the integer constant
    target = (and_inverse(and_values) + or_inverse(np.array(or_values, dtype=float)) + 0.1).astype(np.float32)
    rules = {"min_patterns": 2, "max_patterns": 6, "n_greedy": 4, "max_error": 0.05, "min_explanation": 0.8}
    kept = remove_noisy(target, and_values, or_values, **rules)
    exact = target.astype(np.float64), and_values.astype(np.float64), np.array(or_values, dtype=np.float64)
    expected, steps, met = authors_greedy(*exact, *rules.values(), "authors")
    assert kept_indices(kept, n) == expected and kept.thresholds_met == met
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, rtol=1e-12, atol=1e-12)  # E / Σ target² in float64
    assert kept.bias == and_values[0] + 0.75 and kept.values.dtype == np.float64


def test_noise_removal_accepts_its_rules_at_their_edges():
    rng = np.random.default_rng(4)
    n = 4
    and_values = rng.normal(size=1 << n)
    and_values[0] = 0.0
    target = and_inverse(and_values)
    strongest = sorted(np.argsort(-np.abs(and_values))[:3].tolist())
    # min_patterns = max_patterns = greedy_from: the 12 weakest go in one step, the greedy has nothing left to do
    kept = remove_noisy(target, and_values, min_patterns=3, max_patterns=3, greedy_from=3)
    assert sorted(kept.masks.tolist()) == strongest
    # a greedy window of one pattern: the weakest goes first, step by step
    kept = remove_noisy(target, and_values, min_patterns=3, max_patterns=3, n_greedy=1)
    expected, steps, met = authors_greedy(target, and_values, np.zeros(1 << n), 3, 3, 1, 0.1, 0.95, "authors")
    assert kept_indices(kept, n) == expected == strongest and kept.thresholds_met == met
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, atol=1e-12)


def test_noise_removal_drops_the_patterns_beyond_greedy_from_in_one_step():
    rng = np.random.default_rng(6)
    n = 6
    and_values = rng.normal(size=1 << n) * rng.choice([0.1, 1.0], size=1 << n)
    and_values[0] = 0.0
    or_values = rng.normal(scale=0.5, size=1 << n) * (subset_sizes(n) >= 2)
    target = and_inverse(and_values) + or_inverse(or_values)
    pool = np.count_nonzero(and_values) + np.count_nonzero(or_values)  # 63 AND and 57 OR patterns
    rules = {"min_patterns": 5, "max_patterns": 25, "n_greedy": 6, "max_error": 0.05, "min_explanation": 0.9}
    kept = remove_noisy(target, and_values, or_values, **rules, greedy_from=30)
    expected, steps, met = authors_greedy(target, and_values, or_values, *rules.values(), "authors", bulk=pool - 30)
    assert kept_indices(kept, n) == expected and kept.thresholds_met == met
    assert kept.steps.patterns.tolist()[:3] == [pool, 30, 29]  # all, then 30 after the bulk step, then the greedy
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, rtol=1e-12, atol=1e-12)


def test_noise_removal_breaks_ties_between_equally_strong_patterns_by_index():
    rng = np.random.default_rng(8)
    n = 5
    and_values = rng.choice([-2.0, -1.0, 1.0, 2.0], size=1 << n)  # many ties in |I|
    and_values[0] = 0.0
    or_values = rng.choice([-2.0, -1.0, 1.0, 2.0], size=1 << n) * (subset_sizes(n) >= 2)
    target = and_inverse(and_values) + or_inverse(or_values) + rng.normal(scale=0.1, size=1 << n)
    rules = {"min_patterns": 40, "max_patterns": 45, "n_greedy": 3, "max_error": 0.5, "min_explanation": 0.5}
    kept = remove_noisy(target, and_values, or_values, **rules)
    expected, steps, met = authors_greedy(target, and_values, or_values, *rules.values(), "authors")
    assert kept_indices(kept, n) == expected and kept.thresholds_met == met
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, rtol=1e-12, atol=1e-12)
    values = np.concatenate([and_values, or_values])
    strongest_first = sorted(expected, key=lambda i: (-abs(values[i]), i))  # ties: AND before OR, by mask
    assert np.where(kept.kinds == "and", kept.masks, kept.masks + (1 << n)).tolist() == strongest_first


def test_noise_removal_of_weak_empty_and_zero_games():
    rng = np.random.default_rng(9)
    n = 4
    and_values = rng.normal(scale=0.01, size=1 << n)  # Σ|I| below 1: R and the share still divide
    and_values[0] = 0.0
    target = and_inverse(and_values) + rng.normal(scale=0.001, size=1 << n)
    rules = {"min_patterns": 2, "max_patterns": 6, "n_greedy": 4, "max_error": 0.05, "min_explanation": 0.8}
    kept = remove_noisy(target, and_values, **rules)
    expected, steps, met = authors_greedy(target, and_values, np.zeros(1 << n), *rules.values(), "authors")
    assert kept_indices(kept, n) == expected and kept.thresholds_met == met
    np.testing.assert_allclose(kept.steps.to_numpy(), steps, rtol=1e-12, atol=1e-12)
    # Only the constant: no pattern to keep or remove; both ratios are 1 and the error 0.
    constant = remove_noisy(np.full(4, 0.5), np.array([0.5, 0.0, 0.0, 0.0]), min_patterns=1, max_patterns=2)
    assert constant.values.size == 0 and constant.bias == 0.5 and constant.thresholds_met
    assert constant.steps.to_numpy().tolist() == [[0.0, 0.0, 1.0, 1.0]]
    assert constant.explanation_ratio == 1.0 and constant.strength_share == 1.0 and constant.error == 0.0
    # A zero target: E is reported unnormalised. v = (0, 1, 2, 3) from I({1}) = 1, I({0}) = 2, so E = 1 + 4 + 9.
    zero = remove_noisy(np.zeros(4), np.array([0.0, 1.0, 2.0, 0.0]), min_patterns=1, max_patterns=2)
    assert zero.steps.error[0] == 14.0


def test_noise_removal_thresholds_are_strict_by_hand():
    # n = 2: I({1}) = 2, I({0}) = 3, I({0,1}) = 1, so v = (0, 2, 3, 6) and Σ v² = 49. The greedy first removes
    # {0,1} (its increase c²·2^{n−|T|} = 1 beats 8 and 18): E = 1/49, R = share = 5 / (5 + 1).
    target, and_values = np.array([0.0, 2.0, 3.0, 6.0]), np.array([0.0, 2.0, 3.0, 1.0])

    def kept(max_patterns=3, max_error=0.1, min_explanation=0.8):
        return remove_noisy(
            target, and_values, None, 2, max_patterns, max_error=max_error, min_explanation=min_explanation
        )

    assert kept().steps.to_numpy().tolist() == [[3, 0.0, 1.0, 1.0], [2, 1 / 49, 5 / 6, 5 / 6]]
    assert len(kept().values) == 2 and kept().thresholds_met
    assert len(kept(max_error=1 / 49).values) == 3  # E < max_error, strictly
    assert len(kept(min_explanation=5 / 6).values) == 3  # R > min_explanation, strictly
    assert len(kept(max_patterns=2).values) == 2 and kept(max_patterns=2).thresholds_met  # at most max_patterns


def test_noise_removal_refuses_bad_rules_and_non_finite_values():
    v = np.arange(8.0)
    with pytest.raises(
        ValueError,
        match=r"^max_patterns \(500\) exceeds greedy_from \(400\): the greedy would never choose among the counts it "
        r"may keep; raise greedy_from to at least max_patterns\.$",
    ):
        remove_noisy(v, and_interactions(v), max_patterns=500)
    with pytest.raises(ValueError, match="cut must be one of"):
        remove_noisy(v, and_interactions(v), min_patterns=1, max_patterns=2, cut="share")
    bad = and_interactions(v)
    bad[5] = np.nan
    with pytest.raises(
        ValueError,
        match=r"^and_values is nan at mask 5 \(1 non-finite value\(s\)\); the model's rewards must be finite: check "
        r"its weights, the input and the baseline for NaN or inf\.$",
    ):
        remove_noisy(v, bad, min_patterns=1, max_patterns=2)
    with pytest.raises(ValueError, match=r"^target must be one row of 2\^3 = 8 values; got shape \(8, 1\)\.$"):
        remove_noisy(v[:, None], and_interactions(v), min_patterns=1, max_patterns=2)


def encoded_pattern(members, n):
    row = np.zeros(n, dtype=bool)
    row[list(members)] = True
    return row


def test_aggregation_reproduces_the_worked_case():
    patterns = np.array([encoded_pattern(m, 5) for m in ({0, 1, 2, 3}, {0, 1, 2, 4}, {0, 1, 3, 4})])
    result = aggregate(patterns, np.array([3.0, 2.0, 1.0]))
    assert [np.flatnonzero(c).tolist() for c in result.codewords] == [[0, 1], [0, 1, 2]]
    np.testing.assert_allclose(result.lengths, [53.67, 37.94, 29.11], atol=0.005)
    # {0,1,2,3} = {0,1,2} + 3; {0,1,2,4} = {0,1,2} + 4; {0,1,3,4} = {0,1} + 3 + 4
    assert [np.flatnonzero(row).tolist() for row in result.encoding] == [[3, 6], [4, 6], [3, 4, 5]]


def brute_aggregate(patterns, weights, max_merges=5, entropy_weight=10.0):
    """The authors' aggregate_pattern_iterative written out with loops over codeword combinations."""

    def length(encoding):
        usage = [sum(w for w, row in zip(weights, encoding, strict=True) if j in row) for j in range(len(book))]
        total = sum(usage)
        share = [u / total for u in usage]
        return sum(u * -np.log(p + 1e-8) for u, p in zip(usage, share, strict=True)) + entropy_weight * sum(
            p * -np.log(p + 1e-8) for p in share
        )

    book = [frozenset([i]) for i in range(patterns.shape[1])]
    encoding = [frozenset(np.flatnonzero(row).tolist()) for row in patterns]
    lengths = [length(encoding)]
    for _ in range(max_merges):
        candidates = sorted(
            {frozenset(c) for row in encoding for r in range(2, len(row) + 1) for c in itertools.combinations(row, r)},
            key=lambda c: sum(1 << j for j in c),
        )
        best = None
        for candidate in candidates:
            book.append(frozenset().union(*(book[j] for j in candidate)))
            new = [row - candidate | {len(book) - 1} if candidate <= row else row for row in encoding]
            score = (length(new) - lengths[-1]) / len(book[-1])
            if best is None or score < best[0] - 1e-12:
                best = (score, new, length(new), sum(candidate <= row for row in encoding), book[-1])
            book.pop()
        if best is None or best[2] > lengths[-1] or best[3] <= 1:
            break
        book.append(best[4])
        encoding, lengths = best[1], [*lengths, best[2]]
    return [sorted(c) for c in book[patterns.shape[1] :]], lengths


@pytest.mark.parametrize("seed", range(12))
def test_aggregation_matches_the_authors_loop_on_random_pattern_sets(seed):
    rng = np.random.default_rng(seed)
    n = 6
    patterns = rng.random((int(rng.integers(3, 9)), n)) < 0.5
    patterns[:, rng.integers(0, n)] |= rng.random(len(patterns)) < 0.8  # some players shared by many
    weights = rng.exponential(size=len(patterns))
    codewords, lengths = brute_aggregate(patterns, weights)
    result = aggregate(patterns, weights)
    assert [np.flatnonzero(c).tolist() for c in result.codewords] == codewords
    np.testing.assert_allclose(result.lengths, lengths, rtol=1e-12)
    book = np.vstack([np.eye(n, dtype=bool), result.codewords])
    decoded = np.array([np.logical_or.reduce(book[row]) if row.any() else np.zeros(n, bool) for row in result.encoding])
    assert (decoded == patterns).all()


def test_aggregation_stops_when_the_best_merge_serves_one_pattern():
    patterns = np.array([encoded_pattern({0, 1, 2}, 5), encoded_pattern({3, 4}, 5)])
    result = aggregate(patterns, np.array([5.0, 1.0]))
    assert result.codewords.shape == (0, 5) and len(result.lengths) == 1


def test_aggregation_stops_after_five_merges_by_default():
    pairs = [encoded_pattern({2 * i, 2 * i + 1}, 12) for i in range(6)]
    patterns = np.array(pairs + pairs)  # six disjoint pairs, each in two patterns: every merge shortens the code
    weights = np.tile([6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 2)  # no ties between the pairs' scores
    codewords, lengths = brute_aggregate(patterns, weights, max_merges=6)
    assert len(codewords) == 6 and lengths[6] < lengths[5]  # a sixth merge would still shorten it
    result = aggregate(patterns, weights)
    assert [np.flatnonzero(c).tolist() for c in result.codewords] == codewords[:5]
    np.testing.assert_allclose(result.lengths, lengths[:6], rtol=1e-12)


def test_aggregation_merges_on_a_tie_and_stops_when_no_pattern_has_two_codewords():
    # {0,1} twice with weight 0 and {2,3} twice with weight 1: merging {2,3} shortens the code; merging {0,1}
    # then leaves its length unchanged (no usage moves), which the authors' rule (stop only if it grows) accepts;
    # then every pattern is one codeword and no candidate is left.
    patterns = np.array([encoded_pattern(m, 4) for m in ({0, 1}, {0, 1}, {2, 3}, {2, 3})])
    weights = np.array([0.0, 0.0, 1.0, 1.0])
    codewords, lengths = brute_aggregate(patterns, weights)
    assert codewords == [[2, 3], [0, 1]] and lengths[2] == lengths[1]
    result = aggregate(patterns, weights)
    assert [np.flatnonzero(c).tolist() for c in result.codewords] == codewords
    np.testing.assert_allclose(result.lengths, lengths, rtol=1e-12)
    assert [np.flatnonzero(row).tolist() for row in result.encoding] == [[5], [5], [4], [4]]
    single = aggregate(np.eye(3, dtype=bool), np.ones(3))  # no pattern has two codewords: nothing to merge
    assert single.codewords.shape == (0, 3) and single.lengths == pytest.approx([3 * np.log(3) + 10 * np.log(3)])


def test_aggregation_reads_patterns_as_bool_and_weights_in_float64():
    members = [[1, 1, 1, 0], [1, 1, 0, 1], [0, 1, 1, 1]]  # 0/1 integers, not bool
    weights = np.array([0.1, -0.7, 0.3], dtype=np.float32)  # |I| in float32: the usages are summed in float64
    codewords, lengths = brute_aggregate(np.array(members, dtype=bool), np.abs(weights.astype(np.float64)))
    result = aggregate(members, weights)
    assert [np.flatnonzero(c).tolist() for c in result.codewords] == codewords
    np.testing.assert_allclose(result.lengths, lengths, rtol=1e-13)
    assert result.codewords.dtype == bool and result.encoding.dtype == bool
    with pytest.raises(ValueError, match=r"need patterns \[m, n\] and m weights; got shapes \(4,\) and \(4,\)\."):
        aggregate(np.ones(4, dtype=bool), np.ones(4))
    with pytest.raises(ValueError, match=r"need patterns \[m, n\] and m weights; got shapes \(3, 4\) and \(2,\)\."):
        aggregate(np.ones((3, 4), dtype=bool), np.ones(2))


def test_sub_coalitions_are_every_set_of_two_or_more_codewords_of_a_pattern():
    # 0b101 → {0, 2}; 0b11 → {0, 1}; 0b1 has one codeword; 0b1101 → {0, 2}, {0, 3}, {2, 3}, {0, 2, 3}
    found = sub_coalitions(np.array([0b101, 0b11, 0b1, 0b1101, 0b101], dtype=np.int64))
    assert found.tolist() == [0b11, 0b101, 0b1001, 0b1100, 0b1101] and found.dtype == np.int64
    none = sub_coalitions(np.array([0, 0b1, 0b100], dtype=np.int64))
    assert none.shape == (0,) and none.dtype == np.int64


def brute_description_length(usage, entropy_weight):
    used = [max(float(u), 0.0) for u in usage]
    total = sum(used)
    share = [u / total if total > 0 else 0.0 for u in used]
    code = [-math.log(p + 1e-8) for p in share]
    return sum(u * c for u, c in zip(used, code, strict=True)) + entropy_weight * sum(
        p * c for p, c in zip(share, code, strict=True)
    )


def test_description_length_by_hand():
    # f = (3, 1): p = (3/4, 1/4), ℓ = −ln(p + 1e-8)
    code = -math.log(0.75 + 1e-8), -math.log(0.25 + 1e-8)
    by_hand = 3 * code[0] + 1 * code[1] + 10 * (0.75 * code[0] + 0.25 * code[1])
    length = description_length(np.array([3.0, 1.0]), 10.0)
    assert type(length) is float and length == pytest.approx(by_hand, rel=1e-12)
    # A negative usage counts as unused; an unused codeword adds nothing; no usage at all has length 0.
    np.testing.assert_allclose(description_length(np.array([[-1.0, 3.0, 1.0], [0.0, 0.0, 0.0]]), 10.0), [by_hand, 0.0])
    # Usages summing to less than 1 are still shares of their total: (0.2, 0.3) → p = (0.4, 0.6).
    assert description_length(np.array([0.2, 0.3]), 2.0) == pytest.approx(
        brute_description_length([0.2, 0.3], 2.0), rel=1e-12
    )
    # float32 usages are computed in float64.
    usage = np.array([0.1, 0.7, 0.2], dtype=np.float32)
    assert description_length(usage, 10.0) == pytest.approx(brute_description_length(usage, 10.0), rel=1e-14)


def test_and_or_graph_links_output_concepts_coalitions_and_players():
    n = 8
    v = np.zeros(1 << n)
    for mask, value in {0b11000000: 4.0, 0b11100000: -3.0, 0b00000011: 2.0}.items():
        v += value * np.array([float(k & mask == mask) for k in range(1 << n)])
    kept = remove_noisy(v, and_interactions(v), min_patterns=1, max_patterns=5)
    patterns = subset_masks(n)[kept.masks]
    graph = and_or_graph(kept, aggregate(patterns, kept.values), [f"x{i}" for i in range(n)])
    assert nx.is_directed_acyclic_graph(graph)
    concepts = [node for node, data in graph.nodes(data=True) if data["layer"] == "concept"]
    assert len(concepts) == 3 and all(graph.has_edge("output", c) for c in concepts)
    assert graph.nodes["output"]["value"] == pytest.approx(v[-1])
    for concept in concepts:
        leaves = {
            graph.nodes[d]["player"] for d in nx.descendants(graph, concept) if graph.nodes[d]["layer"] == "player"
        }
        assert sorted(leaves) == graph.nodes[concept]["players"]
    assert sum(data["layer"] == "player" for _, data in graph.nodes(data=True)) == n


def test_metrics_on_hand_worked_cases():
    concepts = np.array([[10.0, -5.0, 0.4, 0.0], [0.0, 2.0, 2.0, -0.1]])
    np.testing.assert_allclose(sparsity_curve(concepts), [1.0, 0.75, 0.045, 0.0])
    assert salient_ratio(concepts, 0.05) == pytest.approx((2 + 3) / 8)
    rho = samplewise_transferability(concepts, k_max=3, threshold=0.1)
    np.testing.assert_allclose(rho, [0.5, (1.0 + 0.5) / 2, 1.0])  # dictionary: concept 1 (in both), then 0, 2
    np.testing.assert_allclose(samplewise_transferability(concepts), [0.5, 0.75] + [1.0] * 48)  # k ≤ 50, τ = 0.1
    one_salient = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])  # {0} and {0, 1}: ρ(1) = (1/1 + 1/2) / 2
    np.testing.assert_allclose(samplewise_transferability(one_salient, k_max=2), [0.75, 1.0])
    same = modelwise_transferability(concepts, concepts, thresholds=(0.05, 0.3))
    assert same.transferability.tolist() == [1.0, 1.0]
    assert same.random_baseline.iloc[0] == pytest.approx((2 / 4 + 3 / 4) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty bin is NaN without a "mean of empty slice" warning
        table, overall = discrimination_power(np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 0.0]]), threshold=0.05, bins=2)
        assert np.isnan(discrimination_power(np.zeros((2, 3)))[1])  # no salient concept: β is NaN, quietly
    assert table.concepts.tolist() == [0, 2] and np.isnan(table.discrimination.iloc[0])
    assert overall == pytest.approx((1.0 * 1.0 + (2 / 3) * 0.5) / (1 + 2 / 3))
    assert list(itertools.chain(table.frequency_low)) == [0.0, 0.5]


def test_strengths_are_divided_by_each_samples_peak_and_a_zero_sample_stays_zero():
    # By hand: |I| / max|I| sorted down; a peak below 1 still divides; an all-zero sample has no peak to divide by.
    concepts = np.array([[0.5, -0.25, 0.0], [0.0, 0.0, 0.0], [-3.0, 1.0, 2.0]])
    expected = [[1.0, 0.5, 0.0], [0.0, 0.0, 0.0], [1.0, 2 / 3, 1 / 3]]
    np.testing.assert_allclose(normalized_strengths(concepts), expected)
    np.testing.assert_allclose(sparsity_curve(concepts), np.mean(expected, axis=0))


def test_transferability_by_hand_with_two_thresholds():
    # Model 1 salient at 0.05: {0, 1, 2}, at 0.3: {0}; model 2 salient at 0.05: {0, 2}, at 0.5: {0}.
    first, second = np.array([[10.0, 2.0, 1.0, 0.0]]), np.array([[10.0, 0.0, 1.0, 0.0]])
    table = modelwise_transferability(first, second, thresholds=(0.05, 0.3))
    assert table.threshold.tolist() == [0.05, 0.3]
    np.testing.assert_allclose(table.transferability, [2 / 3, 1.0])
    np.testing.assert_allclose(table.random_baseline, [2 / 4, 2 / 4])
    strict = modelwise_transferability(first, second, thresholds=(0.05, 0.3), second_threshold=0.5)
    np.testing.assert_allclose(strict.transferability, [1 / 3, 1.0])
    np.testing.assert_allclose(strict.random_baseline, [1 / 4, 1 / 4])
    assert salient_ratio(first) == 3 / 4  # the default threshold is 0.05


def test_discrimination_bins_are_half_open_and_a_salient_zero_has_no_sign():
    # Five samples: concept 0 salient and positive in all (α = 1), concept 1 in two (α = 0.4, on a bin edge).
    concepts = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    table, overall = discrimination_power(concepts)  # the default: 5 bins of α
    assert table.concepts.tolist() == [0, 1, 0, 0, 1]  # α = 0.4 lies in (0.2, 0.4] only
    assert overall == 1.0
    table, _ = discrimination_power(np.array([[1.0, 0.0]]), threshold=0.0, bins=1)
    assert table.concepts.tolist() == [1]  # at τ = 0 the zero is salient, but neither positive nor negative


def test_reconstruction_error_is_the_largest_miss_over_masks_by_hand():
    # One player: AND [1, 0] rebuilds v = [1, 1]; OR [0, 0.5] adds 0.5 on the mask {0} only (v(T) = Σ_{S∩T≠∅}).
    target = np.array([[1.0, 2.0], [1.0, 1.0]])
    and_values = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(reconstruction_error(target, and_values), [1.0, 0.0])
    np.testing.assert_allclose(reconstruction_error(target, and_values, np.array([[0.0, 0.5], [0.0, 0.5]])), [0.5, 0.5])


def class_of_inputs(rng, inputs=60, concepts=256, planted=(3, 17, 40, 99, 200), planted_share=0.9):
    """Concept vectors of one class: ``planted`` concepts strong with a fixed sign in most inputs (transferable),
    plus each input's own noise concepts at random identities and signs."""
    values = rng.normal(scale=0.02, size=(inputs, concepts))
    own = rng.integers(0, concepts, size=(inputs, 6))
    np.put_along_axis(values, own, rng.choice([-1.0, 1.0], size=own.shape) * rng.uniform(0.3, 1.0, own.shape), 1)
    signs = np.where(np.arange(len(planted)) % 2, -1.0, 1.0)
    present = rng.random((inputs, len(planted))) < planted_share
    values[:, list(planted)] = np.where(present, signs * rng.uniform(0.5, 1.0, present.shape), values[:, list(planted)])
    return values


def noise_of_inputs(rng, inputs=60, concepts=256):
    """Concept vectors with no structure: every input's strong concepts at random identities with random signs."""
    values = rng.normal(scale=0.02, size=(inputs, concepts))
    own = rng.integers(0, concepts, size=(inputs, 11))
    np.put_along_axis(values, own, rng.choice([-1.0, 1.0], size=own.shape) * rng.uniform(0.3, 1.0, own.shape), 1)
    return values


def rho_of(groups, k=5):
    return float(np.mean([samplewise_transferability(g, k, 0.1)[-1] for g in groups]))


def beta_of(groups):
    return float(np.nanmean([discrimination_power(g, 0.05, 5)[1] for g in groups]))


@pytest.mark.parametrize("statistic", [rho_of, beta_of])
def test_planted_transferable_concepts_beat_their_null_and_noise_does_not(statistic):
    rng = np.random.default_rng(0)
    planted = [class_of_inputs(rng), class_of_inputs(rng, planted=(5, 6, 7, 8, 9))]
    noise = [noise_of_inputs(rng), noise_of_inputs(rng)]
    for groups, real in ((planted, True), (noise, False)):
        interval = interval_over_inputs(statistic, groups, draws=200, seed=1)
        null = null_draws(statistic, groups, draws=20, seed=2)
        null_interval = tuple(np.quantile(null, [0.025, 0.975]))
        assert interval[0] < statistic(groups) < interval[1]
        assert matches_null(interval, null_interval) is not real
        if real:
            assert interval[0] > null_interval[1]  # detected: above the null, not merely different


def test_nulls_keep_each_inputs_strengths_and_intervals_resample_inputs():
    rng = np.random.default_rng(4)
    concepts = rng.normal(size=(5, 32))
    shuffled = random_identities(concepts, np.random.default_rng(0))
    np.testing.assert_array_equal(np.sort(np.abs(shuffled), axis=1), np.sort(np.abs(concepts), axis=1))
    assert (salient(shuffled, 0.3).sum(axis=1) == salient(concepts, 0.3).sum(axis=1)).all()
    assert not np.array_equal(shuffled, concepts) and (np.sign(shuffled) != 0).all()
    groups = [np.array([1.0, 1.0, 1.0]), np.array([3.0])]
    same = interval_over_inputs(lambda g: float(np.mean(np.concatenate(g))), groups)  # halves keep 2 of 3 and the 1
    np.testing.assert_allclose(same, (1.5, 1.5), atol=1e-12)
    spread = interval_over_inputs(lambda g: float(np.mean(g[0])), [np.arange(100.0)], draws=400, level=0.9)
    standard_error = np.std(np.arange(100.0), ddof=1) / 10  # 2.9: for a mean the jackknife's se is s / √n
    assert spread[0] + spread[1] == pytest.approx(99.0)
    assert (spread[1] - spread[0]) / 2 == pytest.approx(1.645 * standard_error, rel=0.15)
    assert matches_null((0.2, 0.4), (0.4, 0.5)) and matches_null((0.2, 0.4), (0.0, 0.9))
    assert matches_null((0.4, 0.5), (0.2, 0.4))  # touching from above is an overlap too
    signed = random_identities(np.abs(concepts), np.random.default_rng(1))  # a random sign per entry
    assert (signed > 0).any() and (signed < 0).any()

    def first_entry(groups: list[np.ndarray]) -> float:
        return float(groups[0][0, 0])

    draws = null_draws(first_entry, [concepts])
    assert np.array_equal(draws, null_draws(first_entry, [concepts])) and len(set(draws)) > 1  # seeded, yet random
    assert not matches_null((0.2, 0.4), (0.41, 0.5)) and not matches_null((0.2, 0.4), (0.1, 0.19))
    with pytest.raises(ValueError, match="level"):
        interval_over_inputs(rho_of, groups, level=1.0)
    with pytest.raises(ValueError, match="level"):
        interval_over_inputs(rho_of, groups, level=0.0)
    with pytest.raises(ValueError, match="low < high"):  # an empty range: no interval can be clipped into it
        interval_over_inputs(rho_of, groups, bounds=(0.5, 0.5))


def test_jackknife_halves_keep_the_larger_half_of_every_group_and_one_deleted_input_counts():
    sizes = []

    def sizes_seen(groups: list[np.ndarray]) -> float:
        sizes.append([len(g) for g in groups])
        return float(np.mean(np.concatenate(groups)))

    groups = [np.arange(5.0), np.arange(4.0)]
    first = interval_over_inputs(sizes_seen, groups, draws=20)
    assert sizes[0] == [5, 4] and all(kept == [3, 2] for kept in sizes[1:])  # ⌈n/2⌉ of each group, 20 halves
    assert interval_over_inputs(sizes_seen, groups, draws=20) == first  # seeded: the same halves again
    # Three inputs, one deleted per half: the halves' means differ, so the interval has a width.
    low, high = interval_over_inputs(lambda g: float(np.mean(g[0])), [np.array([0.0, 1.0, 5.0])], draws=50)
    assert low < 2.0 < high


def test_a_shares_interval_stays_within_its_range():
    """49 inputs of 50 meet a threshold: the mean is 0.98 and θ̂ + 1.96·se passes 1; clipped, the share stays ≤ 1."""
    met = [np.array([1.0] * 49 + [0.0])]

    def share(groups):
        return float(np.mean(groups[0]))

    low, high = interval_over_inputs(share, met, draws=400)
    assert high > 1  # the unclipped interval leaves the range
    clipped = interval_over_inputs(share, met, draws=400, bounds=(0.0, 1.0))
    assert clipped == (pytest.approx(low), 1.0)
    assert interval_over_inputs(lambda g: float(np.mean(1 - g[0])), met, draws=400, bounds=(0.0, 1.0))[0] == 0.0
    with pytest.raises(ValueError, match="bounds"):
        interval_over_inputs(share, met, bounds=(1.0, 0.0))


def test_cover_shares_per_input_by_hand():
    first = np.array([[4.0, 2.0, 0.1, 0.0], [1.0, 0.0, 0.0, 0.5]])
    second = np.array([[0.0, 3.0, 3.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(cover_shares(first, second, 0.05), [1 / 2, 1.0])  # {0,1} vs {1,2}; {0,3} vs all
    np.testing.assert_allclose(cover_shares(first, second, 0.6), [0.0, 1.0])  # {0} vs {1,2}; {0} vs all
    with pytest.raises(ValueError, match="differ in shape"):
        cover_shares(first, second[:, :3], 0.05)


def test_non_finite_rewards_baselines_and_bad_learning_inputs_are_refused():
    model = tiny_mlp(4, 2)
    x = torch.tensor([1.0, 0.0, 2.0, 0.5])
    broken = torch.tensor([1.0, 0.0, float("nan"), 0.5])  # NaN only where player 2 is kept
    with pytest.raises(ValueError, match=r"sample 1: the reward is nan at mask 2 \(players kept: \[2\]\)"):
        compute_rewards(model, [TabularMasker(x, 0.0), TabularMasker(broken, 0.0)], [1, 1], desc=None)
    with torch.no_grad():
        model.layers[0].weight[0, 2] = float("nan")  # a NaN weight: every masked input, even the empty one
    with pytest.raises(ValueError, match=r"sample 0: the reward is nan at mask 0 \(players kept: \[\]\)"):
        compute_rewards(model, [TabularMasker(x, 0.0)], [1], check_positive=True, desc=None)
    with pytest.raises(ValueError, match="baseline is nan at element 1"):
        TabularMasker(x, torch.tensor([0.0, float("nan"), 0.0, 0.0]))
    with pytest.raises(ValueError, match="baseline is inf"):
        ImageMasker(torch.zeros(1, 4, 4), grid_players(4, 4, 2, 2), baseline=float("inf"))
    with pytest.raises(ValueError, match="learning rate must be positive"):
        learn_and_or(np.arange(8.0), iterations=5, learning_rate=-1e-3, desc=None)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        learn_baseline(tiny_mlp(4, 2), TabularMasker(x, 0.0), 1, -1.0, 1.0, iterations=2, learning_rate=-0.1, desc=None)
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 8\)"):
        learn_and_or(np.zeros((2, 3, 8)), iterations=5, desc=None)
    rewards = np.arange(16.0).reshape(2, 8)
    rewards[1, 6] = np.inf
    with pytest.raises(ValueError, match=r"sample 1: the reward is inf at mask 6 \(players kept: \[0, 1\]\)"):
        learn_and_or(rewards, iterations=5, desc=None)


def brute_salient_sets(concepts, threshold):
    sets = []
    for row in concepts:
        peak = max(abs(value) for value in row)
        sets.append({j for j, value in enumerate(row) if peak > 0 and abs(value) >= threshold * peak})
    return sets


@pytest.mark.parametrize("seed", range(4))
def test_rho_and_beta_equal_loops_over_inputs_and_concepts(seed):
    rng = np.random.default_rng(seed)
    concepts = rng.normal(size=(9, 24)) * (rng.random((9, 24)) < 0.4) * rng.choice([1.0, 8.0], size=(9, 24))
    concepts[3] = 0.0  # an input without salient concepts
    sets = brute_salient_sets(concepts, 0.1)
    frequency = [sum(j in s for s in sets) for j in range(24)]
    dictionary = sorted(range(24), key=lambda j: (-frequency[j], j))
    expected_rho = [np.mean([len(s & set(dictionary[:k])) / max(len(s), 1) for s in sets]) for k in range(1, 31)]
    np.testing.assert_allclose(samplewise_transferability(concepts, 30, 0.1), expected_rho, atol=1e-12)
    sets = brute_salient_sets(concepts, 0.05)
    plus = [sum(j in s and row[j] > 0 for s, row in zip(sets, concepts, strict=True)) for j in range(24)]
    minus = [sum(j in s and row[j] < 0 for s, row in zip(sets, concepts, strict=True)) for j in range(24)]
    seen = [j for j in range(24) if plus[j] + minus[j]]
    beta = {j: max(plus[j], minus[j]) / (plus[j] + minus[j]) for j in seen}
    alpha = {j: (plus[j] + minus[j]) / len(concepts) for j in seen}
    table, overall = discrimination_power(concepts, 0.05, bins=4)
    for row in table.itertuples(index=False):
        inside = [j for j in seen if row.frequency_low < alpha[j] <= row.frequency_high]
        assert row.concepts == len(inside)
        if inside:
            assert row.discrimination == pytest.approx(np.mean([beta[j] for j in inside]), abs=1e-12)
        else:
            assert np.isnan(row.discrimination)
    assert overall == pytest.approx(sum(alpha[j] * beta[j] for j in seen) / sum(alpha.values()), abs=1e-12)
    assert table.frequency_high.tolist() == [0.25, 0.5, 0.75, 1.0]
    salient_counts = [len(s) for s in brute_salient_sets(concepts, 0.05)]
    assert salient_ratio(concepts, 0.05) == pytest.approx(np.mean(salient_counts) / 24, abs=1e-12)
    other = rng.normal(size=concepts.shape)
    other_sets = brute_salient_sets(other, 0.05)
    for tau in (0.05, 0.3):
        own = brute_salient_sets(concepts, tau)
        shares = [len(a & b) / max(len(a), 1) for a, b in zip(own, other_sets, strict=True)]
        np.testing.assert_allclose(cover_shares(concepts, other, tau), shares, atol=1e-12)


def test_the_two_ratios_by_hand():
    from ndg_pipeline.interactions.patterns import strength_share

    kept, removed = np.array([3.0, -1.0]), np.array([0.5, -0.25, -0.5])
    assert explanation_ratio(kept, removed) == pytest.approx(4.0 / (4.0 + 0.25))  # |Σ removed| = 0.25
    assert strength_share(kept, removed) == pytest.approx(4.0 / (4.0 + 1.25))  # Σ|removed| = 1.25
    assert explanation_ratio(np.zeros(2), np.zeros(0)) == 1.0 and strength_share(np.zeros(0), np.zeros(0)) == 1.0
    assert explanation_ratio(np.array([0.3]), np.array([0.2])) == pytest.approx(0.6)  # totals below 1 divide too
    assert strength_share(np.array([0.3, -0.1]), np.array([-0.1])) == pytest.approx(0.8)
    v = np.arange(8.0)
    with pytest.raises(ValueError, match="min_patterns ≤ max_patterns"):
        remove_noisy(v, and_interactions(v), min_patterns=5, max_patterns=4)
    with pytest.raises(ValueError, match="n_greedy"):
        remove_noisy(v, and_interactions(v), min_patterns=1, max_patterns=4, n_greedy=0)
    with pytest.raises(ValueError, match=r"or_values must be one row of 2\^3 = 8 values"):
        remove_noisy(v, and_interactions(v), np.zeros(4), min_patterns=1, max_patterns=4)


def test_verdicts_take_the_side_of_the_claim():
    assert verdict((0.6, 0.7), (0.1, 0.2), "above") == "finding"
    assert verdict((0.6, 0.7), (0.1, 0.2), "below") == "against its null"
    assert verdict((5.0, 7.0), (29.0, 30.0), "below") == "finding"
    assert verdict((0.6, 0.7), (0.65, 0.9), "above") == "matched by its null"
    assert verdict((0.6, 0.7), (float("nan"), float("nan")), "above") == "no null"
    with pytest.raises(ValueError, match="claim"):
        verdict((0.6, 0.7), (0.1, 0.2), "higher")
