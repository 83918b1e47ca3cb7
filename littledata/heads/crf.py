"""``TokenCRF``: a linear-chain CRF over dense token features (the ``token-crf`` head).

A per-word softmax (``token-logreg``) tags each word on its own; a linear-chain CRF (Lafferty et
al., 2001) scores whole tag sequences, so it learns which tag may follow which (``I-PER`` after
``B-PER`` or ``I-PER``, never after ``O``). Training is sklearn-crfsuite's (CRFsuite, L-BFGS
with elastic-net penalties ``c1`` / ``c2``, at most ``max_iterations`` iterations,
deterministic); decoding is done here (below).

CRFsuite takes real-valued features as ``{name: value}`` per word; a 384-d encoder state per word
makes training slow and the weights many, so the features are first reduced by a PCA fitted on
the training words (``n_components``, whitened: unit variance per component), which is seeded by
``random_state``. Each word also gets a bias feature, and the first and last word of a sentence a
flag each (CRFsuite has no start or end transitions; with the flags it learns, say, that no
sentence starts with an ``I-`` tag). Optionally the word's own shape features are added
(``word_features``): ``"shape"``: its shape (``Xxxx``, ``dd``) and upper/title/digit flags, and
its neighbours'; ``"all"``: those plus the word lower-cased and its 1-3 character prefixes and
suffixes (the feature-engineered CRF baseline's features, :func:`word_features`). They need the
words of each sentence.

The estimator needs sentence boundaries: ``fit(X, y, lengths=...)`` and ``predict_proba(X,
lengths=...)`` take the words per sentence (``X`` holds the sentences' words one after the
other). :class:`~littledata.models.tagger.TokenTagger` passes them.

Decoding is constrained to what training showed: a tag pair never seen one after the other, or a
tag never seen first in a sentence, is never predicted (with BIO training tags: no ``I-X`` after
``O`` or at a sentence's start). CRFsuite cannot constrain its own decoding, so the fitted
weights are read back (``state_features_``, ``transition_features_``) and decoded here:
``predict_proba`` gives each word's marginal tag probabilities (forward-backward over the
allowed transitions), ``predict`` their argmax (posterior decoding, the convention of every
head), and :meth:`TokenCRF.viterbi` the single best allowed sequence (valid BIO by
construction).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ConfigError, DataFormatError

__all__ = ["WORD_FEATURES", "TokenCRF", "word_features", "word_shape"]

WORD_FEATURES: tuple[str, ...] = ("none", "shape", "all")
"""Which of a word's own features the CRF adds to its dense features (module docstring)."""


def word_shape(word: str) -> str:
    """``Xxxx`` for ``Peter``, ``dddd-dd-dd`` for a date: character classes, runs kept short.

    >>> word_shape("Peter"), word_shape("2024-01-31")
    ('Xxx', 'dd-dd-dd')
    """
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if len(out) < 2 or not (out[-1] == c and out[-2] == c):
            out.append(c)
    return "".join(out)


def word_features(words: Sequence[str], i: int, kind: str = "all") -> dict[str, Any]:
    """The hand-made CRF features of word ``i``: its shape and upper/title/digit flags, and its
    neighbours' (``kind="shape"``); with ``kind="all"`` also each one lower-cased and the word's
    1-3 character prefixes and suffixes (the feature-engineered CRF baseline).

    >>> sorted(word_features(["EU", "rejects"], 0, "shape"))[:4]
    ['+0:digit', '+0:shape', '+0:title', '+0:upper']
    """
    feats: dict[str, Any] = {"bias": 1.0}
    for offset in (-1, 0, 1):
        j = i + offset
        tag = f"{offset:+d}:"
        if j < 0 or j >= len(words):
            feats[tag + "edge"] = True
            continue
        w = words[j]
        if kind == "all":
            feats[tag + "lower"] = w.lower()
        feats[tag + "shape"] = word_shape(w)
        feats[tag + "title"] = w.istitle()
        feats[tag + "upper"] = w.isupper()
        feats[tag + "digit"] = w.isdigit()
        if offset == 0 and kind == "all":
            for k in (1, 2, 3):
                feats[f"pre{k}"] = w[:k]
                feats[f"suf{k}"] = w[-k:]
    return feats


class TokenCRF(ClassifierMixin, BaseEstimator):
    """A linear-chain CRF over (PCA-reduced) dense word features (module docstring).

    Parameters
    ----------
    n_components : int or None, default=128
        PCA components fitted on the training words (fewer when there are fewer words or
        dimensions); ``None``: the features as they are, standardized.
    c1, c2 : float, default=0.05, 0.05
        L1 and L2 penalties of CRFsuite's L-BFGS training.
    max_iterations : int, default=100
        The most L-BFGS iterations (training stops earlier when it converges).
    word_features : {"none", "shape", "all"}, default="none"
        The word's own hand-made features added to the dense ones (need ``words``).
    random_state : int, default=0
        Seeds the PCA (CRFsuite's L-BFGS is deterministic).

    Attributes
    ----------
    classes_ : ndarray of the tags seen in training (sorted).
    crf_ : the fitted ``sklearn_crfsuite.CRF``.
    """

    def __init__(
        self,
        n_components: int | None = 128,
        c1: float = 0.05,
        c2: float = 0.05,
        max_iterations: int = 100,
        word_features: str = "none",
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.word_features = word_features
        self.random_state = random_state

    # -- fitting ------------------------------------------------------------------------------

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        lengths: Sequence[int] | None = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> TokenCRF:
        """Fit on the words' features ``X`` (words x d), their tags ``y`` and the words per
        sentence ``lengths`` (and the sentences' ``words`` for ``word_features``)."""
        import sklearn_crfsuite
        from sklearn.decomposition import PCA
        from sklearn.preprocessing import StandardScaler

        self._check_params()
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        if len(y) != len(X):
            raise DataFormatError(f"{len(X)} word feature rows but {len(y)} tags")
        spans = self._spans(X, lengths, words)
        if not any(stop > start for start, stop in spans):
            raise DataFormatError("token-crf needs at least one training sentence with words")
        self.classes_ = np.unique(y)
        n_comp = self.n_components
        if n_comp is not None and n_comp < X.shape[1]:
            n_comp = min(int(n_comp), len(X), X.shape[1])
            self.reducer_: Any = PCA(n_comp, whiten=True, random_state=self.random_state)
        else:
            self.reducer_ = StandardScaler()
        Z = self.reducer_.fit_transform(X)
        seqs = self._sequences(Z, spans, words)
        tags = [[str(t) for t in y[start:stop]] for start, stop in spans if stop > start]
        self.crf_ = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=float(self.c1),
            c2=float(self.c2),
            max_iterations=int(self.max_iterations),
            all_possible_transitions=True,
        )
        self.crf_.fit(seqs, tags)
        index = {str(c): k for k, c in enumerate(self.classes_)}
        self.allowed_ = np.zeros((len(index), len(index)), dtype=bool)
        self.allowed_start_ = np.zeros(len(index), dtype=bool)
        for seq in tags:
            self.allowed_start_[index[seq[0]]] = True
            for a, b in itertools.pairwise(seq):
                self.allowed_[index[a], index[b]] = True
        self.transitions_ = np.zeros((len(index), len(index)))
        for (a, b), weight in self.crf_.transition_features_.items():
            self.transitions_[index[a], index[b]] = weight
        self.state_weights_: dict[str, np.ndarray] = {}
        for (attr, label), weight in self.crf_.state_features_.items():
            row = self.state_weights_.setdefault(attr, np.zeros(len(index)))
            row[index[label]] = weight
        zero = np.zeros(len(index))
        self.dense_weights_ = np.stack(
            [self.state_weights_.get(f"d{j}", zero) for j in range(Z.shape[1])]
        )
        return self

    def _check_params(self) -> None:
        if self.word_features not in WORD_FEATURES:
            raise ConfigError(
                f"word_features must be one of {', '.join(WORD_FEATURES)}; "
                f"got {self.word_features!r}"
            )
        if int(self.max_iterations) < 1:
            raise ConfigError(f"max_iterations must be at least 1; got {self.max_iterations!r}")
        if self.n_components is not None and int(self.n_components) < 1:
            raise ConfigError(f"n_components must be at least 1 or None; got {self.n_components!r}")
        if float(self.c1) < 0 or float(self.c2) < 0:
            raise ConfigError(f"c1 and c2 must be >= 0; got {self.c1!r}, {self.c2!r}")

    def _spans(
        self, X: np.ndarray, lengths: Sequence[int] | None, words: Sequence[Sequence[str]] | None
    ) -> list[tuple[int, int]]:
        """Each sentence's ``(start, stop)`` rows of ``X``, checked against the lengths/words."""
        if lengths is None:
            raise ConfigError(
                "token-crf tags whole sentences: pass lengths= (the words of each sentence, "
                "in the order of X's rows)"
            )
        sizes = np.asarray(lengths, dtype=np.int64).ravel()
        if (sizes < 0).any() or int(sizes.sum()) != len(X):
            raise DataFormatError(
                f"sentence lengths add up to {int(sizes.sum())} words but X has {len(X)} rows"
            )
        if self.word_features != "none":
            if words is None:
                raise ConfigError(
                    f"word_features={self.word_features!r} needs the words of each sentence "
                    "(words=...); the benchmark grid passes features only, so use "
                    "word_features='none' there"
                )
            if [len(w) for w in words] != sizes.tolist():
                raise DataFormatError("the sentences' words do not match the sentence lengths")
        stops = np.cumsum(sizes)
        return [(int(b - n), int(b)) for n, b in zip(sizes, stops, strict=True)]

    def _sequences(
        self,
        Z: np.ndarray,
        spans: list[tuple[int, int]],
        words: Sequence[Sequence[str]] | None,
    ) -> list[list[dict[str, Any]]]:
        """CRFsuite's input: per non-empty sentence, per word, ``{name: value}``."""
        names = [f"d{j}" for j in range(Z.shape[1])]
        out = []
        for k, (start, stop) in enumerate(spans):
            if stop == start:
                continue
            rows = [
                {"bias": 1.0, **dict(zip(names, map(float, row), strict=True))}
                for row in Z[start:stop]
            ]
            rows[0]["first"] = 1.0  # CRFsuite has no start/end transitions: these stand in
            rows[-1]["last"] = 1.0
            if self.word_features != "none" and words is not None:
                sent = list(words[k])
                for i, feats in enumerate(rows):
                    feats.update(word_features(sent, i, self.word_features))
            out.append(rows)
        return out

    # -- predicting ---------------------------------------------------------------------------

    def _prepare(
        self, X: Any, lengths: Sequence[int] | None, words: Sequence[Sequence[str]] | None
    ) -> list[tuple[int, int, np.ndarray]]:
        """Each non-empty sentence's ``(start, stop, state scores)``."""
        check_is_fitted(self, "crf_")
        X = np.asarray(X, dtype=np.float64)
        spans = self._spans(X, lengths, words)
        Z = self.reducer_.transform(X) if len(X) else np.zeros((0, len(self.dense_weights_)))
        out = []
        for k, (start, stop) in enumerate(spans):
            if stop > start:
                sent = list(words[k]) if words is not None else None
                out.append((start, stop, self._emissions(Z[start:stop], sent)))
        return out

    def predict_proba(
        self,
        X: Any,
        *,
        lengths: Sequence[int] | None = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Each word's marginal tag probabilities (words x ``classes_``; rows sum to 1)."""
        out = np.zeros((len(np.asarray(X)), len(self.classes_)), dtype=np.float64)
        for start, stop, emit in self._prepare(X, lengths, words):
            out[start:stop] = self._marginals(emit)
        return out

    def _emissions(self, Z: np.ndarray, words: list[str] | None) -> np.ndarray:
        """A sentence's state scores per word and tag from the CRF's weights: the dense part as
        one product, the words' own features by CRFsuite's attribute naming (``name`` for a
        number or a bool, ``name:value`` for a string)."""
        zero = np.zeros(len(self.classes_))
        weight = self.state_weights_.get
        out = Z @ self.dense_weights_ + weight("bias", zero)
        out[0] += weight("first", zero)
        out[-1] += weight("last", zero)
        if self.word_features != "none" and words is not None:
            for i in range(len(words)):
                for name, value in word_features(words, i, self.word_features).items():
                    if name == "bias":  # the same feature as the dense part's bias
                        continue
                    if isinstance(value, str):
                        out[i] += weight(f"{name}:{value}", zero)
                    else:
                        out[i] += float(value) * weight(name, zero)
        return out

    def _scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Log transition and start scores, ``-inf`` where training never saw them."""
        trans = np.where(self.allowed_, self.transitions_, -np.inf)
        start = np.where(self.allowed_start_, 0.0, -np.inf)
        return trans, start

    def _marginals(self, emit: np.ndarray) -> np.ndarray:
        """Forward-backward over the allowed transitions: each word's tag probabilities."""
        from scipy.special import logsumexp

        trans, start = self._scores()
        n = len(emit)
        alpha, beta = np.zeros_like(emit), np.zeros_like(emit)
        alpha[0] = start + emit[0]
        for i in range(1, n):
            alpha[i] = emit[i] + logsumexp(alpha[i - 1][:, None] + trans, axis=0)
        for i in range(n - 2, -1, -1):
            beta[i] = logsumexp(trans + (emit[i + 1] + beta[i + 1])[None, :], axis=1)
        log_p = alpha + beta
        log_p -= logsumexp(log_p, axis=1, keepdims=True)
        return np.exp(log_p)

    def _best_path(self, emit: np.ndarray) -> np.ndarray:
        """Viterbi over the allowed transitions: the best tag sequence's class positions."""
        trans, start = self._scores()
        score = start + emit[0]
        back = np.zeros(emit.shape, dtype=np.int64)
        for i in range(1, len(emit)):
            cand = score[:, None] + trans
            back[i] = np.argmax(cand, axis=0)
            score = cand[back[i], np.arange(cand.shape[1])] + emit[i]
        path = [int(np.argmax(score))]
        for i in range(len(emit) - 1, 0, -1):
            path.append(int(back[i][path[-1]]))
        return np.asarray(path[::-1], dtype=np.int64)

    def predict(
        self,
        X: Any,
        *,
        lengths: Sequence[int] | None = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Each word's most probable tag (the argmax of :meth:`predict_proba`)."""
        proba = self.predict_proba(X, lengths=lengths, words=words)
        return np.asarray(self.classes_[np.argmax(proba, axis=1)])

    def viterbi(
        self,
        X: Any,
        *,
        lengths: Sequence[int] | None = None,
        words: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """The tags of each sentence's single most probable tag sequence (Viterbi), flat."""
        paths = [self._best_path(emit) for _, _, emit in self._prepare(X, lengths, words)]
        flat = np.concatenate(paths) if paths else np.zeros(0, dtype=np.int64)
        return np.asarray(self.classes_[flat])
