"""The AND-OR split (spec §3) and the learned baseline (spec §4), batched over samples.

The split learns p, q per mask (both start at 0): v_and = ½(v + q) + p, v_or = ½(v + q) − p, |q| ≤ q_bound =
threshold · |v(N) − v(∅)|, minimising Σ|I_and| + Σ|I_or| by SGD with momentum and a learning rate decaying
log-linearly from lr to lr/10, q clamped into its box before every step and no step after the last evaluation.
The gradients are the transposed transforms of the signs (exact, no autograd). OR interactions are kept in
complement order inside the loop, I_or(N∖S) = −Σ_{L⊇S} (−1)^{|L|−|S|} v_or(L) (J·M·J is the superset transform),
so that no row is ever reversed there. On the CPU the loop runs compiled (:mod:`split_kernel`: each sample in
cache, samples in parallel); on other devices it runs as batched torch passes. Finally OR terms of order ≤ 1
move to AND.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.interactions.players import Masker, subset_masks, subset_sizes
from ndg_pipeline.interactions.rewards import Reward, compute_rewards, finite_rewards, log_odds, masked_rewards
from ndg_pipeline.interactions.split_kernel import split_steps
from ndg_pipeline.interactions.transforms import and_interactions, and_transpose, butterfly_, n_players_of, one_thread


@dataclass
class AndOrSplit:
    """A learned split of rewards [B, 2^n]: its interactions (after moving order ≤ 1 OR terms to AND), p, q."""

    and_interactions: np.ndarray
    or_interactions: np.ndarray
    p: np.ndarray
    q: np.ndarray
    q_bound: np.ndarray
    loss_history: np.ndarray  # [checkpoints, B]: Σ|I_and| + Σ|I_or| at the iterations in ``loss_steps``
    loss_steps: np.ndarray


def decaying_rates(learning_rate: float, iterations: int) -> np.ndarray:
    """lr · 10^(−t/(T−1)) for t = 0…T−1: log-linear decay from lr to lr/10 (the authors' schedule)."""
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1; got {iterations}.")
    if not learning_rate > 0:
        raise ValueError(f"the learning rate must be positive; got {learning_rate}.")
    return learning_rate * np.logspace(0.0, -1.0, iterations) if iterations > 1 else np.array([learning_rate])


def reorganize(and_values: np.ndarray, or_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move OR interactions of order ≤ 1 into the AND ones: they fire under identical conditions."""
    low = subset_sizes(n_players_of(and_values.shape[-1])) <= 1
    return and_values + or_values * low, or_values * ~low


def learn_and_or(
    rewards: np.ndarray,
    iterations: int = 10_000,
    learning_rate: float = 1e-5,
    q_threshold: float = 0.04,
    momentum: float = 0.9,
    device: str | torch.device = "cpu",
    checkpoints: int = 20,
    desc: str | None = "AND-OR split",
) -> AndOrSplit:
    """Learn the AND-OR split of rewards [B, 2^n] (or one row [2^n]) for every sample at once.

    ``checkpoints`` iterations, spread evenly from the first to the last, record the loss; ``desc`` labels the
    progress bar (None hides it).
    """
    values = np.atleast_2d(np.asarray(rewards, dtype=np.float64))
    if values.ndim != 2:
        raise ValueError(f"rewards must be one row [2^n] or samples × masks [B, 2^n]; got shape {values.shape}.")
    n_players_of(values.shape[-1])
    finite_rewards(values)
    rates = decaying_rates(learning_rate, iterations)
    steps = np.unique(np.linspace(0, iterations - 1, min(checkpoints, iterations)).round().astype(int))
    bound = q_threshold * np.abs(values[:, -1] - values[:, 0])
    with tqdm(total=iterations, desc=desc, disable=desc is None, mininterval=1.0) as progress:
        if torch.device(device).type == "cpu":
            i_and, i_or_complement, p, q, history = _learn_compiled(values, bound, rates, momentum, steps, progress)
        else:
            i_and, i_or_complement, p, q, history = _learn_torch(
                values, bound, rates, momentum, steps, progress, torch.device(device)
            )
    and_values, or_values = reorganize(i_and, i_or_complement[:, ::-1])
    return AndOrSplit(and_values, or_values, p, q, bound, history, steps)


Learned = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _learn_compiled(
    v: np.ndarray, bound: np.ndarray, rates: np.ndarray, momentum: float, steps: np.ndarray, progress: tqdm
) -> Learned:
    """The loop on the CPU: :func:`split_steps` in about a hundred chunks of iterations, for the progress bar.

    Returns I_and, I_or in complement order, p, q (each [B, 2^n]) and the loss history [checkpoints, B].
    """
    iterations = len(rates)
    state = np.zeros((6, *v.shape))
    record = np.full(iterations, -1, dtype=np.int64)
    record[steps] = np.arange(len(steps))
    history = np.zeros((len(steps), len(v)))
    chunk = math.ceil(iterations / 100)
    for first in range(0, iterations, chunk):
        stop = min(first + chunk, iterations)
        split_steps(v, bound, state, rates[first:stop], first, iterations, momentum, record[first:stop], history)
        progress.update(stop - first)
    return state[4], state[5], state[0], state[1], history


def _learn_torch(
    values: np.ndarray,
    bound_values: np.ndarray,
    rates: np.ndarray,
    momentum: float,
    steps: np.ndarray,
    progress: tqdm,
    device: torch.device,
) -> Learned:
    """The same loop as :func:`split_steps` in batched torch passes on ``device``, every quantity a [2^n, B]
    column table (see :func:`butterfly_`); the same results as :func:`_learn_compiled`."""
    with one_thread(device):
        v = torch.from_numpy(values.T.copy()).to(device)
        bound = torch.from_numpy(bound_values).to(device)
        last = v.shape[0] - 1
        p, q = torch.zeros_like(v), torch.zeros_like(v)
        velocity_p, velocity_q = torch.zeros_like(v), torch.zeros_like(v)
        iterations = len(rates)
        history = []
        for t in range(iterations):
            q = torch.minimum(torch.maximum(q, -bound), bound)
            half = 0.5 * (v + q)
            i_and = butterfly_(half + p, "mobius")
            v_or = half - p
            i_or_complement = butterfly_(-v_or, "superset_mobius")
            i_or_complement[last] = v_or[0]
            if t in steps:
                history.append((i_and.abs().sum(dim=0) + i_or_complement.abs().sum(dim=0)).cpu().numpy())
            if t == iterations - 1:
                break
            grad_and = butterfly_(torch.sign(i_and), "superset_mobius")
            signs_or = torch.sign(i_or_complement)
            empty_sign = signs_or[last].clone()
            signs_or[last] = 0.0
            grad_or = butterfly_(signs_or.neg_(), "mobius")
            grad_or[0] += empty_sign
            velocity_p.mul_(momentum).add_(grad_and).sub_(grad_or)
            velocity_q.mul_(momentum).add_(grad_and, alpha=0.5).add_(grad_or, alpha=0.5)
            p = p.sub_(velocity_p, alpha=rates[t])
            q = q.sub_(velocity_q, alpha=rates[t])
            progress.update(1)
        progress.update(1)
        i_and, i_or_complement, p, q = (table.T.cpu().numpy() for table in (i_and, i_or_complement, p, q))
        return i_and, i_or_complement, p, q, np.stack(history)


@dataclass
class LearnedBaseline:
    """The baseline learned for one sample, its rewards and AND interactions there, and Σ|I| per iteration."""

    baseline: torch.Tensor
    rewards: np.ndarray
    interactions: np.ndarray
    l1_history: np.ndarray


def learn_baseline(
    model: nn.Module,
    masker: Masker,
    label: int,
    lower: torch.Tensor | float,
    upper: torch.Tensor | float,
    iterations: int = 50,
    learning_rate: float = 1e-3,
    batch_size: int = 1024,
    reward: Reward = log_odds,
    desc: str | None = "baseline",
) -> LearnedBaseline:
    """Minimise Σ_S |I_and(S)| over the masker's baseline within [lower, upper] (spec §4).

    Each iteration holds sign(I) fixed, back-propagates Σ_L c_L v_b(L) with c = Mᵀ sign(I) through the model
    on all masks, and takes a projected gradient step with the log-decaying learning rate (no momentum).
    """
    baseline = masker.baseline.detach().clone()  # type: ignore[attr-defined]
    lower_t = torch.as_tensor(lower, dtype=baseline.dtype).expand_as(baseline)
    upper_t = torch.as_tensor(upper, dtype=baseline.dtype).expand_as(baseline)
    if bool((lower_t > upper_t).any()):
        raise ValueError("the baseline's lower bound exceeds its upper bound somewhere; give lower ≤ upper.")
    device = next(model.parameters()).device
    masks = torch.from_numpy(subset_masks(masker.n_players)).to(device)
    history = []
    was_training = model.training
    model.eval()
    try:
        for rate in tqdm(decaying_rates(learning_rate, iterations), desc=desc, disable=desc is None):
            current = masker.with_baseline(baseline)  # type: ignore[attr-defined]
            values = compute_rewards(model, [current], [label], batch_size, reward, desc=None)[0]
            interactions = and_interactions(values)
            history.append(np.abs(interactions).sum())
            weights = torch.from_numpy(and_transpose(np.sign(interactions))).to(device)
            leaf = baseline.clone().to(device).requires_grad_(True)
            trainable = masker.with_baseline(leaf)  # type: ignore[attr-defined]
            gradient = torch.zeros_like(leaf)
            for start in range(0, len(masks), batch_size):
                chunk = masks[start : start + batch_size]
                objective = (
                    masked_rewards(model, trainable, label, chunk, reward) * weights[start : start + len(chunk)]
                ).sum()
                gradient += torch.autograd.grad(objective, leaf)[0]
            baseline = torch.clamp(baseline - rate * gradient.cpu(), lower_t, upper_t)
    finally:
        model.train(was_training)
    final = compute_rewards(model, [masker.with_baseline(baseline)], [label], batch_size, reward, desc=None)[0]  # type: ignore[attr-defined]
    return LearnedBaseline(baseline, final, and_interactions(final), np.asarray(history))
