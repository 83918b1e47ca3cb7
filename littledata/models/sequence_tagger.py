"""``SequenceTagger``: a tag per word (named entities), from token features and a token head.

The sequence-labeling model for use: each sentence is a list of words; every word gets a vector
from the featurizer (:func:`littledata.features.tokens.token_features`: an encoder's hidden states
aligned to words, first piece or mean, or a static embedding per word) and a token head
(``token-logreg``: a softmax per word, no transition model between tags) predicts its tag, as in
the benchmark's sequence-labeling trials. It saves as the same folder as the other models
(``task: sequence-labeling``; ``model_params`` keeps the pooling) and loads with the same checks.

>>> from littledata.models import SequenceTagger
>>> sentences = [["Ada", "lives", "in", "Paris"], ["Paris", "likes", "Ada"]] * 3
>>> tags = [["B-PER", "O", "O", "B-LOC"], ["B-LOC", "O", "B-PER"]] * 3
>>> tagger = SequenceTagger("glove50").fit(sentences, tags)  # doctest: +SKIP
>>> tagger.predict([["Ada", "likes", "Paris"]])  # doctest: +SKIP
[['B-PER', 'O', 'B-LOC']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from littledata.errors import ArtifactError, DataFormatError
from littledata.models.classifier import TextClassifier, _texts_digest, plain_labels

__all__ = ["SEQUENCE_TASK", "SequenceTagger", "as_sentences"]

SEQUENCE_TASK = "sequence-labeling"


def as_sentences(X: Any) -> list[list[str]]:
    """``X`` as sentences: a sequence of word lists (each word a string).

    Raises
    ------
    DataFormatError
        A sentence that is not a list of strings, or has no words (with its position).
    """
    if isinstance(X, str):
        raise DataFormatError("sentences are a list of word lists, not one string")
    out = []
    for i, sentence in enumerate(X):
        if isinstance(sentence, str) or not isinstance(sentence, Sequence | np.ndarray):
            raise DataFormatError(
                f"sentence {i} is {sentence!r:.60}; a tagger takes each sentence as a list of "
                "words, e.g. [['Ada', 'lives', 'in', 'Paris']]"
            )
        words = list(sentence)
        bad = next((j for j, w in enumerate(words) if not isinstance(w, str)), None)
        if bad is not None:
            raise DataFormatError(f"word {bad} of sentence {i} is {words[bad]!r:.40}, not a string")
        if not words:
            raise DataFormatError(f"sentence {i} has no words")
        out.append(words)
    return out


class SequenceTagger(TextClassifier):
    """A tagger of words: a dense featurizer's token features and a token head.

    Parameters are :class:`~littledata.models.TextClassifier`'s (``head`` defaults to
    ``"token-logreg"``; ``resampling`` does not apply), and:

    pooling : {"first", "mean"}, default="first"
        How a word's vector comes from its sub-word pieces (a transformer featurizer).

    ``fit(sentences, tags)`` takes a list of word lists and, for each, a list of tag names as
    long as its words; ``predict`` returns a list of tags per sentence and ``predict_proba`` a
    (words x ``classes_``) array per sentence.
    """

    TASK = SEQUENCE_TASK
    INPUTS = "tokens"
    _SAVED_PARAMS = ("pooling",)

    def __init__(
        self,
        featurizer: Any = "minilm",
        head: str = "token-logreg",
        *,
        head_params: Mapping[str, Any] | None = None,
        resampling: str | None = None,
        random_state: int = 0,
        featurizer_options: Mapping[str, Any] | None = None,
        cache: bool = True,
        pooling: str = "first",
    ) -> None:
        super().__init__(
            featurizer,
            head,
            head_params=head_params,
            resampling=resampling,
            random_state=random_state,
            featurizer_options=featurizer_options,
            cache=cache,
        )
        self.pooling = pooling

    def _sides(self, X: Any) -> list[Any]:
        return [as_sentences(X)]

    def _features(
        self, sides: Sequence[Any], fz: Any, *, batch_size: int | None = None,
        label: str | None = None, cache: bool | None = None,
    ) -> Any:  # fmt: skip
        """Flat token features (total words x d) of the sentences ``sides[0]``."""
        from littledata.features.tokens import token_features

        return token_features(
            fz,
            sides[0],
            pooling=self.pooling,
            batch_size=batch_size or 32,
            cache=self.cache if cache is None else cache,
        )

    def features_from_sides(self, parts: Sequence[Any]) -> Any:
        return parts[0]

    def fit(self, X: Any, y: Any) -> SequenceTagger:
        """Fit on sentences ``X`` (word lists) and their tags ``y`` (a tag name per word)."""
        sentences = as_sentences(X)
        tags = _check_tags(y, sentences)
        flat = np.asarray([t for sentence in tags for t in sentence])
        fz = self._get_featurizer()
        features = self._features([sentences], fz)
        words = [" ".join(s) for s in sentences]
        data = {
            "input": "tokens",
            "rows": len(sentences),
            "words": len(flat),
            "sha256": _texts_digest([words], flat),
        }
        self._fit_head(features, flat, fz, data)
        return self

    def fit_features(self, X: Any, y: Any) -> SequenceTagger:
        raise NotImplementedError("fit a SequenceTagger on sentences and tags: fit(X, y)")

    def predict_proba(self, X: Any) -> list[np.ndarray]:  # type: ignore[override]
        """Each sentence's tag probabilities: an array (its words x ``classes_``) per sentence."""
        sentences = as_sentences(X)
        proba = self.head_.predict_proba(self.featurize(sentences))
        return split_rows(proba, [len(s) for s in sentences])

    def predict(self, X: Any) -> list[list[Any]]:  # type: ignore[override]
        """Each sentence's tags (a tag name per word)."""
        return [self.labels_from_proba(p) for p in self.predict_proba(X)]

    def tags_from_proba(self, proba: Any, lengths: Sequence[int]) -> list[list[Any]]:
        """Each sentence's tags from the flat word probabilities of sentences of ``lengths``."""
        return [self.labels_from_proba(p) for p in split_rows(np.asarray(proba), lengths)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Token accuracy of the predicted tags against ``y``."""
        pred = [t for s in self.predict(X) for t in s]
        true = [t for s in _check_tags(y, as_sentences(X)) for t in s]
        return float(np.mean(np.asarray(pred, dtype=object) == np.asarray(true, dtype=object)))

    @classmethod
    def _saved_params(cls, saved: Any, path: Any) -> dict[str, Any]:
        from littledata.features.tokens import POOLINGS

        params = super()._saved_params(saved, path)
        if params["pooling"] not in POOLINGS:
            raise ArtifactError(f"{path}: unknown pooling {params['pooling']!r} in the manifest")
        return params

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = False
        return tags


def split_rows(flat: np.ndarray, lengths: Sequence[int]) -> list[np.ndarray]:
    """The rows of ``flat`` cut into consecutive pieces of ``lengths``."""
    ends = np.cumsum(lengths)
    if len(ends) and ends[-1] != len(flat):
        raise DataFormatError(f"{len(flat)} word rows for sentences of {int(ends[-1])} words")
    return list(np.split(np.asarray(flat), ends[:-1])) if len(ends) else []


def _check_tags(y: Any, sentences: list[list[str]]) -> list[list[Any]]:
    tags = [list(t) if not isinstance(t, str) else None for t in y]
    if len(tags) != len(sentences):
        raise DataFormatError(f"got {len(sentences)} sentences but {len(tags)} tag lists")
    for i, (t, words) in enumerate(zip(tags, sentences, strict=True)):
        if t is None or len(t) != len(words):
            raise DataFormatError(
                f"sentence {i} has {len(words)} words but "
                + ("one string of tags" if t is None else f"{len(t)} tags")
                + "; give a tag per word"
            )
    return [plain_labels(t) for t in tags]  # type: ignore[arg-type]
