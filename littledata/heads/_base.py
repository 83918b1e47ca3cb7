"""Helpers shared by the heads: input checks, label encoding, softmax, class weights."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, validate_data

from littledata.errors import ConfigError, DataFormatError
from littledata.heads.state import HeadState, pack, unpack
from littledata.labels import named
from littledata.threads import auto_threads, thread_limit

#: Smallest probability a head reports: keeps rows off exact 0 / 1 when logits differ by more
#: than float64's exp range (about 745), so no row is ever one-hot.
PROBA_FLOOR = 1e-12


def floor_proba(p: np.ndarray) -> np.ndarray:
    """Raise probabilities below :data:`PROBA_FLOOR` to it and renormalize the rows."""
    p = np.maximum(np.asarray(p, dtype=np.float64), PROBA_FLOOR)
    return p / p.sum(axis=1, keepdims=True)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (max subtracted first), floored at :data:`PROBA_FLOOR`."""
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return floor_proba(z)


def check_fit_input(
    est: Any, X: Any, y: Any, *, accept_sparse: bool = True, allow_nd: bool = False
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Validate ``X, y`` for ``fit``; set ``classes_``; return ``(X, y_index, classes)``.

    ``X`` comes back as float32 (float64 input is kept as float64) CSR or a dense array; ``y`` must
    be 1-D with at least two classes (a :class:`~littledata.errors.DataFormatError` says so
    otherwise). ``classes_`` is sorted (``np.unique``), and ``y_index`` holds positions into it.
    Labels that carry their names (a dataset split's :class:`~littledata.labels.LabelArray`) are
    learned as names: ``classes_`` and predictions are then label names, which stay comparable
    with labels of any other file.
    """
    y = named(y)
    X, y = validate_data(
        est,
        X,
        y,
        accept_sparse="csr" if accept_sparse else False,
        dtype=[np.float32, np.float64],
        allow_nd=allow_nd,
        y_numeric=False,
    )
    with warnings.catch_warnings():
        # few-shot data often has more classes than half its rows: not a regression problem
        warnings.filterwarnings("ignore", message="The number of unique classes is greater")
        check_classification_targets(y)
    classes, y_index = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataFormatError(
            f"{type(est).__name__} needs at least 2 classes in y to fit; got 1 class "
            f"({classes[0]!r}). Sample training rows so that every class is present."
        )
    est.classes_ = classes
    return X, y_index.astype(np.int64), classes


def check_predict_input(est: Any, X: Any, *, accept_sparse: bool = True, allow_nd: bool = False):
    """Validate ``X`` for prediction against what ``fit`` saw (same number of features)."""
    return validate_data(
        est,
        X,
        reset=False,
        accept_sparse="csr" if accept_sparse else False,
        dtype=[np.float32, np.float64],
        allow_nd=allow_nd,
    )


def combined_sample_weight(
    y_index: np.ndarray, class_weight: Any, sample_weight: Any, X: Any
) -> np.ndarray:
    """Per-row weights: ``class_weight`` (None, "balanced" or a dict) times ``sample_weight``.

    A dict must be keyed by class *position* (see :func:`class_weight_by_index`).
    The weights are rescaled to mean 1, so a loss averaged over rows keeps its scale.
    """
    sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if class_weight is not None:
        sw = sw * compute_sample_weight(class_weight, y_index)
    total = sw.sum()
    if total <= 0:
        raise DataFormatError("sample weights sum to zero; give at least one row a weight > 0")
    return sw * (len(sw) / total)


def class_weight_by_index(class_weight: Any, classes: np.ndarray) -> Any:
    """Translate a ``{label: weight}`` dict to ``{position: weight}``; other values pass through."""
    if isinstance(class_weight, dict):
        unknown = [c for c in class_weight if c not in set(classes.tolist())]
        if unknown:
            raise DataFormatError(
                f"class_weight names classes that are not in y: {unknown!r}; "
                f"classes are {classes.tolist()!r}"
            )
        lookup = {c: i for i, c in enumerate(classes.tolist())}
        return {lookup[c]: float(w) for c, w in class_weight.items()}
    return class_weight


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a scipy sparse matrix or array."""
    return sp.issparse(X)


SCALINGS = ("global", "features", "none")


def check_scaling(scaling: str) -> None:
    """Raise a ConfigError unless ``scaling`` is one of :data:`SCALINGS`."""
    if scaling not in SCALINGS:
        raise ConfigError(f"scaling must be one of {', '.join(SCALINGS)}; got {scaling!r}")


def fit_scaling(X: Any, scaling: str = "global") -> tuple[np.ndarray, np.ndarray]:
    """Statistics to scale features: ``(mean, scale)`` with ``X_scaled = (X - mean) / scale``.

    ``"global"`` centers dense features and divides all of them by one factor so that their total
    variance equals the number of features ``d`` (relative scales kept; robust with 2 rows, where
    per-feature variances are meaningless). ``"features"`` divides each feature by its own
    standard deviation (zero-variance features are left as they are). ``"none"`` does nothing.
    Sparse input is never centered (that would densify it): one factor gives its rows the mean
    squared norm ``d``.
    """
    check_scaling(scaling)
    n, d = X.shape
    mean, scale = np.zeros(d), np.ones(d)
    if scaling == "none":
        return mean, scale
    if is_sparse(X):
        sq = float(X.multiply(X).sum()) / n
        if sq > 0:
            scale[:] = np.sqrt(sq / d)
        return mean, scale
    X64 = np.asarray(X, dtype=np.float64)
    mean = X64.mean(axis=0)
    var = X64.var(axis=0)
    if scaling == "features":
        scale = np.sqrt(var)
        scale[scale < 1e-12 * max(1.0, float(np.abs(mean).max(initial=0.0)))] = 1.0
    else:
        total = float(var.sum())
        if total > 0:
            scale[:] = np.sqrt(total / d)
    return mean, scale


def apply_scaling(X: Any, mean: np.ndarray, scale: np.ndarray) -> Any:
    """``(X - mean) / scale`` as float32 (sparse input: only scaled; its mean is always 0)."""
    if is_sparse(X):
        return sp.csr_matrix(X.multiply(1.0 / scale[None, :]), dtype=np.float32)
    return ((np.asarray(X, dtype=np.float64) - mean) / scale).astype(np.float32)


def cv_plan(y_index: np.ndarray, cv: int, min_rows: int) -> tuple[int, np.ndarray]:
    """How many folds an inner cross-validation can use (0: none) and which rows it can validate.

    Rows of classes with a single row cannot be validated; they join every training fold. CV needs
    at least two classes with 2+ rows and at least ``min_rows`` rows that can be validated.
    """
    counts = np.bincount(y_index)
    can_validate = counts[y_index] >= 2
    n_folds = int(min(cv, counts.max()))
    if n_folds < 2 or np.count_nonzero(counts >= 2) < 2 or can_validate.sum() < min_rows:
        return 0, can_validate
    return n_folds, can_validate


def cv_splits(
    y_index: np.ndarray, n_folds: int, can_validate: np.ndarray, random_state: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds over the rows that can be validated; the others are in every train part."""
    from sklearn.model_selection import StratifiedKFold

    rows = np.flatnonzero(can_validate)
    always_train = np.flatnonzero(~can_validate)
    skf = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():
        # classes with fewer rows than folds are fine: they still reach every training part
        warnings.filterwarnings("ignore", message="The least populated class")
        splits = list(skf.split(rows, y_index[rows]))
    return [(np.sort(np.concatenate([rows[tr], always_train])), rows[va]) for tr, va in splits]


def check_blas_threads(value: Any) -> None:
    """Raise a ConfigError unless ``value`` is ``"auto"``, ``None`` or a whole number >= 1."""
    if value is None or value == "auto":
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f'blas_threads must be "auto", None or an integer >= 1; got {value!r}')


_Method = TypeVar("_Method", bound=Callable[..., Any])


def limits_threads(method: _Method) -> _Method:
    """Run a head's ``method(X, ...)`` under its ``blas_threads`` limit (see
    :mod:`littledata.threads`): by default one BLAS/OpenMP thread for a small ``X``."""

    @functools.wraps(method)
    def run(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        threads = getattr(self, "blas_threads", "auto")
        check_blas_threads(threads)
        with thread_limit(auto_threads(threads, X)):
            return method(self, X, *args, **kwargs)

    return run  # type: ignore[return-value]


class ProbabilisticHead(ClassifierMixin, BaseEstimator):
    """Base of the heads whose prediction is the most probable class.

    Subclasses implement ``fit`` and ``predict_proba`` (columns in ``classes_`` order); ``predict``
    is ``classes_[argmax(predict_proba(X))]``, so the two always agree. Sparse input is accepted.

    Saving: :meth:`get_fitted_state` / :meth:`set_fitted_state` hand over and take back what the
    head learned (see :mod:`littledata.heads.state`). A subclass lists its learned attributes in
    ``_state_arrays`` (arrays, CSR matrices or lists of arrays), ``_state_floats`` (float
    scalars) and ``_state_values`` (bool / int / str scalars), and its fitted sub-estimators in
    :meth:`_state_estimators`; ``classes_`` and ``n_features_in_`` are always included.
    """

    _state_arrays: ClassVar[tuple[str, ...]] = ()
    _state_floats: ClassVar[tuple[str, ...]] = ()
    _state_values: ClassVar[tuple[str, ...]] = ()

    def _state_estimators(self) -> dict[str, Callable[[], Any]]:
        """Fitted sub-estimator attributes, each with a function that builds it unfitted (called
        while restoring, after the plain attributes are set). None by default."""
        return {}

    def get_fitted_state(self) -> HeadState:
        """What this fitted head learned, as JSON-able metadata and numpy arrays.

        Returns
        -------
        HeadState
            Restore it with :meth:`set_fitted_state` on an unfitted head built with the same
            parameters; the restored head predicts exactly the same probabilities.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        return pack(
            self,
            arrays=self._state_arrays,
            floats=self._state_floats,
            values=self._state_values,
            estimators=tuple(self._state_estimators()),
        )

    def set_fitted_state(self, state: HeadState) -> Self:
        """Make this (unfitted) head the fitted head :meth:`get_fitted_state` described.

        Raises
        ------
        ArtifactError
            The state holds other attributes than this head learns.
        """
        unpack(
            self,
            state,
            arrays=self._state_arrays,
            floats=self._state_floats,
            values=self._state_values,
            estimators=self._state_estimators(),
        )
        return self

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[argmax(predict_proba(X))]``."""
        proba = self.predict_proba(X)  # type: ignore[attr-defined]
        return self.classes_[np.argmax(proba, axis=1)]  # type: ignore[attr-defined]

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
