"""``PairClassifier``: a label per pair of texts (paraphrase, entailment, duplicate questions).

The sentence-pair model for use: the two texts of a pair are encoded apart by the same featurizer
(through the feature cache) and the head sees the pair features of
:func:`littledata.features.pairs.pair_features`, ``[u, v, |u - v|, u * v]``, as in the
benchmark's sentence-pair trials. A featurizer that gives texts (tf-idf), or a head that reads raw
texts, gets the two texts joined by :data:`~littledata.features.pairs.PAIR_SEPARATOR`.

Everything else is :class:`~littledata.models.TextClassifier`'s: the head registry, the saved
folder (``task: sentence-pair`` in its manifest), the checks on loading.

>>> from littledata.models import PairClassifier
>>> pairs = [("a cat", "a cat"), ("a cat", "the stock market")] * 6
>>> model = PairClassifier("tfidf", "logreg").fit(pairs, ["same", "other"] * 6)
>>> model.predict([("a cat", "a cat")]).tolist()
['same']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import DataFormatError
from littledata.models.classifier import TextClassifier

__all__ = ["PAIR_TASK", "PairClassifier", "as_pairs"]

PAIR_TASK = "sentence-pair"


def as_pairs(X: Any) -> list[list[str]]:
    """The two sides of pairs ``X``: ``[first texts, second texts]``.

    ``X`` is a sequence of 2-tuples (or 2-lists), an array of shape (n, 2), or a DataFrame with two
    columns (the first and second texts, in that order).

    Raises
    ------
    DataFormatError
        ``X`` is not pairs of texts (with the position of the first bad one).
    """
    from littledata.features.base import check_texts

    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a DataFrame
        if len(X.columns) != 2:
            raise DataFormatError(
                f"a DataFrame of pairs has two columns (first and second texts); got "
                f"{len(X.columns)}: {list(X.columns)!r}"
            )
        first, second = X.iloc[:, 0].tolist(), X.iloc[:, 1].tolist()
    else:
        shape = getattr(X, "shape", None)
        if shape is not None and (len(shape) != 2 or shape[1] != 2):
            raise DataFormatError(
                f"pairs of texts are an array of shape (n, 2); got shape {tuple(shape)}"
            )
        if isinstance(X, str):
            raise DataFormatError("pairs of texts are a list of (text, text) pairs, not one string")
        first, second = [], []
        for i, pair in enumerate(X):
            if isinstance(pair, str) or not hasattr(pair, "__len__") or len(pair) != 2:
                raise DataFormatError(
                    f"pair {i} is {pair!r:.80}; each example of a sentence-pair model is a pair "
                    "of two texts, (text, text_pair)"
                )
            first.append(pair[0])
            second.append(pair[1])
    return [check_texts(first), check_texts(second)]


class PairClassifier(TextClassifier):
    """A classifier of pairs of texts: a featurizer (frozen encoder) and a head on pair features.

    The parameters, attributes and methods are :class:`~littledata.models.TextClassifier`'s;
    ``X`` holds pairs of texts (:func:`as_pairs`: a sequence of ``(text, text_pair)``, an
    array of shape (n, 2), or a two-column DataFrame) instead of texts.
    """

    TASK = PAIR_TASK
    INPUTS = "pairs"

    def _sides(self, X: Any) -> list[list[str]]:
        return as_pairs(X)

    def features_from_sides(self, parts: Sequence[Any]) -> Any:
        """Pair features of the two sides' features; one joined text per pair where the
        featurizer gives texts (tf-idf) or the head reads raw texts."""
        from littledata.features.pairs import PAIR_SEPARATOR, pair_features

        if len(parts) != 2:
            raise DataFormatError(f"a pair has two sides, got {len(parts)}")
        first, second = parts
        if isinstance(first, np.ndarray) and first.dtype.kind == "O":  # texts
            joined = np.empty(len(first), dtype=object)
            joined[:] = [f"{a}{PAIR_SEPARATOR}{b}" for a, b in zip(first, second, strict=True)]
            return joined
        return pair_features(np.asarray(first), np.asarray(second))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags
