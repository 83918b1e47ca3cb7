"""When to stop labeling: stabilizing predictions (Bloodgood & Vijay-Shanker 2009).

After each round the current model predicts a fixed *stop set* of unlabeled examples (it costs no
labels). Cohen's kappa between two successive rounds' predictions measures how much the latest
labels changed the model; when the mean kappa over the last ``window`` rounds reaches
``threshold`` the predictions have stabilized and further labels are unlikely to pay.

Reference: Michael Bloodgood and K. Vijay-Shanker (2009), "A Method for Stopping Active Learning
Based on Stabilizing Predictions and the Need for User-Adjustable Stopping", CoNLL 2009. Their
defaults are a threshold of 0.99 and a window of 3; a lower threshold stops earlier (cheaper,
less accurate), which is the user-adjustable part of the title.

Examples
--------
>>> import numpy as np
>>> sp = StabilizingPredictions(threshold=0.9, window=2)
>>> a, b = np.array([0, 1, 1, 0, 1]), np.array([0, 1, 1, 1, 1])
>>> [round(sp.update(p), 2) for p in [a, b, b, b]]
[nan, 0.55, 1.0, 1.0]
>>> sp.stopped_at  # the round (0-based) whose update first met the criterion
3
"""

from __future__ import annotations

import math

import numpy as np

from littledata.errors import ConfigError

__all__ = ["StabilizingPredictions", "agreement_kappa"]


def agreement_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa between two prediction vectors; 1.0 when they are identical (kappa is
    undefined, 0/0, when both are one constant class)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"prediction vectors differ in shape: {a.shape} vs {b.shape}")
    if np.array_equal(a, b):
        return 1.0
    labels, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    ca, cb = codes[: len(a)], codes[len(a) :]
    k = len(labels)
    p_o = float(np.mean(ca == cb))
    p_e = float(np.dot(np.bincount(ca, minlength=k), np.bincount(cb, minlength=k))) / len(a) ** 2
    if p_e >= 1.0:
        return 0.0
    return (p_o - p_e) / (1.0 - p_e)


class StabilizingPredictions:
    """Stop when successive models agree on a stop set (see the module docstring).

    Parameters
    ----------
    threshold: stop when the mean kappa of the last ``window`` rounds is at least this.
    window: how many successive agreements are averaged.

    Attributes
    ----------
    kappas: the agreement of each round with the one before (the first round has none).
    stopped_at: the 0-based round at which the criterion was first met, or ``None``.
    """

    def __init__(self, threshold: float = 0.99, window: int = 3) -> None:
        if not 0.0 < float(threshold) <= 1.0:
            raise ConfigError(f"The stopping threshold must be in (0, 1], got {threshold}.")
        if int(window) < 1:
            raise ConfigError(f"The stopping window must be at least 1 round, got {window}.")
        self.threshold = float(threshold)
        self.window = int(window)
        self.kappas: list[float] = []
        self.stopped_at: int | None = None
        self._previous: np.ndarray | None = None
        self._round = -1

    @property
    def stopped(self) -> bool:
        """Whether the criterion has been met (it stays met)."""
        return self.stopped_at is not None

    def update(self, predictions: np.ndarray) -> float:
        """Record this round's predictions on the stop set; return the kappa with the previous
        round (NaN in the first round)."""
        predictions = np.asarray(predictions).copy()
        self._round += 1
        if self._previous is None:
            self._previous = predictions
            return math.nan
        kappa = agreement_kappa(self._previous, predictions)
        self._previous = predictions
        self.kappas.append(kappa)
        if (
            self.stopped_at is None
            and len(self.kappas) >= self.window
            and float(np.mean(self.kappas[-self.window :])) >= self.threshold
        ):
            self.stopped_at = self._round
        return kappa

    def restore(
        self,
        kappas: list[float],
        *,
        rounds: int,
        stopped_at: int | None,
        previous: np.ndarray | None,
    ) -> None:
        """Take up a criterion's state recorded elsewhere (a resumed labeling session): its
        ``kappas``, how many ``rounds`` it saw, when it ``stopped_at``, and the ``previous``
        round's predictions (``None`` when they were not kept: the next update then starts a new
        comparison, its kappa NaN, the ``kappas`` so far still counting)."""
        self.kappas = [float(k) for k in kappas]
        self.stopped_at = stopped_at
        self._round = int(rounds) - 1
        self._previous = None if previous is None else np.asarray(previous).copy()
