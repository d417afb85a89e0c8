"""Rewards v(S) on all 2^n masked inputs of a sample (spec §1), batched on the model's device.

The default reward is the numerically stable log-odds of the true class, z_y − logsumexp_{c≠y} z_c, in float64
(a one-logit binary model: +z for class 1, −z for class 0). It is defined by class id, so for a correctly
classified two-class sample v(N) > 0; ``check_positive`` refuses samples where it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ndg_pipeline.interactions.players import Masker, players_of, subset_masks
from ndg_pipeline.interactions.transforms import n_players_of

Reward = Callable[[torch.Tensor, int], torch.Tensor]


def log_odds(logits: torch.Tensor, label: int) -> torch.Tensor:
    """Stable log-odds of class ``label`` per row of ``logits`` [B, C], float64; ±logit for one-logit models."""
    z = logits.to(torch.float64)
    if z.shape[-1] == 1:
        if label not in (0, 1):
            raise ValueError(f"a one-logit model separates classes 0 and 1; got label {label}.")
        return z[:, 0] if label == 1 else -z[:, 0]
    if not 0 <= label < z.shape[-1]:
        raise ValueError(f"label {label} is not one of the model's {z.shape[-1]} classes.")
    others = torch.cat((z[:, :label], z[:, label + 1 :]), dim=1)
    return z[:, label] - torch.logsumexp(others, dim=1)


def finite_rewards(values: np.ndarray) -> np.ndarray:
    """Refuse NaN or inf rewards [B, 2^n], naming the first sample and mask (and its players) where one occurs."""
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, mask = (int(i) for i in bad[0])
        players = players_of(mask, n_players_of(values.shape[-1]))
        raise ValueError(
            f"sample {row}: the reward is {values[row, mask]} at mask {mask} (players kept: {players}); the model's "
            "logits on that masked input are not finite. Check the model's weights, the input and the baseline "
            "for NaN or inf."
        )
    return values


def masked_rewards(
    model: nn.Module, masker: Masker, label: int, masks: torch.Tensor, reward: Reward = log_odds
) -> torch.Tensor:
    """v on a batch of masks [B, n] (differentiable: used as is to learn a baseline)."""
    return reward(masker.logits(model, masks), label)


def compute_rewards(
    model: nn.Module,
    maskers: Sequence[Masker],
    labels: Sequence[int],
    batch_size: int = 1024,
    reward: Reward = log_odds,
    subtract_empty: bool = False,
    check_positive: bool = False,
    desc: str | None = "rewards",
) -> np.ndarray:
    """v(S) for every sample (one masker and label each) and every mask: float64 [samples, 2^n].

    ``subtract_empty`` shifts each row so that v(∅) = 0; ``check_positive`` refuses a sample with v(N) ≤ 0
    (a correctly classified sample must have positive log-odds; anything else means a label or sign mix-up).
    """
    if len(maskers) != len(labels):
        raise ValueError(f"{len(maskers)} maskers but {len(labels)} labels: give one label per sample.")
    if not maskers:
        raise ValueError("no samples to explain: the list of maskers is empty.")
    n = maskers[0].n_players
    if any(m.n_players != n for m in maskers):
        raise ValueError("every sample must have the same number of players (rows of one table share 2^n masks).")
    device = next(model.parameters()).device
    masks = torch.from_numpy(subset_masks(n)).to(device)
    starts = range(0, len(masks), batch_size)
    values = np.empty((len(maskers), len(masks)), dtype=np.float64)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), tqdm(total=len(maskers) * len(starts), desc=desc, disable=desc is None) as bar:
            for row, (masker, label) in enumerate(zip(maskers, labels, strict=True)):
                for start in starts:
                    chunk = masks[start : start + batch_size]
                    values[row, start : start + len(chunk)] = masked_rewards(
                        model, masker, int(label), chunk, reward
                    ).cpu()
                    bar.update()
    finally:
        model.train(was_training)
    finite_rewards(values)
    if check_positive:
        bad = np.flatnonzero(values[:, -1] <= 0)
        if bad.size:
            raise ValueError(
                f"v(N) ≤ 0 for sample(s) {bad.tolist()[:10]}: the unmasked input does not favour its label. Explain "
                "only correctly (and, for more than two classes, confidently: p > 0.5) classified samples, and check "
                "that labels are class ids in the model's output order."
            )
    if subtract_empty:
        values -= values[:, :1]
    return values
