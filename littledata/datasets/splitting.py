"""The fixed train/test split of datasets that have no official one.

mr, subj, mpqa, sms_spam, davidson_hate, airline_sentiment, dbpedia14_subset and
uci_sentiment_sentences come upstream as one pool of labeled examples. littledata splits each pool
the same way, forever:

1. Number the examples ``0 .. n-1`` in the order the parser reads them (files in the order the
   catalog lists them, lines in file order).
2. Within each label, order the examples by the sha256 digest of the UTF-8 bytes of
   ``f"{dataset_name}:{index}:{text}"`` (ties, which never happen in practice, by index).
3. The first ``round(0.2 * n_label)`` examples of that order go to ``test``, the rest to ``train``.
4. Each split keeps the original order of its examples.

No random number generator is involved, so the split cannot change with the version of numpy or
Python; it changes only if the dataset's name, its texts or their order change. It is stratified
(each label keeps its share, up to rounding) and the two splits are disjoint and cover the pool.

Examples
--------
>>> train, test = hashed_split_indices("demo", ["a", "b", "c", "d", "e"], [0, 0, 0, 0, 0])
>>> len(train), len(test)
(4, 1)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from littledata.datasets.base import Dataset, Split

TEST_FRACTION = 0.2
"""Share of each label that goes to the generated test split."""

SPLIT_NOTE = (
    "No official split upstream: littledata's fixed stratified 80/20 split. Within each label, "
    "examples are ordered by sha256 of '<dataset>:<index>:<text>' (index = position in the parsed "
    "pool) and the first round(0.2 * n_label) go to test, the rest to train; both keep the pool's "
    "order. No RNG is used, so the split never changes between numpy or Python versions."
)
"""The ``split_note`` of every dataset split by this module."""


def example_digest(dataset_name: str, index: int, text: str) -> bytes:
    """Return the sha256 digest that orders one example inside its label.

    Parameters
    ----------
    dataset_name: the registered dataset name (part of the key: datasets never share an order).
    index: the example's position in the parsed pool.
    text: the example's text.
    """
    key = f"{dataset_name}:{index}:{text}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def hashed_split_indices(
    dataset_name: str,
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    test_fraction: float = TEST_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(train_indices, test_indices)`` of the fixed stratified split (see module docs).

    Parameters
    ----------
    dataset_name: the registered dataset name.
    texts: one text per example.
    labels: one integer label per example.
    test_fraction: share of each label sent to test (``round(test_fraction * n_label)`` examples).

    Returns
    -------
    Two sorted int64 arrays of positions; together they cover ``range(len(texts))`` exactly once.
    """
    labels_arr = np.asarray(labels)
    if labels_arr.ndim != 1 or len(labels_arr) != len(texts):
        raise ValueError(f"{len(texts)} texts but labels of shape {labels_arr.shape}")
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    by_label: dict[int, list[int]] = {}
    for index, label in enumerate(labels_arr.tolist()):
        by_label.setdefault(int(label), []).append(index)
    is_test = np.zeros(len(texts), dtype=bool)
    for indices in by_label.values():
        ranked = sorted(indices, key=lambda i: (example_digest(dataset_name, i, texts[i]), i))
        n_test = round(test_fraction * len(indices))
        is_test[ranked[:n_test]] = True
    return np.flatnonzero(~is_test).astype(np.int64), np.flatnonzero(is_test).astype(np.int64)


def hashed_train_test_split(
    dataset_name: str, pool: Split, test_fraction: float = TEST_FRACTION
) -> dict[str, Split]:
    """Split a single-label ``pool`` into ``{"train": ..., "test": ...}`` (see module docs).

    Meta columns, text pairs and tokens follow their examples.
    """
    if not isinstance(pool.labels, np.ndarray) or pool.labels.ndim != 1:
        raise ValueError("the hashed split needs one integer label per example")
    train_idx, test_idx = hashed_split_indices(dataset_name, pool.texts, pool.labels, test_fraction)
    return {"train": pool.subset(train_idx), "test": pool.subset(test_idx)}


def held_out_split_note(seed: int, fraction: float = TEST_FRACTION) -> str:
    """What :func:`with_test_split` says it did (shown in the benchmark's output and report)."""
    return (
        f"no test split in the file: {round(100 * fraction)}% of each label held out as the test "
        f"split (littledata's fixed hashed split, seed {seed})"
    )


def with_test_split(
    ds: Dataset, seed: int = 0, fraction: float = TEST_FRACTION
) -> tuple[Dataset, str]:
    """``ds`` unchanged when it has a test split; else ``ds`` with its train split divided into
    ``train`` and ``test`` by the fixed stratified split of this module (the seed, not the
    dataset's name, goes into the hash, so renaming a file does not change its split), and a
    note that says so ("" when nothing was done).

    The benchmark and the active-learning simulation call this for a user's file that has no
    test split (no split column, or no test/validation value in it).
    """
    from dataclasses import replace

    if ds.test_split in ds.splits or ds.train_split not in ds.splits:
        return ds, ""
    train = ds.splits[ds.train_split]
    labels = train.labels
    if isinstance(labels, np.ndarray) and labels.ndim == 1:
        groups = np.asarray(labels)
    else:  # sequence labeling, multi-label: one group, not stratified
        groups = np.zeros(len(train), dtype=np.int64)
    train_idx, test_idx = hashed_split_indices(
        f"littledata-split-seed-{seed}", train.texts, groups, fraction
    )
    if len(test_idx) == 0 or len(train_idx) == 0:
        from littledata.errors import DataFormatError

        raise DataFormatError(
            f"{ds.name} has no test split and only {len(train)} labeled rows: too few to hold "
            f"out {round(100 * fraction)}% for testing. Add rows, or give a test file "
            "(test=... / CLI: --test)."
        )
    splits = dict(ds.splits)
    splits[ds.train_split] = train.subset(train_idx)
    splits["test"] = train.subset(test_idx)
    return replace(ds, splits=splits, test_split="test"), held_out_split_note(seed, fraction)
