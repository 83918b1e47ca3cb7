"""Heads: the estimator contract, each head on tiny made-up problems, make_head, resampling."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from littledata.errors import ConfigError, UnknownNameError
from littledata.heads import (
    HEADS,
    CalibratedLinearSVM,
    CosineCentroid,
    CosineKNN,
    CVLogisticRegression,
    LayerMix,
    RandomOversampler,
    TorchMLP,
    list_heads,
    make_head,
)
from littledata.heads._base import fit_scaling

# small, fast settings for the torch heads in tests
FAST = {
    "mlp": {"max_epochs": 40, "hidden": 32, "lr": 0.01},
    "layermix": {"max_epochs": 60, "lr": 0.02},
}
DENSE_HEADS = sorted(
    name for name, info in HEADS.items() if "dense" in info.inputs and not info.sentences
)  # a sentence head (token-crf) tags sentences, not rows: tests/test_token_crf.py
SPARSE_HEADS = sorted(name for name, info in HEADS.items() if "sparse" in info.inputs)


def blobs(n_per_class=30, n_classes=3, d=8, sep=4.0, seed=0, labels=None):
    """Well separated Gaussian blobs (classes along the first axes)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = rng.normal(size=(len(y), d)) + sep * np.eye(n_classes, d)[y]
    if labels is not None:
        y = np.asarray(labels)[y]
    return X.astype(np.float32), y


def head(name, **kw):
    return make_head(name, **{**FAST.get(name, {}), **kw})


# ---------------------------------------------------------------- scikit-learn estimator checks


def _expected_failures(est):
    """Checks each head is known to fail, with the reason."""
    if isinstance(est, CVLogisticRegression):
        reason = (
            "the check swaps cv for a list of group splits; cv here is a number of stratified "
            "folds, and repeated rows land in different folds, so the chosen C can differ"
        )
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    if isinstance(est, CosineCentroid):
        return {
            "check_class_weight_classifiers": (
                "centroids are class means, which class weights cannot move; class_weight only "
                "weights the temperature fit"
            )
        }
    if isinstance(est, TorchMLP | LayerMix):
        reason = "stochastic mini-batch training: weighting a row is not the same as repeating it"
        return {
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason,
        }
    return {}


@pytest.mark.integration
@parametrize_with_checks(
    [
        CVLogisticRegression(Cs=(0.1, 10.0), cv=2, max_iter=50),  # small settings: fast checks
        CalibratedLinearSVM(Cs=(0.1, 1.0), cv=2, max_iter=200),
        CosineKNN(),
        CosineCentroid(),
        TorchMLP(max_epochs=15, hidden=16, lr=0.03, batch_size=512, patience=3),
        LayerMix(max_epochs=15, lr=0.1, batch_size=512, patience=3),
        RandomOversampler(CosineCentroid()),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


# ---------------------------------------------------------------- every head on tiny problems


@pytest.mark.parametrize("name", DENSE_HEADS)
def test_head_learns_separable_blobs(name):
    X, y = blobs(labels=["cat", "ant", "bee"])
    Xt, yt = blobs(seed=1, labels=["cat", "ant", "bee"])
    clf = head(name, random_state=0).fit(X, y)
    assert list(clf.classes_) == ["ant", "bee", "cat"]  # sorted, not first-seen order
    P = clf.predict_proba(Xt)
    assert P.shape == (len(Xt), 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)  # float32 input: float32 sums
    assert np.all(P > 0) and np.all(P < 1), "probabilities must never be one-hot"
    pred = clf.predict(Xt)
    np.testing.assert_array_equal(pred, clf.classes_[P.argmax(axis=1)])
    assert np.mean(pred == yt) >= 0.9


@pytest.mark.parametrize("name", DENSE_HEADS)
def test_head_int_labels_sparse_input_and_seeds(name):
    X, y = blobs(n_classes=2, labels=[7, 3])
    Xs = sp.csr_matrix(X)
    a = head(name, random_state=3).fit(Xs, y)
    b = head(name, random_state=3).fit(Xs, y)
    assert list(a.classes_) == [3, 7]
    assert a.predict(Xs).dtype.kind == "i"
    np.testing.assert_array_equal(a.predict_proba(Xs), b.predict_proba(Xs))  # same seed
    assert np.mean(a.predict(Xs) == y) >= 0.9
    np.testing.assert_allclose(a.predict_proba(X), a.predict_proba(Xs), atol=1e-5)


@pytest.mark.parametrize("name", SPARSE_HEADS)
def test_text_input_goes_through_tfidf_pipeline(name):
    texts = np.array(
        ["a great film, great acting", "awful plot and bad acting", "great fun", "bad, awful"] * 6,
        dtype=object,
    )
    y = np.array(["pos", "neg", "pos", "neg"] * 6)
    clf = head(name, input_kind="sparse").fit(texts, y)
    assert clf.steps[0][0] == "tfidf"
    vocab = clf.named_steps["tfidf"].vocabulary_
    assert "great" in vocab and "great fun" in vocab  # unigrams and bigrams
    test = np.array(["great great film", "awful bad plot", "unseen words only"], dtype=object)
    assert "unseen" not in vocab  # fitted on the training rows only
    assert clf.predict(test[:2]).tolist() == ["pos", "neg"]
    np.testing.assert_allclose(clf.predict_proba(test).sum(axis=1), 1.0)


def test_layermix_learns_which_layer_matters():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    X = rng.normal(size=(len(y), 4, 6))
    X[:, 2, :] += 3 * np.eye(3, 6)[y]  # only layer 2 carries the label
    clf = make_head("layermix", input_kind="layers", **FAST["layermix"]).fit(X, y)
    assert clf.layer_weights_.shape == (4,)
    assert clf.layer_weights_.sum() == pytest.approx(1.0)
    assert int(np.argmax(clf.layer_weights_)) == 2
    assert np.mean(clf.predict(X) == y) >= 0.9
    again = make_head("layermix", input_kind="layers", **FAST["layermix"]).fit(X, y)
    np.testing.assert_array_equal(clf.layer_weights_, again.layer_weights_)
    with pytest.raises(Exception, match="layers"):
        clf.predict_proba(X[:, :3])


def test_knn_with_one_neighbour_is_not_one_hot():
    X, y = blobs(n_per_class=5)
    P = CosineKNN(n_neighbors=1).fit(X, y).predict_proba(X)
    assert np.all(P > 0) and np.all(P.max(axis=1) < 1)
    # alpha pseudo-votes: (s + alpha / k) / (s + alpha) for the neighbour's class
    s = 1.0  # a training row is its own nearest neighbour, cosine 1
    assert P.max(axis=1) == pytest.approx(np.full(len(X), (s + 1 / 3) / (s + 1)))


def test_centroid_temperature_is_fitted_and_sharper_for_easier_data():
    X, y = blobs(sep=6.0)
    easy = CosineCentroid().fit(X, y)
    Xh, yh = blobs(sep=1.0)
    hard = CosineCentroid().fit(Xh, yh)
    assert easy.temperature_fitted_ and hard.temperature_fitted_
    assert easy.temperature_ < hard.temperature_
    one = CosineCentroid().fit(X[::30], y[::30])  # one row per class: nothing to leave out
    assert not one.temperature_fitted_ and one.temperature_ == 0.1


# ---------------------------------------------------------------- logreg specifics


@pytest.mark.parametrize(
    ("n_classes", "sparse", "d"), [(3, False, 10), (2, False, 10), (3, False, 80), (3, True, 90)]
)
def test_logreg_solver_matches_sklearn_at_the_same_C(n_classes, sparse, d):
    # d=80/90 > 60 rows takes the rows'-basis (Gram) path; 2 classes checks the binary C scaling
    X, y = blobs(n_per_class=20, n_classes=n_classes, d=d, sep=1.0)
    if sparse:
        X = sp.random(len(y), d, density=0.1, random_state=0, format="csr") + sp.csr_matrix(
            np.eye(n_classes, d)[y]
        )
    ours = CVLogisticRegression(Cs=[0.5], selection="best", scaling="none", tol=1e-8).fit(X, y)
    ref = LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(X, y)
    # float32 arithmetic and a relative-decrease stop: agreement to ~1e-4, far below the ~0.1
    # a wrongly scaled penalty gives
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-3)


@pytest.mark.parametrize("sparse", [False, True])
def test_logreg_rows_basis_gives_the_features_basis_solution(monkeypatch, sparse):
    # duplicated rows make the Gram matrix singular: the pivoted Cholesky stops at its rank
    import littledata.heads.logreg as logreg_module

    X, y = blobs(n_per_class=15, n_classes=3, d=120, sep=1.0)
    X, y = np.r_[X, X[:10]], np.r_[y, y[:10]]
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    fits = {}
    for rows_basis in (False, True):
        monkeypatch.setattr(logreg_module, "_ROW_BASIS", lambda X, k, use=rows_basis: use)
        fits[rows_basis] = CVLogisticRegression(tol=1e-7, random_state=0).fit(X, y)
    assert fits[True].C_ == fits[False].C_
    np.testing.assert_allclose(
        fits[True].cv_scores_, fits[False].cv_scores_, rtol=1e-4, equal_nan=True
    )
    np.testing.assert_allclose(fits[True].predict_proba(X), fits[False].predict_proba(X), atol=2e-3)


def test_logreg_picks_larger_C_on_easy_data_than_on_noisy_data():
    X, y = blobs(n_per_class=40, sep=8.0, d=20)
    easy = CVLogisticRegression(selection="best").fit(X, y)
    rng = np.random.default_rng(0)
    noisy = CVLogisticRegression(selection="best").fit(X, rng.permutation(y))  # no signal
    assert easy.cv_used_ and noisy.cv_used_
    assert easy.C_ > noisy.C_
    assert noisy.C_ <= 1e-2  # the strong end of the grid
    assert np.isfinite(easy.cv_scores_).sum() >= 2


def test_logreg_fallback_learns_from_one_row_per_class():
    # 30 classes on unit-norm vectors (like sentence embeddings): one training row each, class 0
    # three; too few repeated rows for cross-validation. Test rows are noisy copies.
    rng = np.random.default_rng(0)

    def noisy(A):
        Z = A + rng.normal(scale=0.05, size=A.shape)
        return Z / np.linalg.norm(Z, axis=1, keepdims=True)

    protos = rng.normal(size=(30, 64))
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    X = np.vstack([protos, noisy(protos[:1].repeat(2, axis=0))])
    y = np.r_[np.arange(30), 0, 0]
    Xt, yt = noisy(np.repeat(protos, 5, axis=0)), np.repeat(np.arange(30), 5)
    clf = CVLogisticRegression().fit(X, y)
    assert not clf.cv_used_ and clf.C_ == 1.0
    assert (clf.predict(Xt) == yt).mean() > 0.95
    # the prior as fallback (the old default) regularizes the weights so hard that the
    # unpenalized intercept, which follows the class counts, pulls predictions to class 0
    prior = CVLogisticRegression(fallback_C=None).fit(X, y)
    assert prior.C_ == prior.prior_C_ < 0.1
    assert (prior.predict(Xt) == yt).mean() < 0.8
    assert np.bincount(prior.predict(Xt)).argmax() == 0


def test_logreg_falls_back_without_enough_rows(caplog):
    X, y = blobs(n_per_class=1, n_classes=4)
    with caplog.at_level(logging.INFO, logger="littledata.heads.logreg"):
        clf = CVLogisticRegression(fallback_C=2.0).fit(X, y)
    assert not clf.cv_used_ and clf.C_ == 2.0 and clf.n_folds_ == 0
    assert "fallback" in caplog.text
    assert np.all(np.isnan(clf.cv_scores_))
    np.testing.assert_array_equal(clf.predict(X), y)


def test_logreg_prior_is_sklearn_default_C_on_the_raw_features():
    X, y = blobs(n_per_class=3, n_classes=3, d=8)  # 9 rows: too few to cross-validate
    for factor in (1.0, 0.1):
        clf = CVLogisticRegression(fallback_C=None).fit(X * factor, y)  # fall back to the prior
        assert not clf.cv_used_
        # x = scale * z, so C on the raw features is C * scale^2 on the scaled ones
        _, scale = fit_scaling(X * factor, "global")
        assert clf.C_ == clf.prior_C_ == pytest.approx(float(scale[0] ** 2))
        ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X * factor, y)
        np.testing.assert_allclose(
            clf.predict_proba(X * factor), ref.predict_proba(X * factor), atol=2e-3
        )
    raw = CVLogisticRegression(scaling="none", prior_C=3.0, fallback_C=None).fit(X, y)
    assert raw.prior_C_ == raw.C_ == 3.0


def test_logreg_keeps_the_prior_unless_cv_beats_it_clearly():
    rng = np.random.default_rng(1)
    X, _ = blobs(n_per_class=15, n_classes=3, d=10)
    # labels without signal on small-valued features: the prior (strong) is as good as any C
    noise = CVLogisticRegression().fit(X * 0.01, rng.permutation(np.repeat([0, 1, 2], 15)))
    assert noise.cv_used_ and noise.prior_C_ == noise.C_
    assert noise.prior_C_ in noise.Cs_
    # separable classes on tiny features: C=1 on the raw scale underfits badly, CV must win
    Xe, ye = blobs(n_per_class=30, n_classes=3, d=10, sep=4.0)
    easy = CVLogisticRegression().fit(Xe * 1e-3, ye)
    assert easy.cv_used_ and 100 * easy.prior_C_ < easy.C_
    assert easy.cv_best_C_ == easy.C_
    best = CVLogisticRegression(selection="best").fit(X, rng.permutation(np.repeat([0, 1, 2], 15)))
    assert best.prior_C_ not in best.Cs_


def test_logreg_single_row_classes_stay_in_training_folds():
    X, y = blobs(n_per_class=10, n_classes=3)
    X, y = np.r_[X, X[:1] + 5], np.r_[y, 9]  # class 9 has one row
    clf = CVLogisticRegression().fit(X, y)
    assert clf.cv_used_ and 9 in clf.classes_


def test_logreg_default_is_plain_sklearn():
    clf = make_head("logreg-default")
    assert isinstance(clf, LogisticRegression)
    assert clf.get_params()["C"] == 1.0


# ---------------------------------------------------------------- make_head and resampling


def test_registry_and_errors():
    assert {"logreg", "logreg-default", "svm", "knn", "centroid", "mlp", "layermix"} <= set(HEADS)
    assert [h.name for h in list_heads()] == sorted(HEADS)
    assert all(h.description for h in list_heads())
    with pytest.raises(UnknownNameError, match="Did you mean: logreg"):
        make_head("logreg2")
    with pytest.raises(UnknownNameError, match="resampling"):
        make_head("logreg", resampling="undersample")
    with pytest.raises(UnknownNameError, match="input kind"):
        make_head("logreg", input_kind="image")
    with pytest.raises(ConfigError, match="layermix"):
        make_head("knn", input_kind="layers")
    with pytest.raises(ConfigError, match="valid parameters"):
        make_head("logreg", C=3)


def _imbalanced(seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(90, int), np.ones(10, int)]
    X = rng.normal(size=(100, 5)) + 1.0 * np.eye(2, 5)[y]  # overlapping classes
    return X, y


def test_oversample_balances_classes_reproducibly():
    X, y = _imbalanced()
    a = make_head("logreg", resampling="oversample", random_state=1).fit(X, y)
    b = make_head("logreg", resampling="oversample", random_state=1).fit(X, y)
    assert isinstance(a, RandomOversampler)
    assert np.bincount(y[a.sample_indices_]).tolist() == [90, 90]
    assert set(range(100)) <= set(a.sample_indices_.tolist())  # original rows all kept
    np.testing.assert_array_equal(a.sample_indices_, b.sample_indices_)
    plain = make_head("logreg", resampling="none").fit(X, y)
    assert np.mean(a.predict(X) == 1) > np.mean(plain.predict(X) == 1)


@pytest.mark.parametrize("name", ["logreg", "logreg-default", "svm", "knn", "mlp"])
def test_class_weight_raises_minority_predictions(name):
    X, y = _imbalanced()
    weighted = head(name, resampling="class_weight")
    assert weighted.get_params()["class_weight"] == "balanced"
    plain = head(name, resampling="none").fit(X, y)
    weighted.fit(X, y)
    assert np.mean(weighted.predict(X) == 1) > np.mean(plain.predict(X) == 1)


def test_text_oversampling_resamples_after_tfidf():
    texts = np.array(["good"] * 8 + ["bad movie"] * 2, dtype=object)
    y = np.array([1] * 8 + [0] * 2)
    clf = make_head("centroid", input_kind="sparse", resampling="oversample").fit(texts, y)
    assert isinstance(clf.named_steps["head"], RandomOversampler)
    # the vocabulary ("good", "bad", "movie", "bad movie") and idf come from the 10 original
    # rows: "good" is in 8 of 10 texts, not in 8 of 16 as it would be after oversampling
    tfidf = clf.named_steps["tfidf"]
    assert len(tfidf.vocabulary_) == 4
    assert tfidf.idf_[tfidf.vocabulary_["good"]] == pytest.approx(np.log(11 / 9) + 1)


@pytest.mark.integration
def test_importing_heads_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, littledata.heads; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # torch loads inside mlp / layermix fit only


def test_logreg_prior_rule_needs_a_clear_loss_gain_and_no_accuracy_loss():
    from littledata.heads.logreg import keep_prior

    rng = np.random.default_rng(0)
    w = np.ones(200)
    prior = rng.uniform(0.3, 0.7, 200)
    clearly_better = prior - 0.05 - rng.normal(0, 0.01, 200)
    barely_better = prior - rng.normal(0.001, 0.05, 200)
    assert not keep_prior(prior, clearly_better, w, 0.80, 0.82)  # better loss, as accurate
    assert not keep_prior(prior, clearly_better, w, 0.80, 0.80)
    assert keep_prior(prior, clearly_better, w, 0.80, 0.79)  # better loss, less accurate
    assert keep_prior(prior, barely_better, w, 0.80, 0.85)  # gain within one standard error
