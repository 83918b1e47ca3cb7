"""Heads on small problems: the svm's calibration guard (made-up and registry data) and the
thread limit a small fit sets for itself."""

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
    svm = make_head("svm", resampling="none").fit(X, y)
    raw = _raw_predictions(svm, X)
    assert np.mean(raw == y) >= 0.9
    np.testing.assert_array_equal(svm.predict(X), raw)
    assert not svm.calibrated_
    assert "falls as the decision value rises" in svm.calibration_


def test_svm_keeps_platt_scaling_when_it_is_sound():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 6)) + 3 * np.eye(3, 6)[y]
    svm = make_head("svm", resampling="none").fit(X, y)
    assert svm.calibrated_ and svm.calibration_ == "platt"
    slopes = [c.a_ for c in svm.estimator_.calibrated_classifiers_[0].calibrators]
    assert all(a < 0 for a in slopes)


def test_svm_needs_min_calibration_rows_in_every_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], [5, 20])
    X = rng.normal(size=(25, 4)) + 3 * np.eye(2, 4)[y]
    svm = make_head("svm", resampling="none").fit(X, y)
    assert not svm.calibrated_ and "min_calibration_rows=6" in svm.calibration_
    assert make_head("svm", resampling="none", min_calibration_rows=5).fit(X, y).calibrated_


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
        svm = make_head("svm", resampling="none", random_state=seed).fit(X[train], y[train])
        ours.append(np.mean(svm.predict(X[rest]) == y[rest]))
        raw.append(np.mean(_raw_predictions(svm, X[rest]) == y[rest]))
    shortfall = np.asarray(raw) - np.asarray(ours)
    assert shortfall.max() < 0.10, (name, np.round(ours, 3), np.round(raw, 3))
    assert np.mean(shortfall) < 0.02, (name, np.round(ours, 3), np.round(raw, 3))


# ---------------------------------------------------------------- thread limits inside fit


def _blas_threads_now() -> list[int]:
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


HEAD_MODULES = {
    "logreg": "littledata.heads.logreg",
    "svm": "littledata.heads.svm",
    "knn": "littledata.heads.neighbors",
    "centroid": "littledata.heads.neighbors",
}


@pytest.mark.parametrize("name", sorted(HEAD_MODULES))
def test_a_small_fit_limits_blas_to_one_thread_inside_fit(name, monkeypatch):
    import importlib

    from threadpoolctl import threadpool_limits

    module = importlib.import_module(HEAD_MODULES[name])
    seen: list[list[int]] = []
    original = module.check_fit_input

    def spy(*args, **kwargs):  # runs inside fit
        seen.append(_blas_threads_now())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "check_fit_input", spy)
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    X = rng.normal(size=(90, 384)).astype(np.float32)
    with threadpool_limits(limits=2, user_api="blas"):
        outside = _blas_threads_now()
        if not outside or set(outside) != {2}:
            pytest.skip("no BLAS that can be set to 2 threads")
        make_head(name).fit(X, y)  # default: blas_threads="auto"
        make_head(name, blas_threads=None).fit(X, y)
        make_head(name, blas_threads=2).fit(X, y)
    assert seen[0] and set(seen[0]) == {1}, seen
    assert set(seen[1]) == {2} and set(seen[2]) == {2}, seen


def test_a_large_input_keeps_the_libraries_threads(monkeypatch):
    import littledata.threads as threads

    monkeypatch.setattr(threads, "AUTO_MAX_CELLS", 100)
    X = np.zeros((20, 6))
    assert threads.auto_threads("auto", X) is None
    assert threads.auto_threads("auto", X[:10, :5]) == 1
    assert threads.auto_threads(3, X) == 3 and threads.auto_threads(None, X[:1]) is None


def test_blas_threads_is_checked():
    from littledata.errors import ConfigError

    X, y = np.eye(4), [0, 0, 1, 1]
    for bad in (0, "many", 1.5, True):
        with pytest.raises(ConfigError, match="blas_threads"):
            make_head("centroid", blas_threads=bad).fit(X, y)


# ---------------------------------------------------------------- logreg with two rows per class


def test_logreg_keeps_the_prior_with_two_rows_in_every_class():
    # 2-fold CV holding out one row per class cannot tell C values apart; on registry train
    # splits (MiniLM, five multi-class sets, 10 seeds) the cross-validated C lost 0.95 points of
    # accuracy to the prior (docs/heads.md)
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 2)
    X = rng.normal(size=(12, 20)) + 2 * np.eye(6, 20)[y]
    head = make_head("logreg").fit(X, y)
    assert not head.cv_used_ and head.n_folds_ == 0
    assert head.prior_C_ == head.C_
    # three rows per class, or another selection: cross-validation as before
    y3 = np.repeat(np.arange(6), 3)
    X3 = rng.normal(size=(18, 20)) + 2 * np.eye(6, 20)[y3]
    assert make_head("logreg").fit(X3, y3).cv_used_
    assert make_head("logreg", selection="best").fit(X, y).cv_used_
