"""Sampling: seeded, stratified, nested, no duplicates, sizes checked, pools capped."""

from __future__ import annotations

import numpy as np
import pytest

from littledata.errors import ConfigError
from littledata.experiments.sampling import cap_indices, sample_train_indices

SIZES = (20, 50, 100, 200, 500, 1000)


def labels(counts, names=None):
    names = names if names is not None else [f"c{i}" for i in range(len(counts))]
    rng = np.random.default_rng(42)
    return rng.permutation(np.repeat(np.asarray(names), counts))


IMBALANCED = labels([900, 500, 300, 150, 60, 15, 3])  # 1928 rows, 7 classes


def test_same_seed_same_sample_other_seed_other_sample():
    a = sample_train_indices(IMBALANCED, 100, seed=3)
    b = sample_train_indices(IMBALANCED, 100, seed=3)
    c = sample_train_indices(IMBALANCED, 100, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("size", SIZES)
def test_sample_is_stratified_distinct_and_complete(size):
    idx = sample_train_indices(IMBALANCED, size, seed=0)
    assert len(idx) == size
    assert len(np.unique(idx)) == size  # no duplicates
    assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < len(IMBALANCED)
    classes, pool = np.unique(IMBALANCED, return_counts=True)
    got = np.array([np.sum(IMBALANCED[idx] == c) for c in classes])
    assert np.all(got >= 1)  # every class present
    quota = size * pool / pool.sum()
    # proportional: within one row of the quota, except classes lifted to the 1-row minimum
    # (the others then give up those rows, at most one each)
    assert np.all((np.abs(got - quota) <= 1) | (got == 1) | (got <= quota))
    assert np.all(got >= np.minimum(np.floor(quota) - 1, pool))
    assert np.all(got <= np.maximum(np.ceil(quota), 1))


def test_allocation_matches_hand_computed_example():
    y = np.array(["a"] * 90 + ["b"] * 10)
    for size, want in [(2, [1, 1]), (10, [9, 1]), (20, [18, 2]), (55, [49, 6])]:
        got = np.bincount((y[sample_train_indices(y, size, seed=1)] == "b").astype(int))
        assert got.tolist() == want, size


@pytest.mark.parametrize("seed", range(5))
def test_samples_are_nested_across_sizes(seed):
    previous: set[int] = set()
    for size in SIZES:
        current = set(sample_train_indices(IMBALANCED, size, seed).tolist())
        assert previous <= current, f"size {size} is not a superset of the smaller sample"
        previous = current
    smaller = set()
    for per_class in (1, 2, 8, 16, 32, 64):
        current = set(sample_train_indices(IMBALANCED, per_class, seed, per_class=True).tolist())
        assert smaller <= current
        smaller = current


def test_nesting_holds_on_every_size_for_a_tricky_pool():
    # uneven shares, every size from 6 to 199: no size may drop a row a smaller size had
    y = labels([511, 301, 109, 61, 13, 5])
    for seed in range(3):
        previous: set[int] = set()
        for size in range(6, 200):
            current = set(sample_train_indices(y, size, seed).tolist())
            assert previous <= current and len(current) == size
            previous = current


def test_per_class_sizes_and_short_classes():
    idx = sample_train_indices(IMBALANCED, 8, seed=0, per_class=True)
    counts = dict(zip(*np.unique(IMBALANCED[idx], return_counts=True), strict=True))
    assert counts["c6"] == 3  # has only 3 rows: gives all it has
    assert all(v == 8 for k, v in counts.items() if k != "c6")
    assert len(idx) == len(np.unique(idx))


def test_only_the_given_labels_are_seen():
    # the function gets the train split's labels only; positions index that array
    train_y = labels([30, 20])
    idx = sample_train_indices(train_y, 10, seed=0)
    assert idx.max() < len(train_y)


def test_int_labels_and_errors():
    y = np.repeat([5, 9, 2], [10, 10, 10])
    assert len(sample_train_indices(y, 3, seed=0)) == 3
    with pytest.raises(ConfigError, match="smaller than the number of classes"):
        sample_train_indices(y, 2, seed=0)
    with pytest.raises(ConfigError, match="larger than the pool"):
        sample_train_indices(y, 31, seed=0)
    with pytest.raises(ConfigError, match="at least 1"):
        sample_train_indices(y, 0, seed=0)
    with pytest.raises(ConfigError, match="multi-label"):
        sample_train_indices(np.eye(3, dtype=int)[[0, 1, 2, 0]], 3, seed=0)
    np.testing.assert_array_equal(np.sort(sample_train_indices(y, 30, seed=0)), np.arange(30))


def test_cap_indices():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    idx = cap_indices(y, 100, seed=0)
    assert np.bincount(y[idx]).tolist() == [50, 30, 20]
    np.testing.assert_array_equal(idx, cap_indices(y, 100, seed=0))
    np.testing.assert_array_equal(cap_indices(y, None, seed=0), np.arange(1000))
    np.testing.assert_array_equal(cap_indices(y, 5000, seed=0), np.arange(1000))
    rare = np.repeat([0, 1, 2], [98, 1, 1])
    assert sorted(rare[cap_indices(rare, 10, seed=1)].tolist()).count(1) == 1  # kept
    two = cap_indices(rare, 2, seed=0)  # fewer rows than classes: the largest classes first
    assert len(two) == 2 and 0 in rare[two].tolist()
    with pytest.raises(ConfigError):
        cap_indices(y, -1, seed=0)


def test_a_cap_of_zero_or_none_keeps_every_row_and_a_negative_cap_is_refused() -> None:
    from littledata.experiments.sampling import check_cap

    y = np.repeat([0, 1, 2], [50, 30, 20])
    for cap in (0, None, 100, 1000):
        assert cap_indices(y, cap, seed=0).tolist() == list(range(100))
    assert len(cap_indices(y, 10, seed=0)) == 10
    assert (check_cap(0), check_cap(None), check_cap(np.int64(7))) == (None, None, 7)
    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(ConfigError, match="0 for no cap"):
            cap_indices(y, bad, seed=0)
