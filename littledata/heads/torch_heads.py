"""``mlp`` and ``layermix``: small torch models trained on CPU with early stopping.

torch is imported inside ``fit`` only; prediction runs in numpy from the learned weights, which are
stored as plain arrays in attributes ending in ``_``.

Training (both heads): AdamW on the weighted cross-entropy, shuffled mini-batches from a seeded
generator, weights initialised under ``torch.random.fork_rng`` with ``random_state`` (so results
repeat and the caller's global torch RNG is left alone). When rows allow (at least
``min_es_rows`` rows and two classes with 2+ rows), a stratified ``validation_fraction`` of the
rows (rows of single-row classes always train) is held out; training stops once the held-out
log loss has not improved for ``patience`` epochs and the best epoch's weights are kept. With
fewer rows every row trains for ``max_epochs`` epochs (``early_stopped_ = False``). The model is
not refitted on the held-out rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ConfigError, DataFormatError
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
    softmax,
)


def _check_training_params(est: Any) -> None:
    for name in ("lr", "batch_size", "max_epochs", "patience"):
        if not getattr(est, name) > 0:
            raise ConfigError(f"{name} must be > 0; got {getattr(est, name)!r}")
    if not 0 < est.validation_fraction < 1:
        raise ConfigError(
            f"validation_fraction must be between 0 and 1; got {est.validation_fraction!r}"
        )
    if not 0 <= est.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1); got {est.dropout!r}")


def _holdout(est: Any, y_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(train rows, validation rows or None) for early stopping."""
    n_folds = max(2, round(1 / est.validation_fraction))
    folds, can_validate = cv_plan(y_idx, n_folds, est.min_es_rows)
    if folds == 0:
        return np.arange(len(y_idx)), None
    tr, va = cv_splits(y_idx, folds, can_validate, est.random_state)[0]
    return tr, va


def _train(
    est: Any,
    module: Any,
    batch_input: Callable[[np.ndarray], Any],
    y_idx: np.ndarray,
    sw: np.ndarray,
    decay_params: list[Any],
    other_params: list[Any],
    extra_groups: list[dict[str, Any]] | None = None,
) -> None:
    """Train ``module`` in place; sets ``n_epochs_``, ``early_stopped_``, ``best_val_loss_``."""
    import torch

    tr, va = _holdout(est, y_idx)
    y_t = torch.from_numpy(y_idx)
    w_t = torch.from_numpy(sw.astype(np.float32))
    opt = torch.optim.AdamW(
        [
            {"params": decay_params, "weight_decay": est.weight_decay},
            {"params": other_params, "weight_decay": 0.0},
            *(extra_groups or []),
        ],
        lr=est.lr,
    )
    gen = torch.Generator().manual_seed(int(est.random_state))
    best, best_state, since = np.inf, None, 0
    epochs = 0
    for _ in range(int(est.max_epochs)):
        epochs += 1
        module.train()
        order = tr[torch.randperm(len(tr), generator=gen).numpy()]
        for start in range(0, len(order), int(est.batch_size)):
            idx = order[start : start + int(est.batch_size)]
            logits = module(batch_input(idx))
            loss = torch.nn.functional.cross_entropy(logits, y_t[idx], reduction="none")
            loss = (loss * w_t[idx]).sum() / w_t[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if va is None:
            continue
        module.eval()
        with torch.no_grad():
            v = torch.nn.functional.cross_entropy(
                module(batch_input(va)), y_t[va], reduction="none"
            )
            v = float((v * w_t[va]).sum() / w_t[va].sum())
        if v < best - 1e-6:
            best, since = v, 0
            best_state = {k: t.detach().clone() for k, t in module.state_dict().items()}
        else:
            since += 1
            if since >= est.patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    est.n_epochs_ = epochs
    est.early_stopped_ = va is not None
    est.best_val_loss_ = float(best) if va is not None else float("nan")


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run torch on ``n`` intra-op threads inside the block (None: leave torch's setting)."""
    import torch

    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _torch_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of dense or CSR ``X`` as a float32 torch tensor (sparse COO for CSR)."""
    import torch

    part = X[idx]
    if is_sparse(part):
        coo = part.tocoo()
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        return torch.sparse_coo_tensor(
            indices,
            torch.from_numpy(coo.data.astype(np.float32)),
            size=coo.shape,
            check_invariants=False,  # built from a valid scipy matrix
        )
    return torch.from_numpy(np.ascontiguousarray(part, dtype=np.float32))


class TorchMLP(ProbabilisticHead):
    """One-hidden-layer perceptron (ReLU, dropout) trained with AdamW and early stopping (torch).

    Features are scaled as ``scaling`` says (default: centered, one global factor), then
    ``logits = relu(x W1 + b1) W2 + b2`` with dropout on the hidden layer during training;
    probabilities are the softmax of the logits. See the module docstring for the training loop.

    Parameters
    ----------
    hidden : int, default=256
    dropout : float, default=0.5
        Dropout probability on the hidden layer.
    lr : float, default=1e-3
    weight_decay : float, default=1e-3
        AdamW decoupled weight decay on the two weight matrices (not the biases).
    batch_size : int, default=64
    max_epochs : int, default=200
    patience : int, default=5
        Epochs without a better held-out log loss before stopping.
    validation_fraction : float, default=0.1
    min_es_rows : int, default=20
        Fewer rows than this: no held-out rows, train ``max_epochs`` epochs.
    scaling : {"global", "features", "none"}, default="global"
    class_weight : None, "balanced" or dict, default=None
    random_state : int, default=0
    n_threads : int or None, default=1
        torch threads while fitting (restored afterwards). Models this small run fastest on one
        thread, and benchmark workers run side by side; None leaves torch's setting alone.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_ : list of two ndarrays, shapes (n_features, hidden) and (hidden, n_classes)
    intercepts_ : list of two ndarrays, shapes (hidden,) and (n_classes,)
    mean_, scale_ : ndarray of shape (n_features,)
        Feature scaling.
    n_epochs_ : int
    early_stopped_ : bool
        Whether rows were held out for early stopping.
    best_val_loss_ : float
        Best held-out log loss (NaN without early stopping).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from littledata.heads.torch_heads import TorchMLP
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-2, 1, (30, 4)), rng.normal(2, 1, (30, 4))]
    >>> mlp = TorchMLP(max_epochs=30).fit(X, ["a"] * 30 + ["b"] * 30)
    >>> mlp.predict([[-2, -2, -2, -2], [2, 2, 2, 2]]).tolist()
    ['a', 'b']
    """

    _state_arrays = ("coefs_", "intercepts_", "mean_", "scale_")
    _state_floats = ("best_val_loss_",)
    _state_values = ("n_epochs_", "early_stopped_")

    def __init__(
        self,
        *,
        hidden: int = 256,
        dropout: float = 0.5,
        lr: float = 1e-3,
        weight_decay: float = 1e-3,
        batch_size: int = 64,
        max_epochs: int = 200,
        patience: int = 5,
        validation_fraction: float = 0.1,
        min_es_rows: int = 20,
        scaling: str = "global",
        class_weight: Any = None,
        random_state: int = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.hidden = hidden
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.min_es_rows = min_es_rows
        self.scaling = scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.n_threads = n_threads

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> TorchMLP:
        """Train on ``X`` (dense or sparse) and ``y``; returns ``self``."""
        import torch

        _check_training_params(self)
        check_scaling(self.scaling)
        if int(self.hidden) < 1:
            raise ConfigError(f"hidden must be at least 1; got {self.hidden!r}")
        X, y_idx, classes = check_fit_input(self, X, y)
        sw = combined_sample_weight(
            y_idx, class_weight_by_index(self.class_weight, classes), sample_weight, X
        )
        self.mean_, self.scale_ = fit_scaling(X, self.scaling)
        Xs = apply_scaling(X, self.mean_, self.scale_)
        d, k, h = Xs.shape[1], len(classes), int(self.hidden)
        with torch.random.fork_rng(devices=[]), _threads(self.n_threads):
            torch.manual_seed(int(self.random_state))
            first = torch.nn.Linear(d, h)
            last = torch.nn.Linear(h, k)
            drop = torch.nn.Dropout(self.dropout)
            sparse = is_sparse(Xs)

            def forward(x: Any) -> Any:
                z = torch.sparse.mm(x, first.weight.T) + first.bias if sparse else first(x)
                return last(drop(torch.relu(z)))

            module = _Wrap(forward, [first, last, drop])
            _train(
                self,
                module,
                lambda idx: _torch_rows(Xs, idx),
                y_idx,
                sw,
                [first.weight, last.weight],
                [first.bias, last.bias],
            )
        self.coefs_ = [
            first.weight.detach().numpy().T.astype(np.float32).copy(),
            last.weight.detach().numpy().T.astype(np.float32).copy(),
        ]
        self.intercepts_ = [
            first.bias.detach().numpy().astype(np.float32).copy(),
            last.bias.detach().numpy().astype(np.float32).copy(),
        ]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the logits, shape (n, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self)
        Xs = apply_scaling(check_predict_input(self, X), self.mean_, self.scale_)
        hidden = np.maximum(np.asarray(Xs @ self.coefs_[0]) + self.intercepts_[0], 0.0)
        return softmax(hidden @ self.coefs_[1] + self.intercepts_[1])


class _Wrap:
    """A tiny stand-in for ``torch.nn.Module`` around a forward function and its layers."""

    def __init__(self, forward: Callable[[Any], Any], layers: list[Any]) -> None:
        import torch

        self._forward = forward
        self._mod = torch.nn.ModuleList(layers)

    def __call__(self, x: Any) -> Any:
        return self._forward(x)

    def train(self) -> None:
        self._mod.train()

    def eval(self) -> None:
        self._mod.eval()

    def state_dict(self) -> dict[str, Any]:
        return self._mod.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._mod.load_state_dict(state)


def _flatten_layers(X: Any) -> tuple[Any, int]:
    """(n, L, d) -> ((n, L * d), L); other input passes through with L = 1."""
    if isinstance(X, np.ndarray | list | tuple):
        arr = np.asarray(X)
        if arr.ndim == 3:
            return arr.reshape(arr.shape[0], -1), arr.shape[1]
        if arr.ndim > 3:
            raise DataFormatError(
                f"layermix needs layer-wise features of shape (n_rows, n_layers, dim) (or "
                f"(n_rows, dim) for one layer); got an array with {arr.ndim} dimensions"
            )
    return X, 1


class LayerMix(ProbabilisticHead):
    """A learned softmax mix of layer-wise features, then a linear classifier (torch).

    Input: ``(n, L, d)`` layer-wise features (one pooled vector per encoder layer; a 2-D
    ``(n, d)`` input counts as one layer). Each layer is centered and scaled by one factor of its
    own (so all layers have total variance ``d``), then mixed as in ELMo's scalar mix,
    ``h = gamma * sum_l softmax(a)_l * x_l``, with ``a`` (L mixing logits, starting equal) and
    ``gamma`` (a global scale, starting at 1) learned jointly with the linear layer
    ``logits = dropout(h) W + b``. AdamW decays ``W`` only. See the module docstring for the
    training loop.

    Parameters
    ----------
    dropout : float, default=0.1
        Dropout on the mixed vector during training.
    lr : float, default=5e-3
        Learning rate of the linear layer.
    mix_lr : float, default=5e-2
        Learning rate of the mixing logits and ``gamma`` (higher, so the mix moves away from
        uniform within the few epochs early stopping allows).
    weight_decay : float, default=1e-2
    batch_size : int, default=32
    max_epochs : int, default=200
    patience : int, default=10
    validation_fraction : float, default=0.1
    min_es_rows : int, default=20
    class_weight : None, "balanced" or dict, default=None
    random_state : int, default=0
    n_threads : int or None, default=1
        torch threads while fitting (restored afterwards). Models this small run fastest on one
        thread, and benchmark workers run side by side; None leaves torch's setting alone.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    layer_weights_ : ndarray of shape (n_layers,)
        The learned mixing weights (non-negative, sum to 1).
    gamma_ : float
        The learned global scale.
    coef_ : ndarray of shape (n_classes, dim)
    intercept_ : ndarray of shape (n_classes,)
    mean_ : ndarray of shape (n_layers, dim)
    scale_ : ndarray of shape (n_layers,)
    n_layers_ : int
    n_epochs_, early_stopped_, best_val_loss_ :
        As in ``TorchMLP``.
    n_features_in_ : int
        ``n_layers * dim`` (the input is validated flattened to (n, L * d)).

    Examples
    --------
    >>> import numpy as np
    >>> from littledata.heads.torch_heads import LayerMix
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> X = rng.normal(size=(60, 3, 4))
    >>> X[:, 2, :] += 3 * y[:, None]  # only the last layer carries the label
    >>> mix = LayerMix(max_epochs=60).fit(X, y)
    >>> int(np.argmax(mix.layer_weights_))
    2
    """

    _state_arrays = ("layer_weights_", "coef_", "intercept_", "mean_", "scale_")
    _state_floats = ("gamma_", "best_val_loss_")
    _state_values = ("n_layers_", "n_epochs_", "early_stopped_")

    def __init__(
        self,
        *,
        dropout: float = 0.1,
        lr: float = 5e-3,
        mix_lr: float = 5e-2,
        weight_decay: float = 1e-2,
        batch_size: int = 32,
        max_epochs: int = 200,
        patience: int = 10,
        validation_fraction: float = 0.1,
        min_es_rows: int = 20,
        class_weight: Any = None,
        random_state: int = 0,
        n_threads: int | None = 1,
    ) -> None:
        self.dropout = dropout
        self.lr = lr
        self.mix_lr = mix_lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.min_es_rows = min_es_rows
        self.class_weight = class_weight
        self.random_state = random_state
        self.n_threads = n_threads

    def _scaled(self, X3: np.ndarray) -> np.ndarray:
        return ((X3 - self.mean_[None]) / self.scale_[None, :, None]).astype(np.float32)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LayerMix:
        """Train on ``X`` of shape (n, L, d) (or (n, d)) and ``y``; returns ``self``."""
        import torch

        _check_training_params(self)
        X2, L = _flatten_layers(X)
        X2, y_idx, classes = check_fit_input(self, X2, y, accept_sparse=False)
        if X2.shape[1] % L:
            raise DataFormatError(f"cannot split {X2.shape[1]} features into {L} layers")
        X3 = X2.reshape(X2.shape[0], L, -1).astype(np.float64)
        sw = combined_sample_weight(
            y_idx, class_weight_by_index(self.class_weight, classes), sample_weight, X2
        )
        _, L, d = X3.shape
        self.n_layers_ = L
        self.mean_ = X3.mean(axis=0)
        total = X3.var(axis=0).sum(axis=1)
        self.scale_ = np.where(total > 0, np.sqrt(total / d), 1.0)
        Xs = torch.from_numpy(self._scaled(X3))
        k = len(classes)
        with torch.random.fork_rng(devices=[]), _threads(self.n_threads):
            torch.manual_seed(int(self.random_state))
            mix = torch.nn.Parameter(torch.zeros(L))
            gamma = torch.nn.Parameter(torch.ones(()))
            linear = torch.nn.Linear(d, k)
            drop = torch.nn.Dropout(self.dropout)
            holder = torch.nn.ParameterList([mix, gamma])

            def forward(x: Any) -> Any:
                h = gamma * torch.einsum("l,nld->nd", torch.softmax(mix, 0), x)
                return linear(drop(h))

            module = _Wrap(forward, [holder, linear, drop])
            _train(
                self,
                module,
                lambda idx: Xs[torch.from_numpy(idx)],
                y_idx,
                sw,
                [linear.weight],
                [linear.bias],
                [{"params": [mix, gamma], "lr": self.mix_lr, "weight_decay": 0.0}],
            )
        self.layer_weights_ = torch.softmax(mix.detach(), 0).numpy().astype(np.float64)
        self.gamma_ = float(gamma.detach())
        self.coef_ = linear.weight.detach().numpy().astype(np.float64).copy()
        self.intercept_ = linear.bias.detach().numpy().astype(np.float64).copy()
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the logits, shape (n, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self)
        X2, L = _flatten_layers(X)
        if L not in (1, self.n_layers_):
            raise DataFormatError(
                f"layermix was fitted on {self.n_layers_} layers; got input with {L} layers"
            )
        X2 = check_predict_input(self, X2, accept_sparse=False)
        X3 = X2.reshape(X2.shape[0], self.n_layers_, -1).astype(np.float64)
        h = self.gamma_ * np.einsum("l,nld->nd", self.layer_weights_, self._scaled(X3))
        return softmax(h @ self.coef_.T + self.intercept_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # (n, layers, dim) arrays only
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags
