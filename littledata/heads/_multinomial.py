"""A small, fast multinomial logistic regression solver (L2, L-BFGS) for warm-started C paths.

Why not ``sklearn.linear_model.LogisticRegressionCV``: it gives the same solutions, but a
150-class problem with 1000 rows took 3-6 s per fit with its inner cross-validation on one core,
and the benchmark fits thousands of them. This solver evaluates the loss and gradient in float32
with two BLAS products per evaluation, keeps the fold problems alive so each C on the path starts
from the previous solution, and lets the caller stop the path early (see ``logreg.py``).

Objective (the same minimiser as scikit-learn's ``LogisticRegression(C=C)`` with
``fit_intercept=True`` and a softmax over all ``k`` classes)::

    f(W, b) = (1 / S) * sum_i s_i * CE(softmax(x_i W + b), y_i) + ||W||^2 / (2 C S)

with ``s_i`` the row weights and ``S = sum_i s_i``; the intercept ``b`` is not penalised. For two
classes C is halved, which makes the solution that of scikit-learn's binary (one weight vector)
logistic regression at the same C.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

MAXCOR = 5


class MultinomialProblem:
    """Loss and gradient of L2 multinomial logistic regression on fixed rows.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n, d), float32
    y_index : ndarray of shape (n,), int
        Class positions in ``range(n_classes)``.
    n_classes : int
    sample_weight : ndarray of shape (n,), optional
    """

    def __init__(
        self, X: Any, y_index: np.ndarray, n_classes: int, sample_weight: np.ndarray | None = None
    ) -> None:
        self.sparse = sp.issparse(X)
        if self.sparse:
            self.X = sp.csr_matrix(X, dtype=np.float32)
            self.Xt = self.X.T.tocsr()
        else:
            self.X = np.ascontiguousarray(X, dtype=np.float32)
            self.Xt = self.X.T
        self.n, self.d = self.X.shape
        self.k = int(n_classes)
        self.y = np.asarray(y_index, dtype=np.int64)
        self.rows = np.arange(self.n)
        sw = np.ones(self.n) if sample_weight is None else np.asarray(sample_weight, np.float64)
        self.S = float(sw.sum())
        self.sw = (sw / self.S).astype(np.float32)
        self.n_evals = 0

    @property
    def n_params(self) -> int:
        return self.d * self.k + self.k

    def unpack(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split a flat parameter vector into ``W`` (d, k) and ``b`` (k,)."""
        dk = self.d * self.k
        return w[:dk].reshape(self.d, self.k), w[dk:]

    def logits(self, w: np.ndarray, X: Any | None = None) -> np.ndarray:
        """``X @ W + b`` (float32) for the problem's rows or for other rows ``X``."""
        W, b = self.unpack(w)
        X = self.X if X is None else X
        Z = X @ W.astype(np.float32)
        Z = np.asarray(Z, dtype=np.float32)
        Z += b.astype(np.float32)
        return Z

    def loss_grad(self, w: np.ndarray, C: float) -> tuple[float, np.ndarray]:
        """Objective value and gradient at the flat parameters ``w`` for strength ``C``."""
        self.n_evals += 1
        Z = self.logits(w)
        Z -= Z.max(axis=1, keepdims=True)
        true = Z[self.rows, self.y]  # a copy (fancy indexing), taken before the exp
        np.exp(Z, out=Z)
        s = Z.sum(axis=1)
        # cross-entropy = log-sum-exp minus the true-class logit (the row max cancels)
        nll = float(np.dot(self.sw, np.log(s) - true))
        Z *= (self.sw / s)[:, None]
        Z[self.rows, self.y] -= self.sw
        gW = np.asarray(self.Xt @ Z, dtype=np.float64)
        W, _ = self.unpack(w)
        # two classes: a softmax over two weight vectors penalises ||w1 - w0||^2 / 4 at the
        # optimum (w0 = -w1); halving C makes that the binary logistic penalty ||w||^2 / 2
        reg = (2.0 if self.k == 2 else 1.0) / (C * self.S)
        f = nll + 0.5 * reg * float(np.vdot(W, W))
        g = np.empty_like(w)
        g[: self.d * self.k] = (gW + reg * W).ravel()
        g[self.d * self.k :] = Z.sum(axis=0)
        return f, g

    def fit(
        self,
        C: float,
        w0: np.ndarray | None = None,
        *,
        gtol: float = 1e-5,
        ftol: float = 1e-9,
        max_iter: int = 200,
    ) -> tuple[np.ndarray, int]:
        """Minimise the objective for ``C`` from ``w0`` (zeros by default) with L-BFGS-B.

        Stops when the largest gradient component is below ``gtol``, when an iteration lowers the
        objective by less than ``ftol`` (relative), or after ``max_iter`` iterations. Returns the
        flat parameters and the number of iterations.
        """
        if w0 is None:
            w0 = np.zeros(self.n_params)
        res = minimize(
            self.loss_grad,
            w0,
            args=(float(C),),
            jac=True,
            method="L-BFGS-B",
            options={
                "maxiter": int(max_iter),
                "gtol": float(gtol),
                "ftol": float(ftol),
                "maxcor": MAXCOR,
            },
        )
        return res.x, int(res.nit)


def log_loss_rows(Z: np.ndarray, y_index: np.ndarray) -> np.ndarray:
    """Per-row cross-entropy of logits ``Z`` (n, k) against class positions ``y_index``."""
    Z = np.asarray(Z, dtype=np.float64)
    m = Z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(Z - m).sum(axis=1)) + m[:, 0]
    return lse - Z[np.arange(len(Z)), y_index]


def brier_rows(Z: np.ndarray, y_index: np.ndarray) -> np.ndarray:
    """Per-row Brier score (squared distance of ``softmax(Z)`` to the one-hot label)."""
    Z = np.asarray(Z, dtype=np.float64)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(len(P)), y_index] -= 1.0
    return np.einsum("ij,ij->i", P, P)


class Design:
    """The rows of one fit, in the feature basis or, when that is cheaper, in the rows' own basis.

    With an L2 penalty the optimal weights lie in the span of the training rows. When there are
    more features ``d`` than rows ``n`` (tf-idf, or a few rows of a 384-d embedding) the problem is
    solved exactly in an ``r``-dimensional basis (``r <= n``) of that span. Any factor ``F``
    (n, r) of the Gram matrix ``K = X X^T = F F^T`` gives one: the rows become ``Z = F`` and
    weights map back as ``W = X^T P W_z`` with ``K P = F`` and ``P^T K P = I``, so the logits
    ``X W = Z W_z`` and the penalty ``||W||^2 = ||W_z||^2`` are unchanged and the solution is the
    same, but L-BFGS works on ``r * k`` instead of ``d * k`` parameters. ``F`` is a Cholesky factor
    with pivoting (LAPACK ``pstrf``, several times faster than an eigendecomposition): with the
    pivoted rows first, ``F = [L1; L2]`` with ``L1`` (r, r) lower triangular, and
    ``P = [L1^-T; 0]``. The factorization stops at rank ``r`` when the largest remaining pivot
    is below ``1e-10`` of the largest diagonal entry of ``K`` (directions with no data in them).
    Every change of basis (both rotations of one problem) gives the same L-BFGS path up to
    rounding.

    Parameters
    ----------
    X : ndarray or CSR matrix (n_all, d), float32
        All training rows.
    rows : ndarray of int
        The rows of this fit.
    K : ndarray (n_all, n_all), optional
        ``X X^T`` in float64; given when the row basis is to be used.
    """

    def __init__(self, X: Any, rows: np.ndarray, K: np.ndarray | None = None) -> None:
        self.X = X
        self.rows = rows
        self.K = K
        if K is None:
            self.Z = X[rows]
            return
        from scipy.linalg import lapack

        Kr = K[np.ix_(rows, rows)]
        tol = 1e-10 * max(float(np.max(np.diag(Kr))), 1e-300)
        c, piv, rank, info = lapack.dpstrf(Kr, lower=1, tol=tol)
        if info < 0:  # pragma: no cover - an argument error, not a data condition
            raise RuntimeError(f"LAPACK dpstrf failed (info={info})")
        rank = max(int(rank), 1)
        self.piv = piv[:rank] - 1  # the rows of the triangular block, in pivot order
        L = np.tril(c)[:, :rank]  # L[i] is the row piv[i]
        self.L1 = np.ascontiguousarray(L[:rank])
        F = np.empty_like(L)
        F[piv - 1] = L
        self.Z = F.astype(np.float32)

    def _apply_P(self, M: np.ndarray) -> np.ndarray:
        """``P @ M`` for M (r, k): the rows of ``L1^-T M`` at the pivot rows, zero elsewhere."""
        from scipy.linalg import solve_triangular

        out = np.zeros((len(self.rows), M.shape[1]))
        out[self.piv] = solve_triangular(self.L1, M, lower=True, trans="T")
        return out

    def other(self, rows: np.ndarray) -> Any:
        """Other rows of ``X`` (e.g. held-out ones) expressed in this design's basis."""
        if self.K is None:
            return self.X[rows]
        from scipy.linalg import solve_triangular

        # K[rows, self.rows] @ P = K[rows, pivot rows] @ L1^-T
        B = self.K[np.ix_(rows, self.rows[self.piv])]
        return solve_triangular(self.L1, B.T, lower=True).T.astype(np.float32)

    def to_primal(self, W: np.ndarray) -> np.ndarray:
        """Weights in this basis (r, k) -> weights on the features (d, k)."""
        if self.K is None:
            return W
        return np.asarray(self.X[self.rows].T @ self._apply_P(W), dtype=np.float64)

    def from_primal(self, W: np.ndarray) -> np.ndarray:
        """Weights on the features (d, k) -> the closest weights in this basis (r, k)."""
        if self.K is None:
            return W
        from scipy.linalg import solve_triangular

        # P^T (X W) = L1^-1 (X W)[pivot rows]
        XW = np.asarray(self.X[self.rows[self.piv]] @ W, dtype=np.float64)
        return solve_triangular(self.L1, XW, lower=True)


def gram(X: Any) -> np.ndarray:
    """``X X^T`` as a dense float64 array (X dense or sparse)."""
    if sp.issparse(X):
        X64 = X.astype(np.float64)
        return np.asarray((X64 @ X64.T).toarray())
    X64 = np.asarray(X, dtype=np.float64)
    return X64 @ X64.T
