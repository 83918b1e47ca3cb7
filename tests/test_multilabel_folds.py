"""The multi-label head's threshold folds reuse the C each label's head chose on all its rows:
one fit per fold, no search, where the fold could have searched; as before where it could not."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold

from littledata.errors import ConfigError
from littledata.heads.logreg import CVLogisticRegression
from littledata.models.multilabel import MultiLabelHead, best_threshold, searched_params


def _data(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)) * [1, 3, 1, 1, 0.5]
    y = np.stack([x[:, 0] > 0.3, x[:, 1] + rng.standard_normal(n) > 2], axis=1)
    return x, y.astype(np.uint8)


def test_searched_c_is_on_the_raw_features_and_skips_the_search() -> None:
    x, y = _data()
    searched = CVLogisticRegression().fit(x, y[:, 0])
    assert searched.cv_used_ and np.isfinite(searched.cv_best_C_)
    again = CVLogisticRegression(**searched.reuse_params()).fit(x, y[:, 0])
    assert again.cv_used_ and np.isnan(again.cv_best_C_) and np.isnan(again.cv_scores_).all()
    assert pytest.approx(searched.C_) == again.C_  # same rows, same scaling: the same C
    np.testing.assert_allclose(again.predict_proba(x), searched.predict_proba(x), atol=0.01)
    # other rows scale differently: the raw-feature C is kept, not the scaled one
    sub = CVLogisticRegression(**searched.reuse_params()).fit(3 * x[:60], y[:60, 0])
    assert sub.C_ / sub.prior_C_ == pytest.approx(searched.C_ / searched.prior_C_)


def test_searched_c_leaves_a_fit_that_cannot_cross_validate_as_it_was() -> None:
    x, _ = _data(12)
    y = np.r_[1, np.zeros(11, int)]  # one positive row: nothing to hold out, no search
    plain = CVLogisticRegression().fit(x, y)
    reused = CVLogisticRegression(searched_C=50.0).fit(x, y)
    assert not plain.cv_used_ and not reused.cv_used_ and reused.C_ == plain.C_
    assert plain.reuse_params() == {}  # nothing searched, nothing to reuse
    with pytest.raises(ConfigError, match="searched_C"):
        CVLogisticRegression(searched_C=0.0).fit(x, y)


def test_threshold_folds_fit_once_at_the_label_heads_c(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = _data()
    searches = []
    original = CVLogisticRegression._select_C

    def counting(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        searches.append(len(args[2]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CVLogisticRegression, "_select_C", counting)
    model = MultiLabelHead("logreg", random_state=0).fit(x, y)
    assert len(searches) == y.shape[1]  # one search per label, on all its rows; none in folds
    assert searches == [len(x)] * y.shape[1]
    # each threshold: the F1-best cut of out-of-fold scores of heads at that label's C
    for j in range(y.shape[1]):
        fixed = searched_params(model.estimators_[j])
        assert fixed == model.estimators_[j].estimator_.reuse_params() != {}
        scores = np.zeros(len(x))
        split = StratifiedKFold(3, shuffle=True, random_state=0)
        for tr, held in split.split(x, y[:, j]):
            fold = CVLogisticRegression(**fixed, class_weight="balanced").fit(x[tr], y[tr, j])
            scores[held] = fold.predict_proba(x[held])[:, 1]
        assert model.thresholds_[j] == pytest.approx(best_threshold(y[:, j], scores))


def test_heads_without_a_search_fold_as_before() -> None:
    x, y = _data()
    model = MultiLabelHead("centroid", random_state=0).fit(sp.csr_matrix(x), y)
    assert all(searched_params(m) == {} for m in model.estimators_)
    assert model.predict(x).shape == y.shape
