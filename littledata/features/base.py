"""The featurizer protocol, a base class with the shared input checks, and the registry.

A featurizer turns texts into a float32 matrix. It has

- ``name``: the registry name (or the model id it was built from);
- ``kind``: what ``transform`` gives and so which heads can take it:

  - ``"dense"``: ``(n, dim)`` float32 vectors;
  - ``"layers"``: ``(n, L, dim)``, one pooled vector per hidden layer, the embedding output first;
  - ``"sparse"``: sparse vectors learned from the training rows (tf-idf), which cannot be
    computed up front: ``transform`` returns the texts as a numpy object array and every head
    given them starts with the vectorizer fitted on its own training rows (the benchmark hands
    heads term counts of the texts, tokenized once per dataset);
  - ``"text"``: the raw texts themselves, for heads that fine-tune an encoder (they declare the
    ``"text"`` input);
- ``fingerprint``: a sha256 hex over everything that changes its output (weights, pooling, maximum
  length, windowing, precision, normalization and :data:`FORMAT_VERSION`), and nothing else;
- ``dim``: the size of one vector (0 for ``"sparse"`` and ``"text"``);
- ``transform(texts)``.

Registry: :data:`FEATURIZERS` is a :class:`~littledata.registry.Registry` filled by the
:func:`register` decorator; a new featurizer is one decorated factory function in one module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

from littledata import progress
from littledata.errors import ConfigError, DataFormatError
from littledata.registry import Registry

logger = logging.getLogger(__name__)

Kind = Literal["dense", "layers", "sparse", "text"]

#: Kinds whose ``transform`` gives the texts themselves (nothing to compute, never cached).
TEXT_KINDS: frozenset[str] = frozenset({"sparse", "text"})

FORMAT_VERSION = 1
"""Version of the output format of littledata's featurizer code; part of every fingerprint.

Bump it when a change to this package changes the numbers a featurizer returns (pooling, window
combination, empty-text vector, ...), so that stale cache entries are no longer used.
"""


@runtime_checkable
class Featurizer(Protocol):
    """What every featurizer provides (see the module docstring)."""

    name: str
    kind: Kind

    @property
    def fingerprint(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def transform(self, texts: Sequence[str]) -> np.ndarray: ...


def digest(obj: Any) -> str:
    """sha256 hex of the canonical JSON of ``obj`` (sorted keys): how fingerprints are built."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def check_texts(texts: Sequence[str]) -> list[str]:
    """Return ``texts`` as a list, raising :class:`DataFormatError` on any non-string entry.

    The error names the first bad row index and its type, e.g. ``row 3 is float (nan)``, which is
    what a missing value in a pandas column looks like.
    """
    if isinstance(texts, str):
        raise DataFormatError(
            "Expected a sequence of texts, got a single string; wrap it in a list: [text]."
        )
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise DataFormatError(
                f"Text at row {i} is {type(text).__name__} ({text!r:.40}), not a string. "
                "Drop or fill missing values (e.g. df[col].fillna('')) before featurizing."
            )
    return out


def check_batch_size(value: Any, name: str = "batch_size") -> int | None:
    """Return ``value`` as a positive int (``None`` stays ``None``: the featurizer's default).

    Raises :class:`ConfigError` for zero, a negative number or a non-integer: a batch size that
    makes no batches would leave the output unwritten.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(
            f"{name} must be a positive whole number (texts per batch), got {value!r}; leave it "
            "out for the featurizer's default."
        )
    return int(value)


def empty_rows(texts: Sequence[str]) -> np.ndarray:
    """Indices of the empty and whitespace-only texts."""
    return np.array([i for i, t in enumerate(texts) if not t.strip()], dtype=np.int64)


CHARS_PER_TEXT = 8
"""Characters a text's progress weight adds to its length (its special tokens, ~2 tokens)."""


class BaseFeaturizer(ABC):
    """Shared behaviour: input checks, empty-text warning, output allocation and a progress bar.

    Subclasses set ``name``, ``kind`` and implement :meth:`_fingerprint_parts`, :attr:`dim` and
    :meth:`_transform_into` (fill a preallocated output array batch by batch).
    """

    name: str
    kind: Kind = "dense"
    empty_vector_note: ClassVar[str] = "the encoding of the empty string"
    default_batch_size: int = 32

    def __init__(self) -> None:
        self._fingerprint: str | None = None
        self.options: dict[str, Any] = {}

    # -- identity -------------------------------------------------------------------------------
    @abstractmethod
    def _fingerprint_parts(self) -> dict[str, Any]:
        """Everything that changes the output (weights hash, pooling, ...), as JSON-able values."""

    @property
    def fingerprint(self) -> str:
        """sha256 hex over :meth:`_fingerprint_parts`, the class and :data:`FORMAT_VERSION`."""
        if self._fingerprint is None:
            parts = {"format": FORMAT_VERSION, "kind": self.kind, **self._fingerprint_parts()}
            self._fingerprint = digest(parts)
        return self._fingerprint

    @property
    @abstractmethod
    def dim(self) -> int:
        """Size of one vector."""

    @property
    def num_layers(self) -> int:
        """Number of pooled layers of a ``"layers"`` featurizer (1 otherwise)."""
        return 1

    def output_shape(self, n: int) -> tuple[int, ...]:
        """Shape of ``transform`` on ``n`` texts."""
        if self.kind == "layers":
            return (n, self.num_layers, self.dim)
        if self.kind in TEXT_KINDS:
            return (n,)
        return (n, self.dim)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r}, dim={self.dim})"

    # -- work -----------------------------------------------------------------------------------
    def transform(
        self,
        texts: Sequence[str],
        *,
        out: np.ndarray | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Featurize ``texts``.

        Parameters
        ----------
        texts: the texts; a non-string entry raises :class:`DataFormatError` naming its row.
        out: optional preallocated float32 array of :meth:`output_shape` (e.g. a memory-mapped
            ``.npy``) to write the result into batch by batch; returned.
        batch_size: texts (windows) per encoder batch (``None``: the featurizer's default;
            transformer encoders then batch by a token budget). Does not change the result
            beyond float rounding, so it is not part of the fingerprint.

        Returns
        -------
        float32 array ``(n, dim)`` (``"dense"``) or ``(n, layers, dim)`` (``"layers"``).
        """
        texts = check_texts(texts)
        batch_size = check_batch_size(batch_size)
        shape = self.output_shape(len(texts))
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        elif out.shape != shape or out.dtype != np.float32:
            raise ValueError(f"out has shape {out.shape} {out.dtype}; expected {shape} float32")
        empties = empty_rows(texts)
        if len(empties):
            logger.warning(
                "%d of %d texts are empty or whitespace-only (first at row %d); %s gives them %s.",
                len(empties),
                len(texts),
                int(empties[0]),
                self.name,
                self.empty_vector_note,
            )
        if not texts:
            return out
        written = 0
        # The bar counts characters (a proxy for tokens, which is what encoding costs), so its
        # ETA holds when an encoder starts with the longest texts; it says texts done beside.
        weights = np.fromiter((len(t) + CHARS_PER_TEXT for t in texts), np.int64, len(texts))
        ends = np.cumsum(weights)
        with progress.bar(
            total=int(ends[-1]), desc=f"featurize {self.name}", unit="char", unit_scale=True
        ) as pbar:

            def advance(k: int, rows: Any = None) -> None:
                nonlocal written
                start, written = written, written + int(k)
                if rows is not None:  # these rows, out of input order (longest first)
                    done = int(weights[np.asarray(rows, dtype=np.int64)].sum())
                else:  # the next k rows in input order
                    done = int(ends[written - 1] - (ends[start - 1] if start else 0)) if k else 0
                pbar.set_postfix_str(f"{written}/{len(texts)} texts", refresh=False)
                pbar.update(done)

            self._transform_into(texts, out, batch_size or self.default_batch_size, advance)
        if written != len(texts):
            # never hand on (or cache) a matrix with rows that were not written
            raise RuntimeError(
                f"{self.name} wrote {written} of {len(texts)} rows; the output is incomplete"
            )
        return out

    @abstractmethod
    def _transform_into(
        self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[..., Any]
    ) -> None:
        """Write the features of ``texts`` into ``out``; call ``advance(k)`` after the next k
        texts in input order, or ``advance(k, rows)`` after the k texts at indices ``rows``
        (an encoder that goes longest first), so the progress bar weighs them right.

        The calls must add up to ``len(texts)``: :meth:`transform` counts them and refuses an
        output whose rows were not all written.
        """


PipSteps = tuple[tuple[str, ...], ...]
"""Install steps: the arguments of one ``pip install`` each, run in order."""


def pip_command(steps: PipSteps) -> str:
    """The shell command a user can paste for ``steps`` (``pip install A && pip install B``)."""
    return " && ".join("pip install " + " ".join(shlex.quote(a) for a in args) for args in steps)


@dataclass(frozen=True)
class FeaturizerInfo:
    """One registry entry: how to build a featurizer and what to tell a newcomer about it."""

    name: str
    factory: Callable[..., Featurizer]
    description: str
    kind: Kind = "dense"
    dim: int | None = None
    requires: str = ""
    """The pip command that installs what this entry needs ('' when it ships with littledata)."""
    aliases: tuple[str, ...] = field(default_factory=tuple)
    install: PipSteps = ()
    """The same as pip argument lists (each one ``pip install ARGS``), run by ``littledata
    install NAME``; empty when nothing beyond littledata's own dependencies is needed."""


FEATURIZERS: Registry[FeaturizerInfo] = Registry("featurizer")
ALIASES: Mapping[str, str] = FEATURIZERS.aliases
"""``{alias: name}`` of the registered featurizers (read-only, follows the registry)."""


def register(
    name: str,
    *,
    description: str,
    kind: Kind = "dense",
    dim: int | None = None,
    requires: str = "",
    aliases: Sequence[str] = (),
    install: PipSteps = (),
) -> Callable[[Callable[..., Featurizer]], Callable[..., Featurizer]]:
    """Decorator adding a featurizer factory ``(**options) -> Featurizer`` to :data:`FEATURIZERS`.

    A name or alias already registered raises :class:`~littledata.errors.DuplicateNameError`.
    ``install`` lists the pip steps that install what the entry needs; ``requires`` (what
    ``littledata featurizers`` shows) defaults to those steps as one shell command.

    Examples
    --------
    >>> @register("my-feats", description="my featurizer", dim=3)  # doctest: +SKIP
    ... def _make(**options):
    ...     return MyFeaturizer(**options)
    """

    def deco(factory: Callable[..., Featurizer]) -> Callable[..., Featurizer]:
        info = FeaturizerInfo(
            name, factory, description, kind, dim, requires or pip_command(install),
            tuple(aliases), tuple(tuple(step) for step in install),
        )  # fmt: skip
        FEATURIZERS.add(name, info, aliases=aliases)
        return factory

    return deco


def registry_view() -> Mapping[str, FeaturizerInfo]:
    """The registry, read-only."""
    return dict(FEATURIZERS)


# -- file hashes (weights fingerprints), memoized on disk ---------------------------------------

_HASH_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, memoized per process and on disk by (path, size, mtime).

    Weight files are large (90 MB for MiniLM): hashing them takes ~0.2 s, once per machine.
    """
    from littledata.config import subdir
    from littledata.io import atomic_write_json, sha256_file

    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key in _HASH_MEMO:
        return _HASH_MEMO[key]
    memo_path = subdir("models") / "file-hashes.json"
    memo: dict[str, Any] = {}
    try:
        memo = json.loads(memo_path.read_text("utf-8"))
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(p))
    if (
        isinstance(entry, dict)
        and entry.get("size") == st.st_size
        and (entry.get("mtime_ns") == st.st_mtime_ns)
    ):
        value = str(entry["sha256"])
    else:
        value = sha256_file(p)
        memo[str(p)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": value}
        try:
            atomic_write_json(memo_path, memo)
        except OSError:  # a read-only data home only loses the memo
            logger.debug("could not write %s", memo_path)
    _HASH_MEMO[key] = value
    return value


def files_digest(paths: Sequence[Path], root: Path) -> str:
    """sha256 over the relative names and sha256s of ``paths`` (sorted)."""
    return digest(sorted((str(p.relative_to(root)), file_sha256(p)) for p in paths))
