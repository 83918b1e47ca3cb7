"""``tfidf``: the "no encoder" featurizer (kind ``"sparse"``).

Its sparse vectors are learned from the training rows, so it cannot compute them up front: it
returns the texts themselves (a numpy object array), and a head made with ``input_kind="sparse"``
fits a tf-idf vectorizer on its training rows only (see littledata.heads). Its features are never
cached: there is nothing to compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from littledata.features.base import BaseFeaturizer, check_texts, register


class TextFeaturizer(BaseFeaturizer):
    """Passes texts through unchanged, checked: ``transform`` returns an object array of strings."""

    kind = "sparse"
    empty_vector_note = "an empty string"

    def __init__(self, name: str = "tfidf") -> None:
        super().__init__()
        self.name = name

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {"encoder": "raw-text"}

    @property
    def dim(self) -> int:
        """0: the vector size is decided by the head's vectorizer."""
        return 0

    def transform(
        self, texts: Sequence[str], *, out: np.ndarray | None = None, batch_size: int | None = None
    ) -> np.ndarray:
        """Return ``texts`` as a 1-d numpy object array (non-strings raise DataFormatError)."""
        checked = check_texts(texts)
        arr = np.empty(len(checked), dtype=object)
        arr[:] = checked
        return arr

    def _transform_into(
        self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[[int], Any]
    ) -> None:  # pragma: no cover - transform is overridden
        raise NotImplementedError


@register(
    "tfidf",
    description="raw texts for a head that fits its own tf-idf vectorizer (no encoder; not cached)",
    kind="sparse",
    dim=0,
)
def _tfidf() -> TextFeaturizer:
    return TextFeaturizer()
