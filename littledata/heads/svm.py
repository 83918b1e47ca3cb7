"""``svm``: a linear support vector machine with C by inner CV and calibrated probabilities."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ConfigError
from littledata.heads._base import (
    ProbabilisticHead,
    apply_scaling,
    check_fit_input,
    check_predict_input,
    check_scaling,
    cv_plan,
    cv_splits,
    fit_scaling,
    floor_proba,
    limits_threads,
    softmax,
)

log = logging.getLogger(__name__)

DEFAULT_SVM_CS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)
#: Platt scaling is dropped when its predictions on the training rows are less accurate than the
#: SVM's own decision values by more than this.
MAX_CALIBRATION_ACCURACY_DROP = 0.1


def _check_calibration(calibrated: CalibratedClassifierCV, Xs: Any, y_idx: np.ndarray) -> str:
    """``"platt"`` when a fitted ``CalibratedClassifierCV(ensemble=False)`` is sound, else why not.

    Sound: every per-class sigmoid ``1 / (1 + exp(a * f + b))`` rises with the decision value
    ``f`` (``a < 0``), and the calibrated predictions on the training rows are at most
    :data:`MAX_CALIBRATION_ACCURACY_DROP` less accurate than the decision values' argmax (sign,
    for two classes).
    """
    fitted = calibrated.calibrated_classifiers_[0]
    slopes = np.array([float(c.a_) for c in fitted.calibrators])
    if np.any(slopes >= 0):
        return (
            "softmax: a Platt sigmoid fitted on out-of-fold decision values falls as the "
            f"decision value rises (slope {slopes.max():+.3g}); it would invert predictions"
        )
    d = fitted.estimator.decision_function(Xs)
    raw = (d > 0).astype(np.int64) if d.ndim == 1 else d.argmax(axis=1)
    raw_acc = float(np.mean(raw == y_idx))
    platt_acc = float(np.mean(calibrated.predict_proba(Xs).argmax(axis=1) == y_idx))
    if platt_acc < raw_acc - MAX_CALIBRATION_ACCURACY_DROP:
        return (
            f"softmax: Platt predictions are {platt_acc:.2f} accurate on the training rows, "
            f"the decision values {raw_acc:.2f}"
        )
    return "platt"


class CalibratedLinearSVM(ProbabilisticHead):
    """Linear SVM (``sklearn.svm.LinearSVC``, squared hinge, L2) with calibrated probabilities.

    ``fit`` scales the features like ``logreg`` (see ``scaling``), picks ``C`` from ``Cs`` by
    stratified inner cross-validation on held-out accuracy (ties keep the smaller ``C``; rows of
    single-row classes stay in every training part), then makes probabilities. It is
    one-vs-rest, so slow with many classes (tens of seconds for 151 classes x 1000 rows on one
    core; prefer ``logreg`` there). Probabilities:

    - when every class has at least ``min_calibration_rows`` rows (default 6): Platt scaling,
      i.e. ``sklearn.calibration.CalibratedClassifierCV(method="sigmoid", ensemble=False)``: a
      sigmoid per class fitted on out-of-fold decision values, then the per-class probabilities
      normalized to sum to 1; the SVM itself is refitted on all rows. The calibration is kept
      only if it passes two checks (see ``docs/heads.md``): every sigmoid rises with the decision
      value (on tiny folds the out-of-fold values can be anti-correlated with the labels, and
      the fitted sigmoid then inverts the predictions), and the calibrated predictions on the
      training rows are at most 0.1 less accurate than the decision values' own;
    - otherwise (too few rows, or a failed check): the softmax of the SVM's per-class decision
      values (for two classes, the sigmoid of the decision value), temperature 1. Decision values
      are in margin units, so a row on the margin (value 1 vs -1) gets about 0.88.
      ``calibrated_`` is then False and ``calibration_`` says why.

    Parameters
    ----------
    Cs : sequence of float, default=(0.001, 0.01, 0.1, 1)
        Walked upwards; the walk stops at the first C whose held-out accuracy is below the best
        so far (larger C values take liblinear longer).
    cv : int, default=3
        Inner folds (for choosing C and for the calibration).
    scaling : {"global", "features", "none"}, default="global"
        Feature scaling before the SVM (see ``littledata.heads._base.fit_scaling``).
    class_weight : None, "balanced" or dict, default=None
    fallback_C : float, default=0.1
        C without cross-validation.
    min_cv_rows : int, default=10
        Fewer rows than this (or fewer than two classes with 2+ rows): C is ``fallback_C``.
    min_calibration_rows : int, default=6
        Platt scaling needs at least this many rows in every class; below it the softmax of
        the decision values gave a lower log loss on tiny draws from registry train splits.
    max_iter : int, default=500
        liblinear iteration cap (not converging only logs a DEBUG message).
    dual : bool or "auto", default=True
        liblinear's dual solver; it was faster than the primal one (``"auto"`` picks primal
        when rows outnumber features) on 1000 x 384 embeddings in our measurements.
    random_state : int, default=0
    blas_threads : "auto", int or None, default="auto"
        BLAS/OpenMP threads during ``fit`` and prediction (threadpoolctl): ``"auto"`` uses one
        thread when the input has at most 4 million cells (rows x features), where more threads
        only wait for each other (many times slower on a busy machine; see ``docs/heads.md``);
        ``None`` leaves the libraries' own setting.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    C_ : float
    cv_used_ : bool
        Whether C was chosen by cross-validation (otherwise ``C_ = fallback_C``).
    calibrated_ : bool
        Whether probabilities come from Platt scaling (True) or the softmax fallback (False).
    calibration_ : str
        ``"platt"``, or why the softmax fallback is used.
    cv_scores_ : ndarray of shape (len(Cs),)
        Mean held-out accuracy per C (NaN without CV).
    n_iter_ : int
        liblinear iterations of the final SVM fit.
    estimator_ : LinearSVC or CalibratedClassifierCV
        The fitted model on scaled features.
    mean_, scale_ : ndarray of shape (n_features,)
        The feature scaling.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from littledata.heads.svm import CalibratedLinearSVM
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))]
    >>> svm = CalibratedLinearSVM().fit(X, [0] * 20 + [1] * 20)
    >>> svm.predict([[-2, -2, -2]]).tolist(), bool(svm.calibrated_)
    ([0], True)
    """

    _state_arrays = ("mean_", "scale_", "cv_scores_")
    _state_floats = ("C_",)
    _state_values = ("cv_used_", "calibrated_", "calibration_", "n_iter_")

    def __init__(
        self,
        *,
        Cs: Sequence[float] = DEFAULT_SVM_CS,
        cv: int = 3,
        scaling: str = "global",
        class_weight: Any = None,
        fallback_C: float = 0.1,
        min_cv_rows: int = 10,
        min_calibration_rows: int = 6,
        max_iter: int = 500,
        dual: Any = True,
        random_state: int = 0,
        blas_threads: int | str | None = "auto",
    ) -> None:
        self.Cs = Cs
        self.cv = cv
        self.scaling = scaling
        self.class_weight = class_weight
        self.fallback_C = fallback_C
        self.min_cv_rows = min_cv_rows
        self.min_calibration_rows = min_calibration_rows
        self.max_iter = max_iter
        self.dual = dual
        self.random_state = random_state
        self.blas_threads = blas_threads

    def _svc(self, C: float) -> LinearSVC:
        return LinearSVC(
            C=C,
            dual=self.dual,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            random_state=self.random_state,
        )

    @limits_threads
    def fit(self, X: Any, y: Any) -> CalibratedLinearSVM:
        """Fit on ``X`` (dense or sparse) and labels ``y``; returns ``self``."""
        Cs = np.sort(np.asarray(self.Cs, dtype=np.float64).ravel())
        if Cs.size == 0 or not np.all(Cs > 0):
            raise ConfigError(f"Cs must be a non-empty list of positive numbers; got {self.Cs!r}")
        if int(self.cv) < 2:
            raise ConfigError(f"cv must be an integer >= 2; got {self.cv!r}")
        check_scaling(self.scaling)
        X, y_idx, _ = check_fit_input(self, X, y)
        self.mean_, self.scale_ = fit_scaling(X, self.scaling)
        Xs = apply_scaling(X, self.mean_, self.scale_)
        n_folds, can_validate = cv_plan(y_idx, self.cv, self.min_cv_rows)
        self.cv_used_ = n_folds > 0
        self.cv_scores_ = np.full(len(Cs), np.nan)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="The number of unique classes is greater")
            if self.cv_used_:
                splits = cv_splits(y_idx, n_folds, can_validate, self.random_state)
                for i, C in enumerate(Cs):
                    hits = 0
                    for tr, va in splits:
                        svc = self._svc(C).fit(Xs[tr], y_idx[tr])
                        hits += int(np.sum(svc.predict(Xs[va]) == y_idx[va]))
                    self.cv_scores_[i] = hits / sum(len(va) for _, va in splits)
                    if i and self.cv_scores_[i] < np.nanmax(self.cv_scores_[:i]):
                        break  # worse than a smaller C: larger ones (slower to fit) are skipped
                # first maximum: ties keep the smaller C
                self.C_ = float(Cs[int(np.nanargmax(self.cv_scores_))])
            else:
                self.C_ = float(self.fallback_C)
                log.info("svm: too few rows for cross-validation; using C=%g", self.C_)
            counts = np.bincount(y_idx)
            if counts.min() < max(int(self.min_calibration_rows), 2):
                self.calibration_ = (
                    f"softmax: a class has {counts.min()} rows, fewer than "
                    f"min_calibration_rows={self.min_calibration_rows}"
                )
                self.estimator_ = self._svc(self.C_).fit(Xs, y_idx)
            else:
                folds = int(min(self.cv, counts.min()))
                calibrated = CalibratedClassifierCV(
                    self._svc(self.C_),
                    method="sigmoid",
                    cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state),
                    ensemble=False,
                ).fit(Xs, y_idx)
                self.estimator_ = calibrated
                self.calibration_ = _check_calibration(calibrated, Xs, y_idx)
                if self.calibration_ != "platt":
                    # the SVM refitted on all rows, without the failed sigmoids
                    self.estimator_ = calibrated.calibrated_classifiers_[0].estimator
                    log.info("svm: %s", self.calibration_)
            self.calibrated_ = self.calibration_ == "platt"
        final = (
            self.estimator_.calibrated_classifiers_[0].estimator
            if self.calibrated_
            else self.estimator_
        )
        self.n_iter_ = int(final.n_iter_)
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                log.debug("svm: %s", w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return self

    def _state_estimators(self) -> dict[str, Any]:
        def unfitted() -> Any:  # what fit() builds, by the restored calibrated_ and C_
            if not self.calibrated_:
                return self._svc(self.C_)
            return CalibratedClassifierCV(
                self._svc(self.C_), method="sigmoid", cv=self.cv, ensemble=False
            )

        return {"estimator_": unfitted}

    @limits_threads
    def svm_decision(self, X: Any) -> np.ndarray:
        """The SVM's raw decision values (n, n_classes); for 2 classes shape (n,).

        (Not named ``decision_function`` on purpose: ``predict`` follows the calibrated
        probabilities, whose argmax can differ from the raw decision values' on a few rows.)
        """
        check_is_fitted(self)
        Xs = apply_scaling(check_predict_input(self, X), self.mean_, self.scale_)
        # with ensemble=False the calibrated model wraps one SVM fitted on all rows
        svc = (
            self.estimator_.calibrated_classifiers_[0].estimator
            if self.calibrated_
            else self.estimator_
        )
        return svc.decision_function(Xs)

    @limits_threads
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (Platt-calibrated, or the softmax fallback), (n, n_classes)."""
        check_is_fitted(self)
        if self.calibrated_:
            Xs = apply_scaling(check_predict_input(self, X), self.mean_, self.scale_)
            return floor_proba(self.estimator_.predict_proba(Xs))
        d = self.svm_decision(X)
        if d.ndim == 1:
            d = np.column_stack([np.zeros_like(d), d])
        return softmax(d)
