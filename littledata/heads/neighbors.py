"""``knn`` and ``centroid``: cosine-similarity heads that need no training beyond storing rows."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.preprocessing import normalize
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ConfigError
from littledata.heads._base import (
    ProbabilisticHead,
    check_fit_input,
    check_predict_input,
    class_weight_by_index,
    is_sparse,
    limits_threads,
    softmax,
)

log = logging.getLogger(__name__)

_CHUNK = 2048  # test rows per similarity block (bounds memory with large training sets)


def _unit_rows(X: Any, dtype: Any = np.float32) -> Any:
    """L2-normalized rows (all-zero rows stay zero); CSR stays CSR."""
    Xn = normalize(X, norm="l2", copy=True)
    return Xn.astype(dtype) if is_sparse(Xn) else np.asarray(Xn, dtype=dtype)


def _dense(M: Any) -> np.ndarray:
    return M.toarray() if is_sparse(M) else np.asarray(M)


def _class_weights(class_weight: Any, y_index: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """One weight per class position (all 1 without ``class_weight``)."""
    k = len(classes)
    if class_weight is None:
        return np.ones(k)
    cw = class_weight_by_index(class_weight, classes)
    return compute_class_weight(cw, classes=np.arange(k), y=y_index)


class CosineKNN(ProbabilisticHead):
    """k nearest neighbours by cosine similarity, with similarity-weighted, smoothed votes.

    For a query row, the ``n_neighbors`` training rows with the highest cosine similarity ``s``
    vote for their class with weight ``max(s, 0)`` (times the class weight, if any). The
    probability of class ``c`` is ``(votes_c + alpha / k) / (sum of votes + alpha)`` with ``k``
    classes: ``alpha`` pseudo-votes spread evenly over the classes. So probabilities are a proper
    distribution and never one-hot, even with one neighbour; a query far from every training row
    (small similarities) gets probabilities close to uniform. ``predict`` is the class with the
    most (weighted) votes, ties going to the first class in ``classes_``.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours that vote (at most the number of training rows).
    alpha : float, default=1.0
        Total pseudo-votes of the smoothing (> 0).
    class_weight : None, "balanced" or dict, default=None
        Multiplies each neighbour's vote by the weight of its class.
    blas_threads : "auto", int or None, default="auto"
        BLAS/OpenMP threads during ``fit`` and prediction (threadpoolctl): ``"auto"`` uses one
        thread when the input has at most 4 million cells (rows x features), where more threads
        only wait for each other (many times slower on a busy machine; see ``docs/heads.md``);
        ``None`` leaves the libraries' own setting.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels.
    X_fit_ : ndarray or CSR matrix
        The L2-normalized training rows.
    y_fit_ : ndarray of int
        Their class positions in ``classes_``.
    class_weight_ : ndarray of shape (n_classes,)
    n_features_in_ : int

    Examples
    --------
    >>> from littledata.heads.neighbors import CosineKNN
    >>> X = [[1.0, 0.1], [0.9, 0.0], [0.0, 1.0], [0.1, 0.8]]
    >>> knn = CosineKNN(n_neighbors=1).fit(X, ["x", "x", "y", "y"])
    >>> knn.predict([[1.0, 0.2]]).tolist()
    ['x']
    >>> bool(knn.predict_proba([[1.0, 0.2]]).max() < 1)
    True
    """

    _state_arrays = ("X_fit_", "y_fit_", "class_weight_")

    def __init__(
        self,
        *,
        n_neighbors: int = 5,
        alpha: float = 1.0,
        class_weight: Any = None,
        blas_threads: int | str | None = "auto",
    ) -> None:
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.class_weight = class_weight
        self.blas_threads = blas_threads

    @limits_threads
    def fit(self, X: Any, y: Any) -> CosineKNN:
        """Store the normalized rows of ``X`` and the labels ``y``; returns ``self``."""
        if int(self.n_neighbors) < 1:
            raise ConfigError(f"n_neighbors must be at least 1; got {self.n_neighbors!r}")
        if not self.alpha > 0:
            raise ConfigError(
                f"alpha must be > 0 (it keeps probabilities off 0 and 1); got {self.alpha!r}"
            )
        X, y_idx, classes = check_fit_input(self, X, y)
        self.X_fit_ = _unit_rows(X)
        self.y_fit_ = y_idx
        self.class_weight_ = _class_weights(self.class_weight, y_idx, classes)
        return self

    @limits_threads
    def predict_proba(self, X: Any) -> np.ndarray:
        """Smoothed vote shares, shape (n, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self)
        Xq = _unit_rows(check_predict_input(self, X))
        k = len(self.classes_)
        m = min(int(self.n_neighbors), self.X_fit_.shape[0])
        out = np.empty((Xq.shape[0], k))
        for start in range(0, Xq.shape[0], _CHUNK):
            S = _dense(Xq[start : start + _CHUNK] @ self.X_fit_.T).astype(np.float64)
            if m < S.shape[1]:
                nn = np.argpartition(-S, m - 1, axis=1)[:, :m]
            else:
                nn = np.broadcast_to(np.arange(S.shape[1]), S.shape)
            sims = np.take_along_axis(S, nn, axis=1)
            labels = self.y_fit_[nn]
            w = np.maximum(sims, 0.0) * self.class_weight_[labels]
            votes = np.zeros((S.shape[0], k))
            np.add.at(votes, (np.arange(S.shape[0])[:, None], labels), w)
            out[start : start + _CHUNK] = (votes + self.alpha / k) / (
                votes.sum(axis=1, keepdims=True) + self.alpha
            )
        return out


class CosineCentroid(ProbabilisticHead):
    """Nearest class mean by cosine similarity, with temperature-scaled softmax probabilities.

    Rows are L2-normalized; each class's centroid is the normalized mean of its rows. A query's
    logits are its cosine similarities to the centroids divided by a temperature ``T``, and the
    probabilities their softmax; ``predict`` is the most similar centroid.

    With ``temperature="auto"`` (default) ``T`` is fitted on the training rows by minimizing the
    *leave-one-out* log loss: each row is scored against its own class's centroid computed
    without it (so rows are not judged by a centroid they helped make, which would pick an
    overconfident ``T``), and against the other centroids as they are. The search is over
    ``T`` in ``[1e-3, 10]`` (bounded scalar minimization of ``log T``). Classes with a single row
    cannot be left out, so their rows are skipped; if no row is left (one row per class),
    ``T = fallback_temperature`` and an INFO message is logged.

    Parameters
    ----------
    temperature : "auto" or float, default="auto"
        Softmax temperature (> 0); smaller is more confident.
    fallback_temperature : float, default=0.1
        ``T`` when "auto" has nothing to fit on.
    class_weight : None, "balanced" or dict, default=None
        Weights the rows of the leave-one-out loss that fits ``T`` (the centroids are class means,
        so class sizes do not otherwise matter).
    blas_threads : "auto", int or None, default="auto"
        BLAS/OpenMP threads during ``fit`` and prediction (threadpoolctl): ``"auto"`` uses one
        thread when the input has at most 4 million cells (rows x features), where more threads
        only wait for each other (many times slower on a busy machine; see ``docs/heads.md``);
        ``None`` leaves the libraries' own setting.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    centroids_ : ndarray of shape (n_classes, n_features)
        Unit-norm class centroids.
    temperature_ : float
        The temperature in use.
    temperature_fitted_ : bool
        Whether it was fitted (False: given, or the fallback).
    n_features_in_ : int

    Examples
    --------
    >>> from littledata.heads.neighbors import CosineCentroid
    >>> X = [[1.0, 0.1], [0.9, 0.0], [0.0, 1.0], [0.1, 0.8]]
    >>> clf = CosineCentroid().fit(X, [0, 0, 1, 1])
    >>> clf.predict([[0.2, 0.9]]).tolist()
    [1]
    """

    _state_arrays = ("centroids_",)
    _state_floats = ("temperature_",)
    _state_values = ("temperature_fitted_",)

    def __init__(
        self,
        *,
        temperature: Any = "auto",
        fallback_temperature: float = 0.1,
        class_weight: Any = None,
        blas_threads: int | str | None = "auto",
    ) -> None:
        self.temperature = temperature
        self.fallback_temperature = fallback_temperature
        self.class_weight = class_weight
        self.blas_threads = blas_threads

    @limits_threads
    def fit(self, X: Any, y: Any) -> CosineCentroid:
        """Compute the class centroids and the temperature; returns ``self``."""
        auto = isinstance(self.temperature, str)
        if auto and self.temperature != "auto":
            raise ConfigError(
                f"temperature must be 'auto' or a number > 0; got {self.temperature!r}"
            )
        if not auto and not float(self.temperature) > 0:
            raise ConfigError(f"temperature must be > 0; got {self.temperature!r}")
        if not self.fallback_temperature > 0:
            raise ConfigError(
                f"fallback_temperature must be > 0; got {self.fallback_temperature!r}"
            )
        X, y_idx, classes = check_fit_input(self, X, y)
        k = len(classes)
        Xn = _unit_rows(X)
        onehot = np.zeros((k, len(y_idx)))
        onehot[y_idx, np.arange(len(y_idx))] = 1.0
        sums = np.asarray(_dense(Xn.T @ onehot.T).T, dtype=np.float64)  # (k, d) sums of unit rows
        norms = np.linalg.norm(sums, axis=1)
        self.centroids_ = sums / np.where(norms > 0, norms, 1.0)[:, None]
        self.temperature_fitted_ = False
        if not auto:
            self.temperature_ = float(self.temperature)
            return self
        T = self._fit_temperature(Xn, y_idx, sums, norms, classes)
        if T is None:
            log.info(
                "centroid: every class has a single row, so no temperature can be fitted; "
                "using the fallback T=%g",
                self.fallback_temperature,
            )
            self.temperature_ = float(self.fallback_temperature)
        else:
            self.temperature_, self.temperature_fitted_ = T, True
        return self

    def _fit_temperature(
        self, Xn: Any, y_idx: np.ndarray, sums: np.ndarray, norms: np.ndarray, classes: np.ndarray
    ) -> float | None:
        k = len(classes)
        counts = np.bincount(y_idx, minlength=k)
        rows = np.flatnonzero(counts[y_idx] >= 2)
        if len(rows) == 0:
            return None
        P = np.asarray(_dense(Xn[rows] @ sums.T), dtype=np.float64)  # x_i . S_c
        sims = P / np.where(norms > 0, norms, 1.0)[None, :]
        own = y_idx[rows]
        r = np.arange(len(rows))
        Xr = Xn[rows]
        x_sq = np.asarray(
            Xr.multiply(Xr).sum(axis=1)
            if is_sparse(Xr)
            else (Xr.astype(np.float64) ** 2).sum(axis=1),
            dtype=np.float64,
        ).ravel()
        # own class without the row: (S_c - x_i), norm^2 = |S_c|^2 - 2 x_i.S_c + |x_i|^2
        loo_norm_sq = np.maximum(norms[own] ** 2 - 2 * P[r, own] + x_sq, 0.0)
        loo_norm = np.sqrt(loo_norm_sq)
        loo_sim = (P[r, own] - x_sq) / np.maximum(loo_norm, 1e-12)
        sims[r, own] = np.where(loo_norm > 1e-12, loo_sim, 0.0)
        w = _class_weights(self.class_weight, y_idx, classes)[own]

        def loo_loss(log_t: float) -> float:
            Z = sims / np.exp(log_t)
            Z = Z - Z.max(axis=1, keepdims=True)
            lse = np.log(np.exp(Z).sum(axis=1))
            return float(np.dot(w, lse - Z[r, own]) / w.sum())

        res = minimize_scalar(loo_loss, bounds=(np.log(1e-3), np.log(10.0)), method="bounded")
        return float(np.exp(res.x))

    @limits_threads
    def similarities(self, X: Any) -> np.ndarray:
        """Cosine similarities to the centroids, shape (n, n_classes)."""
        check_is_fitted(self)
        Xq = _unit_rows(check_predict_input(self, X), np.float64)
        return np.asarray(_dense(Xq @ self.centroids_.T), dtype=np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``softmax(similarities / temperature_)``, shape (n, n_classes)."""
        return softmax(self.similarities(X) / self.temperature_)
