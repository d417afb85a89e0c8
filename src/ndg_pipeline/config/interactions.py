"""Parameters of the interaction lens (``conf/base/parameters_interactions.yml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ndg_pipeline.config.base import Params

MAX_PLAYERS = 20  # 2^20 masked inputs per sample (ndg_pipeline.interactions.players.MAX_PLAYERS)


class ImageSettingParams(Params):
    """Image players: a grid of cells over a region of each image (the ndg pipeline's MNIST CNN)."""

    grid: tuple[int, int] = (3, 3)
    region: tuple[int, int, int, int] | None = (4, 4, 25, 25)
    baseline: Literal["black", "zero"] | float = "black"
    background_kept: bool = True

    @model_validator(mode="after")
    def _players(self) -> ImageSettingParams:
        rows, columns = self.grid
        if rows < 1 or columns < 1 or rows * columns > MAX_PLAYERS:
            raise ValueError(f"interactions.image.grid {self.grid} gives {rows * columns} players; use 1…{MAX_PLAYERS}")
        return self


class TabularSettingParams(Params):
    """A table (wine from scikit-learn, or the census adult.data CSV) and the authors' MLP trained on it."""

    table: Literal["wine", "adult"] = "wine"
    path: str | None = None
    limit: int | None = Field(None, gt=0)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    split_seed: int = 0
    baseline: Literal["mean", "zero"] = "mean"
    hidden: int = Field(100, gt=0)
    layers: int = Field(5, gt=0)
    epochs: int = Field(60, ge=1)
    batch_size: int = Field(32, gt=0)
    learning_rate: float = Field(1e-3, gt=0)

    @model_validator(mode="after")
    def _adult_needs_a_file(self) -> TabularSettingParams:
        if self.table == "adult" and not self.path:
            raise ValueError("interactions.tabular.table is adult: set interactions.tabular.path to adult.data")
        return self


class TextSettingParams(Params):
    """Word players of test sentences (the ndg pipeline's transformer, e.g. ``--env=sst2``)."""

    max_words: int = Field(8, ge=1, le=MAX_PLAYERS)
    min_words: int = Field(3, ge=1)
    embedding: str | None = None


class SecondModelParams(Params):
    """The independently trained second model for model-wise transferability, trained by the ndg pipeline
    (``second_model``) exactly as the first from another seed (0 epochs: none; null: ``train.epochs``)."""

    seed: int = 1
    epochs: int | None = Field(None, ge=0)


class NullParams(Params):
    """The nulls beside every headline number and the intervals over inputs."""

    model_seed: int = 2  # seeds the untrained network whose concepts are the null of per-sample numbers and γ
    draws: int = Field(20, ge=1)  # draws of random concept identities and signs (the null of β and ρ)
    halves: int = Field(200, ge=10)  # random halves of each class's inputs behind each interval (delete-half jackknife)
    level: float = Field(0.95, gt=0, lt=1)  # coverage of the intervals
    seed: int = 0  # seeds the draws and the resamples


class SplitParams(Params):
    """The AND-OR split (spec §3)."""

    iterations: int = Field(10_000, ge=1)
    learning_rate: float | None = Field(None, gt=0)
    q_threshold: float = Field(0.04, ge=0)
    momentum: float = Field(0.9, ge=0, lt=1)


class PatternParams(Params):
    """Noise removal and aggregation into the AND-OR graph (spec §5)."""

    min_patterns: int = Field(15, ge=1)
    max_patterns: int = Field(80, ge=1)
    n_greedy: int = Field(20, ge=1)
    max_error: float = Field(0.1, gt=0)
    min_explanation: float = Field(0.95, gt=0, le=1)
    greedy_from: int = Field(400, ge=1)
    cut: Literal["authors", "strict"] = "authors"
    max_merges: int = Field(5, ge=0)
    entropy_weight: float = Field(10.0, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> PatternParams:
        if self.min_patterns > self.max_patterns:
            raise ValueError(
                f"interactions.patterns.min_patterns ({self.min_patterns}) exceeds max_patterns ({self.max_patterns})"
            )
        if self.max_patterns > self.greedy_from:
            raise ValueError(
                f"interactions.patterns.max_patterns ({self.max_patterns}) exceeds greedy_from ({self.greedy_from}): "
                "the greedy would never choose among the counts it may keep; raise greedy_from"
            )
        return self


class MetricParams(Params):
    """Thresholds of the metrics (spec §6)."""

    salient_threshold: float = Field(0.05, gt=0, le=1)
    dictionary_threshold: float = Field(0.1, gt=0, le=1)
    dictionary_size: int = Field(50, ge=1)
    transfer_thresholds: list[float] = Field(default_factory=lambda: [0.05, 0.10, 0.15, 0.20, 0.25, 0.30])
    discrimination_threshold: float = Field(0.05, gt=0, le=1)
    frequency_bins: int = Field(5, ge=1)


class BaselineLearningParams(Params):
    """Learning the baseline (spec §4) before the rewards: off by default (the ICML runs do not)."""

    enabled: bool = False
    iterations: int = Field(50, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    bound: float = Field(0.05, ge=0)


class ReportParams(Params):
    """How much the report shows."""

    samples_shown: int = Field(4, ge=1)
    concepts_shown: int = Field(6, ge=1)
    graph_concepts: int = Field(12, ge=1)


class InteractionsParams(Params):
    """The interaction lens: players, rewards, the AND-OR split and its metrics."""

    setting: Literal["image", "tabular", "text"] = "image"
    samples_per_class: int = Field(50, ge=1)
    classes: list[int] | None = Field(default_factory=lambda: [0, 1])
    timeline_per_class: int = Field(10, ge=1)
    seed: int = 0
    batch_size: int = Field(1024, gt=0)
    device: str = "auto"
    subtract_empty: bool = True
    image: ImageSettingParams = ImageSettingParams()
    tabular: TabularSettingParams = TabularSettingParams()
    text: TextSettingParams = TextSettingParams()
    second_model: SecondModelParams = SecondModelParams()
    nulls: NullParams = NullParams()
    split: SplitParams = SplitParams()
    patterns: PatternParams = PatternParams()
    metrics: MetricParams = MetricParams()
    baseline_learning: BaselineLearningParams = BaselineLearningParams()
    report: ReportParams = ReportParams()

    @model_validator(mode="after")
    def _text_words(self) -> InteractionsParams:
        if self.text.min_words > self.text.max_words:
            raise ValueError("interactions.text.min_words exceeds interactions.text.max_words")
        return self

    @property
    def explained(self) -> str:
        """What the concepts explain: the reward minus the constant v(∅) (the default), or the reward itself."""
        return "v(S) − v(∅)" if self.subtract_empty else "v(S)"

    def split_learning_rate(self, players: int) -> float:
        """The split's learning rate: as given, else 1e-5 · 2^(9 − n) — the authors' image rate at n = 9 players,
        halved per further player because the gradient of Σ|I| grows with the 2^n masks (at n = 13 on wine,
        1e-4 and 1e-5 diverge while 1e-6 lowers Σ|I| steadily)."""
        if self.split.learning_rate is not None:
            return self.split.learning_rate
        return 1e-5 * 2.0 ** (9 - players)
