"""Shared pieces of the labeling app's tests: a fast made-up featurizer and a small pool."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class HashFeaturizer:
    """Word hashing into 64 dense dimensions (L2-normalised): instant, deterministic."""

    name = "hash64"
    kind = "dense"
    dim = 64
    fingerprint = "hash64-test-v1"

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=self.dim, alternate_sign=False, norm="l2")
        return vec.transform(list(texts)).toarray().astype(np.float32)


def pool(n: int = 60) -> list[str]:
    """Texts of two kinds (good / bad words), distinct."""
    good = ["great", "lovely", "wonderful", "superb", "fine"]
    bad = ["awful", "terrible", "horrid", "dreadful", "poor"]
    out = []
    for i in range(n):
        words = good if i % 2 == 0 else bad
        out.append(f"{words[i % 5]} {words[(i // 2) % 5]} film number {i}")
    return out


def truth(text: str) -> str:
    return (
        "pos"
        if any(w in text for w in ("great", "lovely", "wonderful", "superb", "fine"))
        else "neg"
    )
