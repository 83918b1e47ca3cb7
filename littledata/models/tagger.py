"""``TokenTagger``: a registered token head fitted on the word features of training sentences.

Sequence-labeling trials see their features flat (one row per word, sentences one after the
other) and their targets as a padded matrix (a row per sentence, a tag index per word, ``-1``
after the sentence's end; see :mod:`littledata.tasks.sequence_labeling`). The tagger fits the
head on the words' rows and their tags, and predicts each word's tag probabilities on its own
(a softmax per word: no transition model between tags).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ConfigError, DataFormatError

__all__ = ["TokenTagger", "flat_tags", "sentence_lengths"]


class TokenTagger(BaseEstimator):
    """A token head (``littledata.heads``, one that serves ``sequence-labeling``) over words.

    Parameters
    ----------
    head : str, default="token-logreg"
    head_params : dict or None
    random_state : int, default=0

    Attributes
    ----------
    classes_ : ndarray
        The tag indices seen in training (columns of :meth:`predict_proba`).
    estimator_ : the fitted head.

    Examples
    --------
    >>> x = np.array([[1.0, 0], [0, 1], [1, 0], [0, 1]])
    >>> y = np.array([[0, 1], [0, 1]])
    >>> TokenTagger().fit(x, y).predict(x).tolist()
    [0, 1, 0, 1]
    """

    def __init__(
        self,
        head: str = "token-logreg",
        head_params: dict[str, Any] | None = None,
        random_state: int = 0,
    ) -> None:
        self.head = head
        self.head_params = head_params
        self.random_state = random_state

    def fit(self, X: Any, Y: Any, words: Sequence[Sequence[str]] | None = None) -> TokenTagger:
        """Fit on flat word features ``X`` and padded tags ``Y`` (sentences x words, -1 pad);
        ``words``: the sentences' words, for a sentence head whose features need them."""
        from littledata.heads import HEADS

        tags = flat_tags(Y)
        if len(tags) != len(X):
            raise DataFormatError(f"{len(X)} word feature rows but {len(tags)} tags")
        self.estimator_ = HEADS.get(self.head).factory(
            random_state=self.random_state, **(self.head_params or {})
        )
        if self.takes_sentences:
            lengths = sentence_lengths(Y)
            self.estimator_.fit(np.asarray(X), tags, lengths=lengths, words=words)
        else:
            self.estimator_.fit(np.asarray(X), tags)
        self.classes_ = np.asarray(self.estimator_.classes_)
        return self

    @property
    def takes_sentences(self) -> bool:
        """Whether the head tags whole sentences (so predictions need ``lengths``)."""
        from littledata.heads import HEADS

        return HEADS.get(self.head).sentences

    def predict_proba(
        self,
        X: Any,
        lengths: Sequence[int] | None = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Each word's tag probabilities (words x ``classes_``); ``lengths``: the words per
        sentence of ``X`` (required by a sentence head, ignored by a per-word head)."""
        check_is_fitted(self, "estimator_")
        X = np.asarray(X)
        if not self.takes_sentences:
            return np.asarray(self.estimator_.predict_proba(X))
        if lengths is None:
            raise ConfigError(
                f"head {self.head!r} tags whole sentences: predictions need lengths= (the "
                "number of words of each sentence in X)"
            )
        return np.asarray(self.estimator_.predict_proba(X, lengths=lengths, words=words))

    def predict(
        self,
        X: Any,
        lengths: Sequence[int] | None = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Each word's tag index (the argmax of :meth:`predict_proba`)."""
        return self.classes_[np.argmax(self.predict_proba(X, lengths, words), axis=1)]


def sentence_lengths(Y: Any) -> np.ndarray:
    """The words per sentence of a padded tag matrix."""
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise DataFormatError(f"tags must be a padded matrix (sentences x words); got {Y.shape}")
    return (Y >= 0).sum(axis=1)


def flat_tags(Y: Any) -> np.ndarray:
    """The tags of a padded tag matrix, sentence after sentence (the ``-1`` padding dropped)."""
    Y = np.asarray(Y)
    if Y.ndim != 2:
        raise DataFormatError(f"tags must be a padded matrix (sentences x words); got {Y.shape}")
    return Y[Y >= 0].astype(np.int64)
