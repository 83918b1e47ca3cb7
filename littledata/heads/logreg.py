"""``logreg``: L2 multinomial logistic regression with C chosen by inner cross-validation.

The recommended head for small labeled sets on top of a frozen encoder. See ``docs/heads.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ConfigError
from littledata.heads._base import (
    ProbabilisticHead,
    apply_scaling,
    check_fit_input,
    check_predict_input,
    check_scaling,
    class_weight_by_index,
    combined_sample_weight,
    cv_plan,
    cv_splits,
    fit_scaling,
    is_sparse,
    limits_threads,
    softmax,
)
from littledata.heads._multinomial import (
    Design,
    MultinomialProblem,
    brier_rows,
    gram,
    log_loss_rows,
)

log = logging.getLogger(__name__)

#: The C grid searched by default (on the scaled features; see ``scaling``): decades from 1e-4 to
#: 1e3. Unit-norm sentence embeddings need the strong end (sklearn's C=1 on raw MiniLM features
#: is about 0.002 on the scaled ones).
DEFAULT_CS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1000.0)
#: Held-out scores that can pick C (the first two: lower is better).
SCORINGS: tuple[str, ...] = ("log_loss", "brier", "accuracy")
#: The conventional strength, on the raw (unscaled) features: scikit-learn's default C.
DEFAULT_PRIOR_C = 1.0
#: The ways C can be picked from the cross-validation scores.
SELECTIONS: tuple[str, ...] = ("prior", "best", "1se")
# relative-decrease stopping rules of L-BFGS: looser on the fold fits, which only rank the Cs
_FOLD_FTOL = 1e-5
_FINAL_FTOL = 1e-8


def _row_basis_is_cheaper(X: Any, k: int) -> bool:
    """Whether to solve in the rows' basis (see ``Design``) rather than on the features.

    A rough cost model of one C path (about 100 loss evaluations; constants measured on one
    core): on the features, each evaluation costs the products with X plus L-BFGS-B's own work,
    about 150 ns per parameter; in the rows' basis, a pivoted Cholesky factorization per fold
    (about 0.03 s for n = 1000) plus dense n x r products and r * k parameters.
    """
    n, d = X.shape
    if d <= n:
        return False
    nnz = X.nnz if is_sparse(X) else n * d
    per_mac = 2e-9 if is_sparse(X) else 1e-10
    features = 100 * (4 * nnz * k * per_mac + d * k * 150e-9)
    rows = 3e-11 * n**3 + 100 * (4 * n * n * k * 1e-10 + n * k * 150e-9)
    return rows < features


_ROW_BASIS = _row_basis_is_cheaper


def _weighted_mean_se(v: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean of ``v`` and its standard error (Kish effective sample size)."""
    mean = float(np.dot(w, v) / w.sum())
    n_eff = w.sum() ** 2 / float(np.dot(w, w))
    se = float(np.sqrt(np.dot(w, (v - mean) ** 2) / w.sum() / max(n_eff - 1, 1.0)))
    return mean, se


def keep_prior(
    prior_losses: np.ndarray,
    best_losses: np.ndarray,
    weights: np.ndarray,
    prior_accuracy: float,
    best_accuracy: float,
) -> bool:
    """The ``selection="prior"`` rule: keep the prior C unless the best C beats it clearly.

    ``*_losses`` are per held-out row scores (lower is better) of the two Cs on the same rows.
    The best C replaces the prior only when its mean loss is lower by more than one standard
    error of the paired per-row difference *and* its held-out accuracy is not lower.
    """
    mean_diff, se_diff = _weighted_mean_se(prior_losses - best_losses, weights)
    return bool(mean_diff <= se_diff or best_accuracy < prior_accuracy)


class CVLogisticRegression(ProbabilisticHead):
    """Multinomial L2 logistic regression (L-BFGS) whose strength C is chosen by inner CV.

    ``fit`` scales the features (``scaling``; statistics from the training rows), then walks the
    grid ``Cs`` from strong to weak regularization. At each C it fits one model per stratified
    fold, each warm-started from that fold's solution at the previous C, and scores the held-out
    rows (mean Brier score by default). The walk stops once ``patience`` grid points in a row have
    scored worse than the best one, which skips the slow, barely regularized end of the grid when
    it cannot win. Finally one model is fitted on all rows at the chosen ``C_``, warm-started from
    the mean of the fold solutions.

    Choosing C by cross-validation on a few dozen rows is noisy, and a noisy choice costs accuracy.
    So by default (``selection="prior"``) the grid also holds the conventional strength
    ``prior_C`` (scikit-learn's ``C=1`` on the *raw* features, converted to the scaled ones), and
    that C is kept unless the best C beats it on the held-out rows by more than one standard error
    of their paired difference *and* is at least as accurate on them (a better Brier score alone
    often came from a weaker, less accurate model on sentence embeddings). With few rows the prior
    is kept; with more rows and features that need another strength (tf-idf, unnormalized word
    vectors) the cross-validated C takes over.

    With exactly two rows in every class, cross-validation would hold out one row per class in
    each of two folds, too little to tell strengths apart (it lost about one point of accuracy to
    the prior on MiniLM features, see ``docs/heads.md``): ``selection="prior"`` then keeps the
    prior without cross-validation (``cv_used_`` False).

    Rows of classes with a single row cannot be held out; they join every training fold.
    Cross-validation needs at least two classes with 2+ rows and ``min_cv_rows`` rows that can be
    held out; otherwise the model is fitted at ``fallback_C`` (default 1 on the scaled
    features), ``cv_used_`` is False and an INFO message is logged. The fallback is not the prior:
    with one row per class the prior (``C=1`` on raw sentence embeddings) regularizes so hard that
    the model all but ignores the features (measured on clinc150 with 100 labels in 98 classes:
    0.19 accuracy at the prior, 0.57 at any C from 0.01 to 1000 on the scaled features).

    The objective is scikit-learn's (``C * sum_i w_i * loss_i + ||W||^2 / 2``, intercept not
    penalised; for two classes the two-vector softmax is rescaled to the binary model), so ``C``
    means what it means in ``sklearn.linear_model.LogisticRegression`` *on the scaled features*.
    When there are more features than rows and it is estimated to be faster, the same problem is
    solved exactly in the span of the training rows (see ``littledata.heads._multinomial.Design``).

    Parameters
    ----------
    Cs : sequence of float, default=DEFAULT_CS (decades from 1e-4 to 1e3)
        Grid of inverse regularization strengths on the scaled features, walked in increasing
        order.
    cv : int, default=3
        Number of stratified folds (fewer if even the largest class has fewer rows).
    scoring : {"brier", "log_loss", "accuracy"}, default="brier"
        Held-out score that picks C. Brier and log loss are smooth on tiny folds; accuracy picked
        overconfident models in our tests, and Brier matched the test accuracy of well-chosen
        strengths more closely than log loss (benchmarks/logreg_vs_default.py).
    scaling : {"global", "features", "none"}, default="global"
        ``"global"``: center dense features and divide them all by one factor (total variance =
        number of features); ``"features"``: standardize each feature; ``"none"``. Sparse input is
        only multiplied by one factor (rows get mean squared norm = number of features). See
        ``littledata.heads._base.fit_scaling``. ``coef_`` / ``intercept_`` are mapped back to the
        raw features, so prediction needs no scaler.
    class_weight : None, "balanced" or dict, default=None
        Weights the loss per class (``"balanced"``: inversely proportional to class frequency).
    prior_C : float, default=1.0
        The conventional strength, on the raw features, that ``selection="prior"`` prefers.
    fallback_C : float or None, default=1.0
        C on the scaled features when cross-validation is not possible (None: the prior).
    min_cv_rows : int, default=10
        Fewer rows that can be held out than this: no cross-validation.
    searched_C : float or None, default=None
        Where cross-validation is possible, fit at this C, on the *raw* features like
        ``prior_C``, instead of searching (``cv_used_`` stays True, ``cv_scores_`` NaN); where
        it is not, fit as without it. The folds of a search on a superset of these rows reuse
        its outcome so (:meth:`reuse_params`): on the raw features, because the scaling (and so
        the meaning of a C on the scaled features) changes with the rows, most for tf-idf.
    patience : int or None, default=1
        Stop walking the grid after this many consecutive points worse than the best (None: walk
        the whole grid). The walk always goes on at least to the prior.
    selection : {"prior", "best", "1se"}, default="prior"
        ``"prior"``: the prior C unless the best C is better by more than one paired standard
        error and no less accurate on the held-out rows. ``"best"``: the best-scoring C (ties keep
        the smaller C). ``"1se"``: the smallest C whose score is within one standard error of the
        best (more regularization).
    tol : float, default=1e-4
        L-BFGS gradient tolerance (fold fits and the final fit; the fold fits also stop when the
        objective improves by less than 1e-5 relative, the final fit 1e-8).
    max_iter : int, default=300
        L-BFGS iteration cap per fit.
    random_state : int, default=0
        Seed of the fold split.
    blas_threads : "auto", int or None, default="auto"
        BLAS/OpenMP threads during ``fit`` and prediction (threadpoolctl): ``"auto"`` uses one
        thread when the input has at most 4 million cells (rows x features), where more threads
        only wait for each other (many times slower on a busy machine; see ``docs/heads.md``);
        ``None`` leaves the libraries' own setting.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels; column ``j`` of ``predict_proba`` is ``classes_[j]``.
    coef_ : ndarray of shape (n_classes, n_features)
        Weights on the raw (unscaled) features, one row per class (also for 2 classes).
    intercept_ : ndarray of shape (n_classes,)
    C_ : float
        The chosen (or fallback) C, on the scaled features.
    prior_C_ : float
        ``prior_C`` converted to the scaled features.
    cv_used_ : bool
        Whether C was chosen by cross-validation.
    cv_scores_ : ndarray of shape (len(Cs),)
        Mean held-out score per point of ``Cs_`` (Brier and log loss: lower is better; accuracy:
        higher is better); NaN where the walk stopped before reaching it or when no CV was run.
    cv_best_C_ : float
        The best-scoring C (``C_`` differs when the prior or the 1-SE rule won; NaN without CV).
    Cs_ : ndarray
        The sorted grid (with ``selection="prior"``, ``Cs`` plus ``prior_C_``).
    n_folds_ : int
        Folds used (0 without CV).
    n_iter_ : int
        L-BFGS iterations of the final fit.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from littledata.heads.logreg import CVLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))]
    >>> y = np.array(["neg"] * 20 + ["pos"] * 20)
    >>> clf = CVLogisticRegression().fit(X, y)
    >>> clf.predict([[-2, -2, -2], [2, 2, 2]]).tolist()
    ['neg', 'pos']
    >>> bool(clf.cv_used_)
    True
    """

    _state_arrays = ("coef_", "intercept_", "cv_scores_", "Cs_")
    _state_floats = ("C_", "prior_C_", "cv_best_C_")
    _state_values = ("cv_used_", "n_folds_", "n_iter_")

    def __init__(
        self,
        *,
        Cs: Sequence[float] = DEFAULT_CS,
        cv: int = 3,
        scoring: str = "brier",
        scaling: str = "global",
        class_weight: Any = None,
        prior_C: float = DEFAULT_PRIOR_C,
        fallback_C: float | None = 1.0,
        min_cv_rows: int = 10,
        searched_C: float | None = None,
        patience: int | None = 1,
        selection: str = "prior",
        tol: float = 1e-4,
        max_iter: int = 300,
        random_state: int = 0,
        blas_threads: int | str | None = "auto",
    ) -> None:
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.scaling = scaling
        self.class_weight = class_weight
        self.prior_C = prior_C
        self.fallback_C = fallback_C
        self.min_cv_rows = min_cv_rows
        self.searched_C = searched_C
        self.patience = patience
        self.selection = selection
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state
        self.blas_threads = blas_threads

    def _check_params(self) -> np.ndarray:
        Cs = np.sort(np.asarray(self.Cs, dtype=np.float64).ravel())
        if Cs.size == 0 or not np.all(Cs > 0):
            raise ConfigError(f"Cs must be a non-empty list of positive numbers; got {self.Cs!r}")
        if self.scoring not in SCORINGS:
            raise ConfigError(f"scoring must be one of {SCORINGS}; got {self.scoring!r}")
        check_scaling(self.scaling)
        if self.selection not in SELECTIONS:
            raise ConfigError(f"selection must be one of {SELECTIONS}; got {self.selection!r}")
        if int(self.cv) < 2:
            raise ConfigError(f"cv must be an integer >= 2; got {self.cv!r}")
        if not self.prior_C > 0:
            raise ConfigError(f"prior_C must be > 0; got {self.prior_C!r}")
        if self.fallback_C is not None and not self.fallback_C > 0:
            raise ConfigError(f"fallback_C must be > 0 or None; got {self.fallback_C!r}")
        if self.searched_C is not None and not self.searched_C > 0:
            raise ConfigError(f"searched_C must be > 0 or None; got {self.searched_C!r}")
        return Cs

    @limits_threads
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CVLogisticRegression:
        """Fit on ``X`` (dense or sparse, (n, d)) and labels ``y``; returns ``self``."""
        Cs = self._check_params()
        X, y_idx, classes = check_fit_input(self, X, y)
        k = len(classes)
        sw = combined_sample_weight(
            y_idx, class_weight_by_index(self.class_weight, classes), sample_weight, X
        )
        mean, scale = fit_scaling(X, self.scaling)
        Xs = apply_scaling(X, mean, scale)
        # more features than rows: solve in the rows' basis (same solution, fewer parameters)
        K = gram(Xs) if _ROW_BASIS(Xs, k) else None

        n_folds, can_validate = cv_plan(y_idx, self.cv, self.min_cv_rows)
        # prior_C on the raw features is prior_C * scale^2 on the scaled ones (x = scale * z)
        self.prior_C_ = float(self.prior_C * np.mean(scale**2))
        prior_i = -1
        if self.selection == "prior":
            Cs = np.unique(np.r_[Cs, self.prior_C_])
            prior_i = int(np.searchsorted(Cs, self.prior_C_))
        self.Cs_ = Cs
        self.cv_scores_ = np.full(len(Cs), np.nan)
        counts = np.bincount(y_idx, minlength=k)
        two_each = n_folds > 0 and self.selection == "prior" and counts.min() == counts.max() == 2
        if two_each:  # each fold would hold out one row per class: keep the prior (docs/heads.md)
            n_folds = 0
        self.n_folds_ = n_folds
        self.cv_used_ = n_folds > 0
        w0 = None
        if self.cv_used_ and self.searched_C is not None:  # a search made elsewhere, reused
            C = float(self.searched_C * np.mean(scale**2))
            self.cv_best_C_ = float("nan")
        elif self.cv_used_:
            splits = cv_splits(y_idx, n_folds, can_validate, self.random_state)
            C, w0 = self._select_C(Xs, K, y_idx, k, sw, Cs, splits, prior_i)
        elif two_each:
            C = self.prior_C_
            self.cv_best_C_ = float("nan")
            log.info(
                "logreg: two rows in every class: two folds of one row per class cannot tell C "
                "values apart; keeping the prior C=%g",
                C,
            )
        else:
            C = self.prior_C_ if self.fallback_C is None else float(self.fallback_C)
            self.cv_best_C_ = float("nan")
            log.info(
                "logreg: %d rows, %d of %d classes with 2 or more rows: too few for "
                "cross-validation; using the fallback C=%g",
                len(y_idx),
                np.count_nonzero(np.bincount(y_idx) >= 2),
                k,
                C,
            )
        full = Design(Xs, np.arange(len(y_idx)), K)
        problem = MultinomialProblem(full.Z, y_idx, k, sw)
        if w0 is not None:  # the mean fold solution, moved into this design's basis
            W0, b0 = w0
            w0 = np.concatenate([full.from_primal(W0).ravel(), b0])
        w, self.n_iter_ = problem.fit(
            C, w0, gtol=self.tol, ftol=_FINAL_FTOL, max_iter=self.max_iter
        )
        Wz, b = problem.unpack(w)
        W = full.to_primal(Wz)
        # map back to raw features: z = ((x - mean) / scale) W + b = x (W / scale) + (b - ...)
        W_raw = W / scale[:, None]
        self.coef_ = np.ascontiguousarray(W_raw.T)
        self.intercept_ = b - mean @ W_raw
        self.C_ = float(C)
        return self

    # -- reusing a search (an active learner refits after every batch) ---------------------

    def without_search(self, C: float | None = None) -> CVLogisticRegression:
        """An unfitted copy that skips the cross-validated search and fits at ``C`` (default:
        the C this fitted head chose); a plain copy when there is no C to reuse.

        Committee members and cross-fitted copies use it: each costs one fit, not a search.
        """
        from sklearn.base import clone

        copy = clone(self)
        chosen = C if C is not None else getattr(self, "C_", None)
        if chosen is not None:
            copy.set_params(fallback_C=float(chosen), min_cv_rows=2**31 - 1)
        return copy

    def reuse_params(self) -> dict[str, float]:
        """Parameters that make a copy fitted on a subset of this fitted head's rows reuse the C
        its search chose, where the copy could search (``searched_C``), and do as it would have
        done where it could not; ``{}`` when this head searched nothing (or is not fitted).

        A multi-label head's threshold folds use it: each fold costs one fit, not a search.
        """
        if not getattr(self, "cv_used_", False):
            return {}
        # C_ is on the scaled features; prior_C_ / prior_C converts raw to scaled (see fit)
        return {"searched_C": float(self.C_ * self.prior_C / self.prior_C_)}

    def fit_reusing(
        self,
        X: Any,
        y: Any,
        search: Mapping[str, float] | None,
        growth: float = 0.25,
    ) -> tuple[CVLogisticRegression, dict[str, float] | None, bool]:
        """Fit on ``X, y``, searching C again only when the rows have grown enough.

        ``search`` is what the last search left (``{"C": ..., "n_rows": ...}``, or ``None``):
        while ``len(y) < n_rows * (1 + growth)`` the head is fitted once at that C
        (:meth:`without_search`); otherwise it searches as :meth:`fit` does. Returns the fitted
        head, the search state to pass next time, and whether this fit searched.
        """
        n = len(y)
        if search is not None and n < search["n_rows"] * (1.0 + growth):
            return self.without_search(C=search["C"]).fit(X, y), dict(search), False
        fitted = self.fit(X, y)
        if fitted.cv_used_:
            return fitted, {"C": float(fitted.C_), "n_rows": n}, True
        return fitted, None if search is None else dict(search), False

    def _select_C(
        self,
        X: Any,
        K: np.ndarray | None,
        y_idx: np.ndarray,
        k: int,
        sw: np.ndarray,
        Cs: np.ndarray,
        splits: list[tuple[np.ndarray, np.ndarray]],
        prior_i: int = -1,
    ) -> tuple[float, tuple[np.ndarray, np.ndarray]]:
        folds = []
        for tr, va in splits:
            design = Design(X, tr, K)
            problem = MultinomialProblem(design.Z, y_idx[tr], k, sw[tr])
            folds.append((design, problem, design.other(va), y_idx[va], sw[va]))
        ws: list[np.ndarray | None] = [None] * len(splits)
        sign = -1.0 if self.scoring == "accuracy" else 1.0  # minimise sign * score
        # per grid point: (score, its SE, per-row scores, fold solutions, held-out accuracy);
        # scores are minimised
        history: list[tuple[float, float, np.ndarray, list[np.ndarray], float]] = []
        best_i, since_best = -1, 0
        for i, C in enumerate(Cs):
            values, hits, weights = [], [], []
            for f, (_, prob, Xv, yv, swv) in enumerate(folds):
                ws[f], _ = prob.fit(
                    C, ws[f], gtol=self.tol, ftol=_FOLD_FTOL, max_iter=self.max_iter
                )
                Z = prob.logits(ws[f], Xv)
                hit = (Z.argmax(axis=1) == yv).astype(np.float64)
                if self.scoring == "log_loss":
                    values.append(log_loss_rows(Z, yv))
                elif self.scoring == "brier":
                    values.append(brier_rows(Z, yv))
                else:
                    values.append(hit)
                hits.append(hit)
                weights.append(swv)
            v, w = np.concatenate(values), np.concatenate(weights)
            score, se = _weighted_mean_se(v, w)
            accuracy = float(np.dot(w, np.concatenate(hits)) / w.sum())
            self.cv_scores_[i] = score
            history.append((sign * score, se, sign * v, [x.copy() for x in ws], accuracy))  # type: ignore[union-attr]
            # a larger C must do strictly better (beyond float noise): ties keep the smaller C
            if best_i < 0 or sign * score < history[best_i][0] - 1e-9 * abs(history[best_i][0]):
                best_i, since_best = i, 0
            else:
                since_best += 1
                # (the walk always reaches the prior, which "prior" selection needs)
                if self.patience is not None and since_best >= self.patience and i >= prior_i:
                    break
        chosen = best_i
        if self.selection == "1se":
            limit = history[best_i][0] + history[best_i][1]
            chosen = next(i for i, h in enumerate(history) if h[0] <= limit)
        elif self.selection == "prior":
            prior, best = history[prior_i], history[best_i]
            if keep_prior(prior[2], best[2], w, prior[4], best[4]):
                chosen = prior_i
        best_ws = history[chosen][3]
        self.cv_best_C_ = float(Cs[best_i])
        # average the fold solutions on the features (their bases differ) to warm-start the refit
        W0 = np.mean(
            [
                fold[0].to_primal(fold[1].unpack(w)[0])
                for fold, w in zip(folds, best_ws, strict=True)
            ],
            axis=0,
        )
        b0 = np.mean([fold[1].unpack(w)[1] for fold, w in zip(folds, best_ws, strict=True)], axis=0)
        return float(Cs[chosen]), (W0, b0)

    @limits_threads
    def decision_function(self, X: Any) -> np.ndarray:
        """Class logits, shape (n, n_classes); for 2 classes the logit difference, shape (n,)."""
        check_is_fitted(self)
        X = check_predict_input(self, X)
        Z = np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_
        if len(self.classes_) == 2:
            return Z[:, 1] - Z[:, 0]
        return Z

    @limits_threads
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self)
        X = check_predict_input(self, X)
        return softmax(np.asarray(X @ self.coef_.T, dtype=np.float64) + self.intercept_)
