"""Token features for sequence labeling: one vector per word of each sentence.

A transformer featurizer (one with ``tokenizer`` and ``model``, such as ``minilm``) encodes each
sentence's words together, split into sub-word pieces (``is_split_into_words``), and each word
gets the last hidden state of its pieces (:func:`align_subwords`): its **first** piece (the
convention of BERT's CoNLL-2003 experiments, Devlin et al., 2019, section 5.3) or the **mean** of
its pieces. A word with no piece (an empty token, or one cut off past the encoder's
``max_length``) gets a zero vector. Any other dense featurizer (``glove50``) embeds each distinct
word on its own, without context, through the feature cache.

Features are returned flat, ``(total words, d)`` in sentence order; a sentence's rows follow from
the sentence lengths. They are cached under the data home's ``features/`` folder as
``tokens-<key>.npy`` (the key: the featurizer's fingerprint, the pooling and the words).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError

__all__ = ["POOLINGS", "align_subwords", "token_features"]

POOLINGS = ("first", "mean")
"""How a word's vector comes from its sub-word pieces' vectors."""


def align_subwords(
    word_ids: Sequence[int | None], hidden: np.ndarray, n_words: int, pooling: str = "first"
) -> np.ndarray:
    """One vector per word from the vectors of its pieces.

    Parameters
    ----------
    word_ids: for each piece (position of ``hidden``), the index of the word it comes from, or
        ``None`` for special tokens and padding (as a fast tokenizer's ``word_ids()`` gives).
    hidden: ``(pieces, d)`` piece vectors.
    n_words: the sentence's words; a word no piece points to gets zeros.
    pooling: ``"first"`` (the word's first piece) or ``"mean"`` (the mean of its pieces).

    >>> h = np.array([[0.0, 0], [1, 1], [3, 5], [7, 7], [0, 0]])
    >>> align_subwords([None, 0, 0, 2, None], h, 3, "mean").tolist()
    [[2.0, 3.0], [0.0, 0.0], [7.0, 7.0]]
    """
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}")
    hidden = np.asarray(hidden, dtype=np.float32)
    if len(word_ids) != len(hidden):
        raise ValueError(f"{len(word_ids)} word ids but {len(hidden)} piece vectors")
    out = np.zeros((n_words, hidden.shape[-1]), dtype=np.float32)
    counts = np.zeros(n_words, dtype=np.int64)
    for pos, word in enumerate(word_ids):
        if word is None or word >= n_words:
            continue
        if pooling == "first":
            if counts[word] == 0:
                out[word] = hidden[pos]
        else:
            out[word] += hidden[pos]
        counts[word] += 1
    if pooling == "mean":
        seen = counts > 0
        out[seen] /= counts[seen, None]
    return out


def _key(fz: Any, sentences: Sequence[Sequence[str]], pooling: str) -> str:
    digest = hashlib.sha256(f"{fz.fingerprint}\x1e{pooling}\x1e".encode())
    for words in sentences:
        digest.update(("\x1f".join(words) + "\x1e").encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:40]


def token_features(
    fz: Any,
    sentences: Sequence[Sequence[str]],
    *,
    pooling: str = "first",
    batch_size: int = 32,
    cache: bool = True,
) -> np.ndarray:
    """``(total words, d)`` float32 features of every word of ``sentences`` (module docstring)."""
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}")
    if getattr(fz, "kind", "dense") != "dense":
        raise ConfigError(
            f"featurizer {fz.name!r} gives {fz.kind} features; token features need a dense one"
        )
    path = None
    if cache:
        from littledata.config import subdir

        path = subdir("features") / f"tokens-{_key(fz, sentences, pooling)}.npy"
        if path.exists():
            return np.load(path, allow_pickle=False)
    if hasattr(fz, "tokenizer") and hasattr(fz, "model"):
        out = _contextual(fz, sentences, pooling, batch_size)
    else:
        out = _per_word(fz, sentences)
    if path is not None:
        from littledata.io import atomic_save_npy

        atomic_save_npy(path, out)
    return out


def _contextual(
    fz: Any, sentences: Sequence[Sequence[str]], pooling: str, batch_size: int
) -> np.ndarray:
    from littledata import progress

    weights = [sentence_weight(words) for words in sentences]
    n = len(sentences)
    # batches of sentences of about one length pad little (each batch pads to its longest)
    order = sorted(range(n), key=lambda i: len(sentences[i]))
    parts: list[np.ndarray | None] = [None] * n
    # the bar counts characters, as a featurize bar does, so a run's display weighs it alike
    with progress.bar(total=sum(weights), desc="token features", unit="char") as pbar:
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            encoded = _contextual_batch(fz, [sentences[i] for i in rows], pooling)
            for i, words in zip(rows, encoded, strict=True):
                parts[i] = words
            pbar.set_postfix_str(f"{min(start + batch_size, n)}/{n} sentences", refresh=False)
            pbar.update(sum(weights[i] for i in rows))
    if not parts:
        return np.zeros((0, int(fz.dim)), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)  # type: ignore[arg-type]


def sentence_weight(words: Sequence[str]) -> int:
    """What a sentence counts for on a progress bar: the characters of its words joined by
    spaces plus :data:`~littledata.features.base.CHARS_PER_TEXT`, as the same text would on a
    featurize bar."""
    from littledata.features.base import CHARS_PER_TEXT

    return len(" ".join(words)) + CHARS_PER_TEXT


def _contextual_batch(
    fz: Any, sentences: Sequence[Sequence[str]], pooling: str
) -> list[np.ndarray]:
    """The word features of each of ``sentences`` (one encoder batch): a (words, d) array each."""
    import torch

    batch = [list(words) for words in sentences]
    enc = fz.tokenizer(
        batch,
        is_split_into_words=True,
        truncation=True,
        max_length=int(fz.max_length),
        padding=True,
        return_tensors="pt",
    )
    with torch.inference_mode():
        hidden = fz.model(**enc).last_hidden_state.float().numpy()
    return [
        align_subwords(enc.word_ids(i), hidden[i], len(words), pooling)
        for i, words in enumerate(batch)
    ]


def _per_word(fz: Any, sentences: Sequence[Sequence[str]]) -> np.ndarray:
    from littledata.features import featurize

    words = [w for sent in sentences for w in sent]
    vocab = list(dict.fromkeys(w for w in words if w.strip()))
    vectors = np.asarray(featurize(vocab, fz, cache=True), dtype=np.float32) if vocab else None
    index = {w: i for i, w in enumerate(vocab)}
    dim = vectors.shape[1] if vectors is not None else int(fz.dim)
    out = np.zeros((len(words), dim), dtype=np.float32)
    for row, w in enumerate(words):
        if w in index:
            out[row] = vectors[index[w]]  # type: ignore[index]
    return out
