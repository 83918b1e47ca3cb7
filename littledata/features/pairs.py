"""Features of a pair of texts from the features of each: ``[u, v, |u - v|, u * v]``.

The pair representation of InferSent (Conneau et al., 2017, "Supervised Learning of Universal
Sentence Representations from Natural Language Inference Data", section 3.1) and SentEval, used
by the sentence-pair task type (:mod:`littledata.tasks.sentence_pair`) and the sentence-pair model
for use (:class:`littledata.models.PairClassifier`); here so that both read it from one place.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PAIR_SEPARATOR", "pair_features"]

PAIR_SEPARATOR = "\n"
"""What joins a pair's two texts for inputs that read one text per pair (tf-idf, raw texts)."""


def pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``[u, v, |u - v|, u * v]`` along the last axis (float32): four times the width.

    ``u`` and ``v`` are the features of the first and second texts, row for row, with the same
    shape (``(n, d)``, or ``(n, layers, d)`` for layer-wise features).

    >>> pair_features(np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]])).tolist()
    [[1.0, 2.0, 3.0, -1.0, 2.0, 3.0, 3.0, -2.0]]
    """
    u = np.asarray(u, dtype=np.float32)
    v = np.asarray(v, dtype=np.float32)
    if u.shape != v.shape:
        raise ValueError(f"the two sides' features differ in shape: {u.shape} and {v.shape}")
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=-1)
