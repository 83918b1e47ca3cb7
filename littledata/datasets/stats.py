"""Statistics of a loaded dataset, per split: what ``littledata datasets show`` prints.

For each split: its size, the label distribution (counts and shares), text lengths in words and
characters (5th, 50th and 95th percentile and the maximum) and a few examples per label, drawn with
a fixed seed so the same seed always shows the same examples.

- single-label and sentence-pair: one label per example; shares of examples;
- multi-label: per label, the examples that carry it (shares add up to more than 100%), plus the
  examples with no label;
- sequence labeling: per tag, its tokens (shares of all tokens); examples are sentences holding the
  tag, shown with each tagged token as ``token[TAG]``; lengths are in tokens.

>>> from littledata.datasets.stats import dataset_stats
>>> stats = dataset_stats(load_dataset("trec"), examples_per_label=2, seed=0)  # doctest: +SKIP
>>> stats[0].label_counts  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from littledata.datasets.base import UNLABELED, Dataset, Split, Task

PERCENTILES = (5, 50, 95)


@dataclass
class LengthStats:
    """Text length: 5th, 50th, 95th percentile (observed lengths, nearest rank), maximum, mean."""

    p5: int
    p50: int
    p95: int
    max: int
    mean: float

    @classmethod
    def of(cls, lengths: Sequence[int] | np.ndarray) -> LengthStats:
        arr = np.asarray(lengths, dtype=np.int64)
        if arr.size == 0:
            return cls(0, 0, 0, 0, 0.0)
        p5, p50, p95 = (int(v) for v in np.percentile(arr, PERCENTILES, method="nearest"))
        return cls(p5, p50, p95, int(arr.max()), float(arr.mean()))


@dataclass
class SplitStats:
    """Statistics of one split.

    Attributes
    ----------
    name: the split's name.
    size: its number of examples.
    label_counts: ``{label name: count}`` in label-index order (tokens per tag for sequence
        labeling; examples carrying the label for multi-label).
    label_total: what the shares are of (examples, or tokens for sequence labeling).
    unlabeled: examples that carry no label (multi-label; every row of a user's split
        ``unlabeled``).
    words / chars: length statistics of the texts (and of the text pairs in ``pair_words`` /
        ``pair_chars`` for sentence pairs).
    examples: ``{label name: [example, ...]}``; a sentence pair reads ``"first ||| second"``.
    """

    name: str
    size: int
    label_counts: dict[str, int]
    label_total: int
    words: LengthStats
    chars: LengthStats
    pair_words: LengthStats | None = None
    pair_chars: LengthStats | None = None
    unlabeled: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def share(self, label: str) -> float:
        """The label's share of :attr:`label_total` (0-1)."""
        return self.label_counts.get(label, 0) / self.label_total if self.label_total else 0.0


def _word_count(text: str) -> int:
    return len(text.split())


def _membership(ds: Dataset, split: Split) -> list[np.ndarray]:
    """For each label index, the row indices of the examples that carry it."""
    k = ds.num_labels
    if ds.task is Task.MULTI_LABEL:
        matrix = np.asarray(split.labels)
        return [np.flatnonzero(matrix[:, j]) for j in range(k)]
    if ds.task is Task.SEQUENCE_LABELING:
        rows: list[list[int]] = [[] for _ in range(k)]
        for i, tags in enumerate(split.labels):
            for j in np.unique(np.asarray(tags)):
                rows[int(j)].append(i)
        return [np.asarray(r, dtype=np.int64) for r in rows]
    labels = np.asarray(split.labels)
    return [np.flatnonzero(labels == j) for j in range(k)]


def split_stats(
    ds: Dataset, split_name: str, *, examples_per_label: int = 3, seed: int = 0
) -> SplitStats:
    """Compute :class:`SplitStats` for one split of ``ds`` (examples drawn with ``seed``)."""
    split = ds.splits[split_name]
    names = list(ds.label_names)
    k = len(names)
    unlabeled = 0
    if split_name == UNLABELED:  # rows without a label (a user's file)
        counts = np.zeros(k, dtype=np.int64)
        total = len(split)
        unlabeled = len(split)
        word_lengths = None
    elif ds.task is Task.SEQUENCE_LABELING:
        flat = (
            np.concatenate([np.asarray(t, dtype=np.int64) for t in split.labels])
            if len(split)
            else np.zeros(0, dtype=np.int64)
        )
        counts = np.bincount(flat, minlength=k)
        total = int(flat.size)
        word_lengths = [len(t) for t in split.tokens] if split.tokens else None
    elif ds.task is Task.MULTI_LABEL:
        matrix = np.asarray(split.labels).reshape(len(split), k)
        counts = matrix.sum(axis=0)
        total = len(split)
        unlabeled = int((matrix.sum(axis=1) == 0).sum())
        word_lengths = None
    else:
        counts = np.bincount(np.asarray(split.labels, dtype=np.int64), minlength=k)
        total = len(split)
        word_lengths = None
    if word_lengths is None:
        word_lengths = [_word_count(t) for t in split.texts]

    rng = np.random.default_rng(seed)
    examples: dict[str, list[str]] = {}
    for j, rows in enumerate(_membership(ds, split)):
        if examples_per_label <= 0 or rows.size == 0:
            continue
        take = min(examples_per_label, rows.size)
        picked = np.sort(rng.choice(rows, size=take, replace=False))
        examples[names[j]] = [_show(ds, split, int(i)) for i in picked]

    stats = SplitStats(
        name=split_name,
        size=len(split),
        label_counts={names[j]: int(counts[j]) for j in range(k)},
        label_total=total,
        words=LengthStats.of(word_lengths),
        chars=LengthStats.of([len(t) for t in split.texts]),
        unlabeled=unlabeled,
        examples=examples,
    )
    if split.text_pairs is not None:
        stats.pair_words = LengthStats.of([_word_count(t) for t in split.text_pairs])
        stats.pair_chars = LengthStats.of([len(t) for t in split.text_pairs])
    return stats


def _show(ds: Dataset, split: Split, i: int) -> str:
    if ds.task is Task.SEQUENCE_LABELING and split.tokens is not None:
        tags = np.asarray(split.labels[i])
        return " ".join(
            tok if ds.label_names[int(t)] == "O" else f"{tok}[{ds.label_names[int(t)]}]"
            for tok, t in zip(split.tokens[i], tags, strict=True)
        )
    if split.text_pairs is not None:
        return f"{split.texts[i]} ||| {split.text_pairs[i]}"
    return split.texts[i]


def dataset_stats(ds: Dataset, *, examples_per_label: int = 3, seed: int = 0) -> list[SplitStats]:
    """Return :class:`SplitStats` for every split of ``ds``, in the dataset's split order.

    Parameters
    ----------
    ds: a loaded dataset.
    examples_per_label: how many examples to draw per label (0 for none).
    seed: the seed of the example draw (same seed, same examples).
    """
    return [
        split_stats(ds, name, examples_per_label=examples_per_label, seed=seed)
        for name in ds.splits
    ]


def stats_as_dict(stats: Sequence[SplitStats]) -> list[dict[str, Any]]:
    """Plain dicts of :class:`SplitStats` (for JSON output)."""
    return [asdict(s) for s in stats]


__all__ = ["LengthStats", "SplitStats", "dataset_stats", "split_stats", "stats_as_dict"]
