"""Heads at a few rows per class: the svm's calibration guard, on made-up and on registry data."""

from __future__ import annotations

import numpy as np
import pytest

from littledata.heads import make_head


def _raw_predictions(svm, X):
    """The SVM's own decision: the sign for two classes, the largest value otherwise."""
    d = svm.svm_decision(X)
    return svm.classes_[(d > 0).astype(int) if d.ndim == 1 else d.argmax(axis=1)]


def test_svm_never_keeps_a_sigmoid_that_inverts_its_predictions():
    # 8 rows per class of two weakly separated Gaussians (a seeded draw found by search): the
    # out-of-fold decision values of the ~5-row folds are anti-correlated with the labels, so
    # Platt scaling learns a sigmoid that falls as the decision value rises (slope +18.6), and
    # predicting by those probabilities got 1 of 16 training rows right where the SVM's own
    # decision sign gets 15.
    rng = np.random.default_rng(101)
    y = np.repeat([0, 1], 8)
    X = rng.normal(size=(16, 10))
    X[:, 0] += 0.5 * (2 * y - 1)
    svm = make_head("svm").fit(X, y)
    raw = _raw_predictions(svm, X)
    assert np.mean(raw == y) >= 0.9
    np.testing.assert_array_equal(svm.predict(X), raw)
    assert not svm.calibrated_
    assert "falls as the decision value rises" in svm.calibration_


def test_svm_keeps_platt_scaling_when_it_is_sound():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 6)) + 3 * np.eye(3, 6)[y]
    svm = make_head("svm").fit(X, y)
    assert svm.calibrated_ and svm.calibration_ == "platt"
    slopes = [c.a_ for c in svm.estimator_.calibrated_classifiers_[0].calibrators]
    assert all(a < 0 for a in slopes)


def test_svm_needs_min_calibration_rows_in_every_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [5, 20])
    X = rng.normal(size=(25, 4)) + 3 * np.eye(2, 4)[y]
    svm = make_head("svm").fit(X, y)
    assert not svm.calibrated_ and "min_calibration_rows=6" in svm.calibration_
    assert make_head("svm", min_calibration_rows=5).fit(X, y).calibrated_


GLOVE_SETS = ("sst2", "mpqa", "trec")


@pytest.fixture(scope="module")
def glove_train_pools(shared_datasets):
    """glove50 features of 1500 seeded rows of each dataset's train split (never test rows)."""
    from littledata import load_dataset
    from littledata.experiments.sampling import cap_indices
    from littledata.features import featurize

    pools = {}
    for name in GLOVE_SETS:
        train = load_dataset(name, mirror=shared_datasets).train
        y = np.asarray(train.labels)
        rows = np.sort(np.asarray(cap_indices(y, 1500, seed=0)))
        X = np.asarray(featurize([train.texts[i] for i in rows], "glove50"))
        pools[name] = (X, y[rows])
    return pools


@pytest.mark.parametrize("name", GLOVE_SETS)
def test_svm_never_scores_far_below_its_decision_sign_at_8_rows_per_class(glove_train_pools, name):
    # Before the guard, such draws scored 0.39 where the decision sign scored 0.60 (sst2, seed 1)
    # and 0.29 against 0.69 (mpqa, seed 19): the calibration had inverted the predictions.
    from littledata.experiments.sampling import sample_train_indices

    X, y = glove_train_pools[name]
    ours, raw = [], []
    for seed in range(10):
        train = sample_train_indices(y, 8, seed, per_class=True)
        rest = np.setdiff1d(np.arange(len(y)), train)
        svm = make_head("svm", random_state=seed).fit(X[train], y[train])
        ours.append(np.mean(svm.predict(X[rest]) == y[rest]))
        raw.append(np.mean(_raw_predictions(svm, X[rest]) == y[rest]))
    shortfall = np.asarray(raw) - np.asarray(ours)
    assert shortfall.max() < 0.10, (name, np.round(ours, 3), np.round(raw, 3))
    assert np.mean(shortfall) < 0.02, (name, np.round(ours, 3), np.round(raw, 3))
