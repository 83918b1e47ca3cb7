"""What an uncertainty strategy sees of each task type: a set of class distributions per example.

The uncertainty strategies (least confidence, margin, entropy) score class distributions. A task
type's *view* says which distributions an example has and the strategy scores each of them and
aggregates the scores per example (:meth:`QueryContext.uncertainty
<littledata.active.strategies.base.QueryContext.uncertainty>`); no strategy asks which task it
serves.

- ``single-label`` (sentence pairs too): one distribution per example, the head's
  ``predict_proba``; aggregating does nothing.
- ``sequence-labeling``: one tag distribution per word of a sentence (the token head's
  ``predict_proba`` on the words' features, :class:`WordRows`), aggregated per sentence: by
  default ``mean``, the mean over its words (for margin sampling, the mean token margin);
  ``max`` takes its most uncertain word (the smallest token margin), which did worse in our
  measurement (BENCHMARKS.md). Sentence-level scores aggregated from token-level ones, as in
  Settles & Craven (2008), who compare sums, means and the least-confident sequence.
- ``multi-label``: one binary distribution per label, centred on the label's tuned decision
  threshold ``t`` (:class:`~littledata.models.multilabel.MultiLabelHead`'s ``thresholds_``):
  a score ``p`` becomes ``q = p / (2t)`` below the threshold and ``1/2 + (p - t) / (2 (1 - t))``
  above it, so ``q = 1/2`` exactly at the threshold and the binary margin ``|2q - 1|`` is the
  distance to the threshold as a share of the room on that side. Per-label margins of
  one-vs-rest classifiers, aggregated over the labels by their minimum (Brinker 2006) or their
  mean (both compared by Esuli & Sebastiani 2009); the default here is the minimum margin
  (``max`` uncertainty), which did better in our measurement (BENCHMARKS.md).

Aggregations (:data:`AGGREGATES`): ``mean`` (the example's mean score over its distributions) or
``max`` (its most uncertain distribution: for margin sampling, the smallest margin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AGGREGATES",
    "TASKS",
    "WordRows",
    "aggregate",
    "check_aggregate",
    "default_aggregate",
    "uncertainty_parts",
]

AGGREGATES: tuple[str, ...] = ("mean", "max")

_DEFAULT_AGGREGATE = {"single-label": "mean", "multi-label": "max", "sequence-labeling": "mean"}

TASKS: tuple[str, ...] = tuple(_DEFAULT_AGGREGATE)
"""Task types a query context can describe (``TaskType.query_task`` of the task types)."""


def check_aggregate(value: str | None, strategy: str) -> str | None:
    """``value`` when it is ``None`` (the task's default) or one of :data:`AGGREGATES`."""
    from littledata.errors import ConfigError

    if value is not None and value not in AGGREGATES:
        raise ConfigError(
            f"{strategy}'s aggregate must be one of {', '.join(AGGREGATES)} (or None for the "
            f"task's default), got {value!r}."
        )
    return value


def _threshold_centred(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``q`` of the module docstring: 1/2 at the threshold, 0 at score 0, 1 at score 1."""
    t = np.clip(np.broadcast_to(np.asarray(t, dtype=np.float64), p.shape), 1e-9, 1 - 1e-9)
    below = 0.5 * p / t
    above = 0.5 + 0.5 * (p - t) / (1.0 - t)
    return np.clip(np.where(p < t, below, above), 0.0, 1.0)


def uncertainty_parts(
    task: str, model: Any, proba: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The distributions of ``task``'s view, from the head's scores ``proba`` (a row per example,
    or per word of a sentence) and ``owner`` (each row's example, ``0 .. n - 1``), with the
    example each distribution belongs to."""
    rows = np.asarray(owner)
    if task == "multi-label":
        thresholds = getattr(model, "thresholds_", None)
        t = np.full(proba.shape[1], 0.5) if thresholds is None else np.asarray(thresholds)
        q = _threshold_centred(proba, t)
        parts = np.stack([1.0 - q, q], axis=-1).reshape(-1, 2)
        return parts, np.repeat(rows, proba.shape[1])
    return proba, rows


@dataclass(frozen=True, eq=False)
class WordRows:
    """The word features of a pool of sentences: ``matrix`` holds every word's row, sentence
    after sentence; sentence ``i``'s words are rows ``offsets[i]:offsets[i + 1]``.

    ``WordRows(m, o)(rows)`` gives the word rows of those sentences and, for each, its
    position in ``rows``.
    """

    matrix: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_lengths(cls, matrix: np.ndarray, lengths: Any) -> WordRows:
        """From each sentence's number of words (their sum must be the matrix's rows)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        if len(matrix) != offsets[-1]:
            from littledata.errors import DataFormatError

            raise DataFormatError(
                f"{len(matrix)} word feature rows but the sentences hold {offsets[-1]} words."
            )
        return cls(matrix, offsets)

    @property
    def lengths(self) -> np.ndarray:
        """Words per sentence."""
        return np.diff(self.offsets)

    def rows_of(self, rows: Any) -> np.ndarray:
        """The word rows of sentences ``rows``, in that order."""
        parts = [np.arange(self.offsets[r], self.offsets[r + 1]) for r in np.asarray(rows)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def __call__(self, rows: Any) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows)
        owner = np.repeat(np.arange(len(rows)), self.lengths[rows])
        return self.matrix[self.rows_of(rows)], owner


def default_aggregate(task: str) -> str:
    """The aggregation a task's view uses when a strategy names none."""
    return _DEFAULT_AGGREGATE.get(task, "mean")


def aggregate(scores: np.ndarray, owner: np.ndarray, n: int, how: str) -> np.ndarray:
    """Per example (``0 .. n - 1``): the ``mean`` or ``max`` of its parts' ``scores``.

    >>> aggregate(np.array([0.1, 0.5, 0.2]), np.array([0, 0, 1]), 2, "max").tolist()
    [0.5, 0.2]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if how == "max":
        out = np.full(n, -np.inf)
        np.maximum.at(out, owner, scores)
        return out
    counts = np.bincount(owner, minlength=n)
    return np.bincount(owner, weights=scores, minlength=n) / np.maximum(counts, 1)
