"""Featurizers (pretrained encoders and static baselines) and the on-disk feature cache.

>>> from littledata.features import featurize, get_featurizer
>>> X = featurize(["a great film", "a dull film"], "minilm")  # doctest: +SKIP
>>> X.shape  # doctest: +SKIP
(2, 384)

- :func:`get_featurizer` builds a featurizer from a registry name (``minilm`` default,
  ``minilm-int8``, ``minilm-layers``, ``mpnet``, ``glove50``, ``spacy-md``, ``tfidf``), a
  sentence-transformers hub id (``sentence-transformers/all-MiniLM-L6-v2``) or a local folder.
- :func:`featurize` computes features once and afterwards returns the cached matrix memory-mapped.
- :func:`featurize_dataset` featurizes every split of a :class:`~littledata.datasets.base.Dataset`.

See docs/features.md for which featurizer to pick and how each handles empty and long texts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.errors import unknown_name
from littledata.features import minilm as _minilm  # noqa: F401  (registers minilm)
from littledata.features import onnx_int8 as _onnx_int8  # noqa: F401  (registers minilm-int8)
from littledata.features import static as _static  # noqa: F401  (registers glove50, spacy-md)
from littledata.features import tfidf as _tfidf  # noqa: F401  (registers tfidf)
from littledata.features import transformer as _transformer  # registers minilm-layers, mpnet
from littledata.features.base import (
    ALIASES,
    FEATURIZERS,
    FORMAT_VERSION,
    TEXT_KINDS,
    BaseFeaturizer,
    Featurizer,
    FeaturizerInfo,
    register,
)

if TYPE_CHECKING:
    from littledata.datasets.base import Dataset

logger = logging.getLogger(__name__)

DEFAULT_FEATURIZER = "minilm"

_INSTANCES: dict[tuple[str, tuple[tuple[str, Any], ...]], Featurizer] = {}


def list_featurizers() -> list[str]:
    """The registered featurizer names (aliases not included), sorted."""
    return sorted(FEATURIZERS)


def install_commands(name: str) -> list[list[str]]:
    """The commands that install what the featurizer ``name`` needs, for this interpreter.

    Each is ``[python, "-m", "pip", "install", ...]`` for the running Python (so the packages land
    where littledata runs); empty when the featurizer needs nothing beyond littledata's own
    dependencies. ``littledata install NAME`` runs them. Unknown names raise
    :class:`~littledata.errors.UnknownNameError`.
    """
    import sys

    canonical = ALIASES.get(name, name)
    if canonical not in FEATURIZERS:
        raise unknown_name("featurizer", name, [*FEATURIZERS, *ALIASES])
    python = [sys.executable, "-m", "pip", "install"]
    return [[*python, *args] for args in FEATURIZERS[canonical].install]


def get_featurizer(name: str = DEFAULT_FEATURIZER, **options: Any) -> Featurizer:
    """Return a featurizer by registry name, alias, sentence-transformers model id or local folder.

    Parameters
    ----------
    name: ``minilm`` (default), ``minilm-int8`` (or ``minilm`` with ``fast=True``),
        ``minilm-layers``, ``mpnet``, ``glove50``, ``spacy-md``, ``tfidf``; a hub id such as
        ``sentence-transformers/all-MiniLM-L6-v2`` (resolves to the packaged copy when installed);
        or a local model folder.
    options: passed to the featurizer, e.g. ``max_length``, ``long_texts="truncate"``,
        ``window_overlap``, ``batch_size``, ``num_threads`` for transformer encoders.

    Featurizers are built once per process for the same name and options (a model is loaded once).

    Raises
    ------
    UnknownNameError: an unknown name (the closest names are suggested).
    MissingDependencyError: an optional package is missing (the message has the pip command).
    DownloadError: a hub id that cannot be reached and is not cached.
    """
    if not isinstance(name, str):
        raise TypeError(f"featurizer name must be a string, got {type(name).__name__}")
    key = (name, tuple(sorted(options.items())))
    try:
        hit = _INSTANCES.get(key)
    except TypeError:  # unhashable option values: build without memoizing
        hit, key = None, None  # type: ignore[assignment]
    if hit is not None:
        return hit
    canonical = ALIASES.get(name, name)
    if canonical in FEATURIZERS:
        featurizer = FEATURIZERS[canonical].factory(**options)
    elif "/" in name or Path(name).expanduser().is_dir():
        featurizer = _transformer.from_pretrained(name, **options)
    else:
        raise unknown_name("featurizer", name, [*FEATURIZERS, *ALIASES])
    if key is not None:
        _INSTANCES[key] = featurizer
    return featurizer


def _resolve(featurizer: str | Featurizer) -> Featurizer:
    return get_featurizer(featurizer) if isinstance(featurizer, str) else featurizer


def featurize(
    texts: Sequence[str],
    featurizer: str | Featurizer = DEFAULT_FEATURIZER,
    *,
    cache: bool = True,
    batch_size: int | None = None,
    label: str = "",
) -> np.ndarray:
    """Featurize ``texts``, computing once and reading the on-disk cache afterwards.

    Parameters
    ----------
    texts: the texts (a non-string entry raises DataFormatError naming its row).
    featurizer: a name for :func:`get_featurizer` or a featurizer object.
    cache: read and write the cache (key: texts fingerprint and featurizer fingerprint). With
        ``False`` the features are computed in memory and nothing is stored.
    batch_size: encoder batch size, a positive int (default: the featurizer's); not part of the
        cache key. Zero, a negative number or a non-integer raises ConfigError.
    label: a note stored with a new cache entry for ``littledata cache ls`` (e.g. ``sst2/train``).

    Returns
    -------
    float32 ``(n, dim)`` or ``(n, layers, dim)``; from the cache a read-only ``np.memmap``. For a
    ``"sparse"`` featurizer (tf-idf) or a ``"text"`` one the texts as an object array (never
    cached).
    """
    from littledata.datasets.base import texts_fingerprint
    from littledata.features import cache as feature_cache
    from littledata.features.base import check_batch_size, check_texts

    batch_size = check_batch_size(batch_size)
    fz = _resolve(featurizer)
    if fz.kind in TEXT_KINDS:
        return fz.transform(texts)
    texts = check_texts(texts)
    if not cache:
        if isinstance(fz, BaseFeaturizer):
            return fz.transform(texts, batch_size=batch_size)
        return np.asarray(fz.transform(texts), dtype=np.float32)
    texts_fp = texts_fingerprint(texts)
    shape = feature_cache.output_shape(fz, len(texts))
    hit = feature_cache.load(fz.fingerprint, texts_fp, shape)
    if hit is not None:
        logger.info("Feature cache hit: %s on %d texts", fz.name, len(texts))
        return hit
    return feature_cache.store(fz, texts, texts_fp, batch_size=batch_size, label=label)


@dataclass
class SplitFeatures:
    """Features of one split: ``texts`` for its texts and ``text_pairs`` for sentence-pair data."""

    texts: np.ndarray
    text_pairs: np.ndarray | None = None


def featurize_dataset(
    dataset: Dataset,
    featurizer: str | Featurizer = DEFAULT_FEATURIZER,
    *,
    splits: Sequence[str] | None = None,
    cache: bool = True,
    batch_size: int | None = None,
) -> dict[str, SplitFeatures]:
    """Featurize every split (or ``splits``) of ``dataset``: texts and, for pairs, text_pairs.

    Returns ``{split name: SplitFeatures}``; each matrix goes through :func:`featurize` (cached,
    labelled ``<dataset>/<split>`` or ``<dataset>/<split>/pairs``).
    """
    fz = _resolve(featurizer)
    out: dict[str, SplitFeatures] = {}
    for split_name in splits or list(dataset.splits):
        split = dataset[split_name]
        base = f"{dataset.name}/{split_name}"
        x = featurize(split.texts, fz, cache=cache, batch_size=batch_size, label=base)
        pairs = None
        if split.text_pairs is not None:
            pairs = featurize(
                split.text_pairs, fz, cache=cache, batch_size=batch_size, label=f"{base}/pairs"
            )
        out[split_name] = SplitFeatures(x, pairs)
    return out


__all__ = [
    "DEFAULT_FEATURIZER",
    "FEATURIZERS",
    "FORMAT_VERSION",
    "TEXT_KINDS",
    "BaseFeaturizer",
    "Featurizer",
    "FeaturizerInfo",
    "SplitFeatures",
    "featurize",
    "featurize_dataset",
    "get_featurizer",
    "install_commands",
    "list_featurizers",
    "register",
]
