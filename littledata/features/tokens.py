"""Token features for sequence labeling: one vector per word of each sentence.

A transformer featurizer (one with ``tokenizer`` and ``model``, such as ``minilm``) encodes each
sentence's words together, split into sub-word pieces (``is_split_into_words``), and each word
gets the last hidden state of its pieces (:func:`align_subwords`): its **first** piece (the
convention of BERT's CoNLL-2003 experiments, Devlin et al., 2019, section 5.3) or the **mean** of
its pieces. ``layers`` mixes more than the last layer (:data:`LAYER_MIXES`): ``"last4-mean"``
averages the last four layers' hidden states, ``"last4-concat"`` puts them side by side (four
times the width; BERT's best feature-based CoNLL-2003 result concatenated the last four layers:
dev F1 96.1 against 94.9 for the last layer alone, Devlin et al., 2019, table 7); any
``last<k>-mean`` or ``last<k>-concat`` with ``k`` from 2 to the encoder's layers works. A word
with no piece (an empty token, or one cut off past the encoder's ``max_length``) gets a zero
vector. Any other dense featurizer (``glove50``) embeds each distinct word on its own, without
context, through the feature cache.

Features are returned flat, ``(total words, d)`` in sentence order; a sentence's rows follow from
the sentence lengths. They are cached under the data home's ``features/`` folder as
``tokens-<key>.npy`` (the key: the featurizer's fingerprint, the pooling, the layer mix unless
it is the last layer alone, and the words).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError

__all__ = ["LAYER_MIXES", "POOLINGS", "align_subwords", "parse_layers", "token_features"]

POOLINGS = ("first", "mean")
"""How a word's vector comes from its sub-word pieces' vectors."""

LAYER_MIXES = ("last", "last<k>-mean", "last<k>-concat")
"""Which hidden layers a word's vector comes from: the last, or the last ``k`` averaged or
concatenated (``k`` >= 2)."""


def parse_layers(layers: str) -> tuple[int, str]:
    """``(k, how)`` of a layer mix: ``"last"`` is ``(1, "mean")``.

    >>> parse_layers("last4-mean"), parse_layers("last2-concat"), parse_layers("last")
    ((4, 'mean'), (2, 'concat'), (1, 'mean'))
    """
    if layers == "last":
        return 1, "mean"
    match = re.fullmatch(r"last(\d+)-(mean|concat)", str(layers))
    if match is None or int(match.group(1)) < 2:
        raise ConfigError(
            f"layers must be 'last', 'last<k>-mean' or 'last<k>-concat' with k >= 2 (e.g. "
            f"'last4-mean'); got {layers!r}"
        )
    return int(match.group(1)), match.group(2)


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


def _key(fz: Any, sentences: Sequence[Sequence[str]], pooling: str, layers: str) -> str:
    mix = "" if layers == "last" else f"{layers}\x1e"  # the last layer keeps its older keys
    digest = hashlib.sha256(f"{fz.fingerprint}\x1e{pooling}\x1e{mix}".encode())
    for words in sentences:
        digest.update(("\x1f".join(words) + "\x1e").encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:40]


def token_features(
    fz: Any,
    sentences: Sequence[Sequence[str]],
    *,
    pooling: str = "first",
    layers: str = "last",
    batch_size: int = 32,
    cache: bool = True,
) -> np.ndarray:
    """``(total words, d)`` float32 features of every word of ``sentences`` (module docstring;
    ``d`` is ``k`` times the encoder's width for ``layers="last<k>-concat"``)."""
    if pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}")
    parse_layers(layers)
    if getattr(fz, "kind", "dense") != "dense":
        raise ConfigError(
            f"featurizer {fz.name!r} gives {fz.kind} features; token features need a dense one"
        )
    contextual = hasattr(fz, "tokenizer") and hasattr(fz, "model")
    if layers != "last" and not contextual:
        raise ConfigError(
            f"layers={layers!r} needs a transformer featurizer (one with hidden layers, such as "
            f"minilm); {fz.name!r} embeds each word on its own"
        )
    path = None
    if cache:
        from littledata.config import subdir

        path = subdir("features") / f"tokens-{_key(fz, sentences, pooling, layers)}.npy"
        if path.exists():
            return np.load(path, allow_pickle=False)
    if contextual:
        out = _contextual(fz, sentences, pooling, layers, batch_size)
    else:
        out = _per_word(fz, sentences)
    if path is not None:
        from littledata.io import atomic_save_npy

        atomic_save_npy(path, out)
    return out


def _contextual(
    fz: Any, sentences: Sequence[Sequence[str]], pooling: str, layers: str, batch_size: int
) -> np.ndarray:
    from littledata import progress

    k, how = parse_layers(layers)
    n_layers = int(getattr(getattr(fz.model, "config", None), "num_hidden_layers", 1))
    if k > 1 and k > n_layers:
        raise ConfigError(f"layers={layers!r}: {fz.name!r} has only {n_layers} hidden layers")
    weights = [sentence_weight(words) for words in sentences]
    n = len(sentences)
    # batches of sentences of about one length pad little (each batch pads to its longest)
    order = sorted(range(n), key=lambda i: len(sentences[i]))
    parts: list[np.ndarray | None] = [None] * n
    # the bar counts characters, as a featurize bar does, so a run's display weighs it alike
    with progress.bar(total=sum(weights), desc="token features", unit="char") as pbar:
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            encoded = _contextual_batch(fz, [sentences[i] for i in rows], pooling, k, how)
            for i, words in zip(rows, encoded, strict=True):
                parts[i] = words
            pbar.set_postfix_str(f"{min(start + batch_size, n)}/{n} sentences", refresh=False)
            pbar.update(sum(weights[i] for i in rows))
    if not parts:
        width = int(fz.dim) * (k if how == "concat" else 1)
        return np.zeros((0, width), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)  # type: ignore[arg-type]


def sentence_weight(words: Sequence[str]) -> int:
    """What a sentence counts for on a progress bar: the characters of its words joined by
    spaces plus :data:`~littledata.features.base.CHARS_PER_TEXT`, as the same text would on a
    featurize bar."""
    from littledata.features.base import CHARS_PER_TEXT

    return len(" ".join(words)) + CHARS_PER_TEXT


def _contextual_batch(
    fz: Any, sentences: Sequence[Sequence[str]], pooling: str, k: int = 1, how: str = "mean"
) -> list[np.ndarray]:
    """The word features of each of ``sentences`` (one encoder batch): a (words, d) array each;
    the last ``k`` hidden layers averaged (``how="mean"``) or concatenated when ``k > 1``."""
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
        if k == 1:
            hidden = fz.model(**enc).last_hidden_state.float().numpy()
        else:
            states = fz.model(**enc, output_hidden_states=True).hidden_states[-k:]
            mixed = torch.stack(states).mean(0) if how == "mean" else torch.cat(states, -1)
            hidden = mixed.float().numpy()
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
