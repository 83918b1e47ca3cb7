"""Class-imbalance options for heads: ``none``, ``oversample`` and ``class_weight``.

``class_weight`` is handled by each head (``class_weight="balanced"``: the loss or the votes of
each class weighted by ``n_rows / (n_classes * n_rows_of_class)``). ``oversample`` wraps a head
in :class:`RandomOversampler`, which repeats rows of the smaller classes before fitting.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from littledata.heads.state import HeadState, pack, unpack
from littledata.labels import named

RESAMPLINGS: tuple[str, ...] = ("none", "oversample", "class_weight")


class RandomOversampler(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` after seeded random oversampling of the smaller classes.

    Every class is brought up to the size of the largest one by drawing extra copies of its rows
    with replacement (the original rows are all kept), using ``numpy.random.default_rng`` seeded
    with ``random_state``. Prediction is the fitted estimator's. Works with any row-indexable
    input (dense, sparse, ``(n, L, d)`` layer arrays, arrays of texts).

    Parameters
    ----------
    estimator : classifier
        The head to fit on the resampled rows (cloned).
    random_state : int, default=0

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone.
    classes_ : ndarray of shape (n_classes,)
    sample_indices_ : ndarray of int
        Rows of the training input used (with repeats), in fitting order.
    n_features_in_ : int
        As the fitted estimator's.

    Examples
    --------
    >>> import numpy as np
    >>> from littledata.heads.neighbors import CosineCentroid
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.0], [0.0, 1.0]])
    >>> ros = RandomOversampler(CosineCentroid(), random_state=0).fit(X, [0, 0, 0, 1])
    >>> np.bincount(np.array([0, 0, 0, 1])[ros.sample_indices_]).tolist()
    [3, 3]
    """

    def __init__(self, estimator: Any, *, random_state: int = 0) -> None:
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, X: Any, y: Any, **fit_params: Any) -> RandomOversampler:
        """Oversample, then fit a clone of ``estimator``; returns ``self``."""
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        y_arr = column_or_1d(named(y), warn=True)  # labels that carry names: the names
        if not (hasattr(X, "shape") and hasattr(X, "__getitem__")) and not isinstance(
            X, list | tuple
        ):
            X = np.asarray(X)
        if sp.issparse(X):
            X = sp.csr_matrix(X)  # row indexing needs CSR (COO / DIA cannot be indexed)
        check_consistent_length(X, y_arr)
        _, y_idx, counts = np.unique(y_arr, return_inverse=True, return_counts=True)
        rng = np.random.default_rng(self.random_state)
        parts = [np.arange(len(y_arr))]
        for c, count in enumerate(counts):
            if count < counts.max():
                rows = np.flatnonzero(y_idx == c)
                parts.append(rng.choice(rows, size=int(counts.max() - count), replace=True))
        idx = np.concatenate(parts)
        self.sample_indices_ = idx
        if isinstance(X, list | tuple):  # texts stay strings (object), numbers become an array
            X = np.asarray(X, dtype=object if len(X) and isinstance(X[0], str) else None)
        X_res = _safe_indexing(X, idx)
        sample_weight = fit_params.pop("sample_weight", None)
        if sample_weight is not None:
            fit_params["sample_weight"] = np.asarray(sample_weight)[idx]
        self.estimator_ = clone(self.estimator).fit(X_res, y_arr[idx], **fit_params)
        self.classes_ = self.estimator_.classes_
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The fitted estimator's probabilities."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The fitted estimator's predictions."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def get_fitted_state(self) -> HeadState:
        """What was learned (the rows drawn and the fitted estimator's state); see
        :mod:`littledata.heads.state`."""
        check_is_fitted(self)
        return pack(self, arrays=("sample_indices_",), estimators=("estimator_",))

    def set_fitted_state(self, state: HeadState) -> RandomOversampler:
        """Restore :meth:`get_fitted_state` into this unfitted wrapper; returns ``self``."""
        return unpack(  # type: ignore[no-any-return]
            self,
            state,
            arrays=("sample_indices_",),
            estimators={"estimator_": lambda: clone(self.estimator)},
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        return tags
