"""``MultiLabelHead``: one registered head per label (one-vs-rest), each with its own threshold.

Each label's head is a :class:`~littledata.models.HeadClassifier` fitted on "has the label or
not". Its decision threshold is tuned on out-of-fold scores of the training rows
(:func:`best_threshold`: the cut that maximizes that label's F1), since a fixed 0.5 is rarely the
right cut for a rare label learned from a few rows.

The threshold folds do not search the head's settings again: a head that chooses a setting by
its own inner cross-validation (``logreg``'s C; any head with ``reuse_params``) chooses it once,
on all the label's training rows, and each fold that could search is fitted at that choice (one
fit per fold instead of one search per fold; a fold too small to search does what it always
did). See ``benchmarks/multilabel_head.py`` and BENCHMARKS.md for the quality and time of both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ArtifactError, DataFormatError

if TYPE_CHECKING:
    from littledata.heads.state import HeadState

__all__ = ["DEFAULT_THRESHOLD", "MultiLabelHead", "best_threshold", "searched_params"]

DEFAULT_THRESHOLD = 0.5
"""A label's threshold when its training rows cannot be cross-validated (fewer than two
positive or two negative rows)."""


def best_threshold(y: Any, scores: Any) -> float:
    """The threshold on ``scores`` that maximizes F1 for the 0/1 labels ``y``.

    Candidates are the midpoints between consecutive distinct scores (and 0.5); ties go to the
    candidate nearest 0.5. A label predicted where ``score >= threshold``.

    >>> best_threshold([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.9])
    0.25
    """
    y = np.asarray(y).astype(bool)
    scores = np.asarray(scores, dtype=np.float64)
    if len(y) != len(scores):
        raise DataFormatError(f"{len(y)} labels but {len(scores)} scores")
    if not y.any():
        return DEFAULT_THRESHOLD
    distinct = np.unique(scores)
    candidates = np.unique(
        np.concatenate([(distinct[:-1] + distinct[1:]) / 2, [DEFAULT_THRESHOLD, distinct[0]]])
    )
    pred = scores[None, :] >= candidates[:, None]
    tp = (pred & y).sum(axis=1)
    f1 = 2 * tp / (pred.sum(axis=1) + y.sum())
    best = np.flatnonzero(np.isclose(f1, f1.max()))
    return float(candidates[best[np.argmin(np.abs(candidates[best] - DEFAULT_THRESHOLD))]])


def searched_params(fitted: Any) -> dict[str, Any]:
    """The head parameters with which a copy of a fitted
    :class:`~littledata.models.HeadClassifier`'s head, fitted on a subset of its rows, reuses
    what the head's inner search chose instead of searching again (``{}`` for a head that
    searches nothing, or whose search cannot be reused).

    A head offers this through ``reuse_params()`` (``logreg``: its chosen C as ``searched_C``,
    used where the subset could be cross-validated; where it could not, the copy does what it
    would have done anyway).
    """
    from littledata.models.head import _registry_head

    inner = _registry_head(fitted.estimator_)
    return dict(inner.reuse_params()) if hasattr(inner, "reuse_params") else {}


class MultiLabelHead(BaseEstimator):
    """One-vs-rest over a registered head, with per-label thresholds tuned by cross-validation.

    Parameters
    ----------
    head, head_params, input_kind, resampling, random_state
        As :class:`~littledata.models.HeadClassifier`'s, for each label's head.
    cv : int, default=3
        Folds of the threshold search (fewer when a label has fewer positive or negative rows;
        none below two, then the threshold is :data:`DEFAULT_THRESHOLD`). Each fold's head is
        fitted at the settings the label's head chose on all rows (:func:`searched_params`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,)
        The label columns ``0 .. n_labels - 1``.
    estimators_ : list
        Each label's fitted ``HeadClassifier``, or ``None`` for a label that was always (or
        never) present in training: its score is then that constant share.
    thresholds_ : ndarray of shape (n_labels,)
    priors_ : ndarray of shape (n_labels,)
        Each label's share of the training rows.

    Examples
    --------
    >>> X = np.array([[0.0, 1], [0, 2], [1, 0], [2, 0], [1, 1], [2, 2]])
    >>> Y = np.array([[0, 1], [0, 1], [1, 0], [1, 0], [1, 1], [1, 1]])
    >>> MultiLabelHead("centroid", cv=2).fit(X, Y).predict(X).shape
    (6, 2)
    """

    def __init__(
        self,
        head: str = "logreg",
        head_params: dict[str, Any] | None = None,
        input_kind: str = "dense",
        resampling: str | None = None,
        random_state: int = 0,
        cv: int = 3,
    ) -> None:
        self.head = head
        self.head_params = head_params
        self.input_kind = input_kind
        self.resampling = resampling
        self.random_state = random_state
        self.cv = cv

    def _label_head(self) -> Any:
        from littledata.models import HeadClassifier

        return HeadClassifier(
            self.head,
            head_params=self.head_params,
            input_kind=self.input_kind,
            resampling=self.resampling,
            random_state=self.random_state,
        )

    def fit(self, X: Any, Y: Any) -> MultiLabelHead:
        Y = np.asarray(Y)
        if Y.ndim != 2 or len(Y) != _rows(X):
            raise DataFormatError(
                f"Y must be a 0/1 matrix with a row per row of X ({_rows(X)}); got {Y.shape}"
            )
        Y = Y.astype(np.int64)
        self.classes_ = np.arange(Y.shape[1])
        self.priors_ = Y.mean(axis=0)
        self.estimators_: list[Any] = []
        self.thresholds_ = np.full(Y.shape[1], DEFAULT_THRESHOLD)
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if y.min() == y.max():
                self.estimators_.append(None)
                continue
            model = self._label_head().fit(X, y)
            self.estimators_.append(model)
            self.thresholds_[j] = self._tuned_threshold(X, y, self._fold_head(model))
        return self

    def _fold_head(self, fitted: Any) -> Any:
        """The unfitted head each threshold fold fits: the label's head with the settings its
        own search chose on all rows held fixed (see :func:`searched_params`)."""
        fixed = searched_params(fitted)
        if not fixed:
            return self._label_head()
        return self._label_head().set_params(head_params={**(self.head_params or {}), **fixed})

    def _tuned_threshold(self, X: Any, y: np.ndarray, fold_head: Any) -> float:
        from sklearn.model_selection import StratifiedKFold

        folds = min(int(self.cv), int(y.sum()), int(len(y) - y.sum()))
        if folds < 2:
            return DEFAULT_THRESHOLD
        split = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        scores = np.zeros(len(y))
        for train, held in split.split(np.zeros(len(y)), y):
            model = clone(fold_head).fit(_take(X, train), y[train])
            scores[held] = _positive(model, _take(X, held))
        return best_threshold(y, scores)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Each label's score (rows x labels; the columns do not sum to one)."""
        check_is_fitted(self, "estimators_")
        n = _rows(X)
        out = np.empty((n, len(self.estimators_)))
        for j, model in enumerate(self.estimators_):
            out[:, j] = self.priors_[j] if model is None else _positive(model, X)
        return out

    def predict_from_proba(self, proba: Any) -> np.ndarray:
        """The 0/1 label matrix of scores :meth:`predict_proba` gave."""
        check_is_fitted(self, "thresholds_")
        return (np.asarray(proba) >= self.thresholds_).astype(np.uint8)

    def predict(self, X: Any) -> np.ndarray:
        """The 0/1 label matrix (rows x labels)."""
        return self.predict_from_proba(self.predict_proba(X))

    # -- saving (a multi-label model's folder; see littledata.models.multilabel_classifier) ----

    def describe(self) -> dict[str, Any]:
        """How to rebuild this head through the head registry, as plain JSON: the settings and
        each label's :meth:`HeadClassifier.describe` (None for a constant label)."""
        from littledata.heads.state import json_value

        check_is_fitted(self, "estimators_")
        return {
            "name": self.head,
            "input_kind": self.input_kind,
            "resampling": self.resampling,
            "random_state": json_value(self.random_state, "random_state"),
            "head_params": json_value(dict(self.head_params or {}), "head_params"),
            "cv": json_value(self.cv, "cv"),
            "thresholds": [float(t) for t in self.thresholds_],
            "labels": [None if m is None else m.describe() for m in self.estimators_],
        }

    def get_fitted_state(self) -> HeadState:
        """Thresholds, priors and each label's head state (arrays under ``label/<j>/``)."""
        from littledata.heads.state import HeadState

        check_is_fitted(self, "estimators_")
        arrays = {"thresholds_": self.thresholds_, "priors_": self.priors_}
        metas: list[Any] = []
        for j, model in enumerate(self.estimators_):
            if model is None:
                metas.append(None)
                continue
            state = model.get_fitted_state()
            metas.append(state.meta)
            arrays.update({f"{_LABEL_PREFIX}{j}/{k}": v for k, v in state.arrays.items()})
        return HeadState({"labels": metas}, arrays)

    @classmethod
    def from_saved(cls, spec: Any, state: HeadState) -> MultiLabelHead:
        """Rebuild a fitted head from :meth:`describe` and :meth:`get_fitted_state`, each
        label's head through the head registry only (see :meth:`HeadClassifier.from_saved`).

        Raises
        ------
        ArtifactError
            A malformed description or state, or a label's head that cannot be rebuilt.
        """
        from littledata.heads.state import HeadState
        from littledata.models import HeadClassifier

        if not isinstance(spec, dict) or not isinstance(spec.get("labels"), list):
            raise ArtifactError("the multi-label head's description has no per-label heads")
        metas = state.meta.get("labels")
        specs = spec["labels"]
        if not isinstance(metas, list) or len(metas) != len(specs):
            raise ArtifactError("the multi-label head's state does not list each label's head")
        k = len(specs)
        cut, priors = state.arrays.get("thresholds_"), state.arrays.get("priors_")
        for name, arr in (("thresholds_", cut), ("priors_", priors)):
            if arr is None or arr.shape != (k,) or not np.all(np.isfinite(arr)):
                raise ArtifactError(f"the multi-label head's {name} are missing or malformed")
        from littledata.heads import HEADS, INPUT_KINDS

        if spec.get("thresholds") != [float(t) for t in cut]:  # type: ignore[union-attr]
            raise ArtifactError("the manifest's thresholds differ from the saved arrays'")

        name, cv, seed = spec.get("name"), spec.get("cv"), spec.get("random_state")
        params, resampling = spec.get("head_params"), spec.get("resampling")
        if not isinstance(name, str) or name not in HEADS:
            from littledata.errors import unknown_name

            raise ArtifactError(
                f"the saved head cannot be rebuilt: {unknown_name('head', str(name), HEADS)}"
            )
        if spec.get("input_kind") not in INPUT_KINDS or not isinstance(params, dict):
            raise ArtifactError("the multi-label head's input kind or parameters are malformed")
        for what, value in (("cv", cv), ("random_state", seed)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ArtifactError(f"bad {what} {value!r} in the saved multi-label head")
        if resampling is not None and not isinstance(resampling, str):
            raise ArtifactError(f"bad resampling {resampling!r} in the saved multi-label head")
        model = cls(
            head=name,
            head_params=params or None,
            input_kind=str(spec["input_kind"]),
            resampling=resampling,
            random_state=seed,
            cv=cv,
        )
        estimators: list[Any] = []
        for j, (label_spec, meta) in enumerate(zip(specs, metas, strict=True)):
            if label_spec is None:
                estimators.append(None)
                continue
            if label_spec.get("name") != model.head or label_spec.get("input_kind") != (
                model.input_kind
            ):
                raise ArtifactError(
                    f"label {j}'s head is not the multi-label head's {model.head!r}"
                )
            prefix = f"{_LABEL_PREFIX}{j}/"
            arrays = {k[len(prefix) :]: v for k, v in state.arrays.items() if k.startswith(prefix)}
            try:
                head = HeadClassifier.from_saved(label_spec, HeadState(meta or {}, arrays))
            except ArtifactError as exc:
                raise ArtifactError(f"label {j}: {exc}") from None
            if head.classes_.tolist() != [0, 1]:
                raise ArtifactError(f"label {j}'s head has classes {head.classes_.tolist()!r}")
            estimators.append(head)
        model.classes_ = np.arange(k)
        model.estimators_ = estimators
        model.thresholds_ = np.asarray(cut, dtype=np.float64)
        model.priors_ = np.asarray(priors, dtype=np.float64)
        return model


_LABEL_PREFIX = "label/"


def _rows(X: Any) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, list):
        return [X[i] for i in idx]
    return X[idx]


def _positive(model: Any, X: Any) -> np.ndarray:
    """The probability of class 1 from a head fitted on 0/1 labels."""
    classes = list(np.asarray(model.classes_))
    return np.asarray(model.predict_proba(X))[:, classes.index(1)]
