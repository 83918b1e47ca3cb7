"""Sentence-pair classification: one label per pair of texts (paraphrase, entailment, ...).

Each side of a pair is encoded on its own by any encoder featurizer (so the feature cache serves
both sides), and the head sees :func:`pair_features` ``[u, v, |u - v|, u * v]``, the pair
representation of InferSent (Conneau et al., 2017, "Supervised Learning of Universal Sentence
Representations from Natural Language Inference Data", section 3.1) and SentEval. Every
single-label head serves pairs unchanged; targets, sampling and metrics are single-label's.

A featurizer that gives texts (tf-idf) reads one text per pair: the two texts joined by
:data:`PAIR_SEPARATOR`. A head that fine-tunes its encoder gets each pair as ``[first, second]``
(:meth:`SentencePair.examples`): the ``cross-encoder`` head encodes the two texts together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from littledata.features.pairs import PAIR_SEPARATOR, pair_features
from littledata.tasks.registry import register_task_type
from littledata.tasks.single_label import SingleLabel

if TYPE_CHECKING:
    from littledata.datasets.base import Split

__all__ = ["PAIR_SEPARATOR", "SentencePair", "pair_features"]


@register_task_type
class SentencePair(SingleLabel):
    """A label per pair of texts (``Split.texts`` and ``Split.text_pairs``); see the module
    docstring for the features."""

    name = "sentence-pair"
    summary = "a label per pair of texts"
    head_task = "single-label"
    active_learning = True

    def texts(self, split: Split) -> list[str]:
        second = self._second(split)
        return [f"{a}{PAIR_SEPARATOR}{b}" for a, b in zip(split.texts, second, strict=True)]

    def examples(self, split: Split) -> list[list[str]]:
        return [[a, b] for a, b in zip(split.texts, self._second(split), strict=True)]

    def sides(self, split: Split) -> list[list[str]]:
        return [list(split.texts), self._second(split)]

    def combine(self, features: Sequence[np.ndarray]) -> np.ndarray:
        if len(features) != 2:
            raise ValueError(f"a pair has two sides, got {len(features)} feature matrices")
        return pair_features(features[0], features[1])

    @staticmethod
    def _second(split: Split) -> list[str]:
        if split.text_pairs is None:
            raise ValueError("a sentence-pair split needs text_pairs (the second texts)")
        return list(split.text_pairs)
