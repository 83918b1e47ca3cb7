"""The data types every other part of littledata consumes.

A :class:`Dataset` is a name, a :class:`Task`, label names and named :class:`Split` objects. A split
always has ``texts`` (one string per example), so any featurizer can read any dataset:

- single-label classification: ``texts`` and ``labels`` (int64 indices into ``label_names``, as a
  :class:`~littledata.labels.LabelArray` that carries those names);
- multi-label classification: ``texts`` and ``labels`` (uint8 indicator matrix, a column per label);
- sentence-pair classification: ``texts`` (first sentences), ``text_pairs`` (second sentences) and
  ``labels`` (int64 :class:`~littledata.labels.LabelArray`);
- sequence labeling: ``tokens`` (one list of words per sentence), ``texts`` (the words joined by
  spaces) and ``labels`` (a list of int64 arrays, a tag index per token; ``label_names`` are tags).

Rows of a user's file that have no label (loaded with ``labels="optional"``) form one more split,
:data:`UNLABELED` (``"unlabeled"``): its ``labels`` are a plain int64 array of
:data:`NO_LABEL` (-1), never a :class:`~littledata.labels.LabelArray`. A file without any label
gives a dataset whose only split is that one (and whose ``label_names`` are empty). The benchmark,
the simulation and training read ``train`` / ``test`` only; featurizing and active learning's
pool read the unlabeled rows too.

A :class:`DatasetSpec` declares a registered dataset: what it is, where its upstream files are (with
pinned commits and sha256) and how to parse them.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np


class Task(enum.StrEnum):
    """The kind of prediction a dataset asks for."""

    SINGLE_LABEL = "single-label"
    MULTI_LABEL = "multi-label"
    SENTENCE_PAIR = "sentence-pair"
    SEQUENCE_LABELING = "sequence-labeling"

    @property
    def summary(self) -> str:
        """What is predicted, in a few words (used in explanations)."""
        return _TASK_SUMMARIES[self]


UNLABELED = "unlabeled"
"""The split of a user's rows that have no label (see the module docstring)."""

NO_LABEL = -1
"""The label index of every row of the :data:`UNLABELED` split."""

_TASK_SUMMARIES = {
    Task.SINGLE_LABEL: "one label per text",
    Task.MULTI_LABEL: "several labels per text",
    Task.SENTENCE_PAIR: "a label per pair of texts",
    Task.SEQUENCE_LABELING: "one label per token",
}


def texts_fingerprint(texts: Sequence[str], *more: Sequence[str] | None) -> str:
    """Return a sha256 over a sequence of texts (and optional parallel sequences).

    Two lists with the same strings in the same order always give the same fingerprint; any change
    (an edit, a reorder, one more text) gives a different one. Used as the content half of the
    feature-cache key.
    """
    digest = hashlib.sha256()
    for seq in (texts, *more):
        if seq is None:
            continue
        digest.update(b"\x1eSEQ%d" % len(seq))
        for text in seq:
            data = text.encode("utf-8", "surrogatepass")
            digest.update(b"%d:" % len(data))
            digest.update(data)
    return digest.hexdigest()


@dataclass
class Split:
    """One split of a dataset (see the module docstring for what each task stores)."""

    texts: list[str]
    labels: np.ndarray | list[np.ndarray]
    text_pairs: list[str] | None = None
    tokens: list[list[str]] | None = None
    meta: dict[str, list[object]] = field(default_factory=dict)
    """Extra per-example columns a parser chose to keep (e.g. a source or a stance target)."""

    def __post_init__(self) -> None:
        n = len(self.texts)
        if len(self.labels) != n:
            raise ValueError(f"{n} texts but {len(self.labels)} labels")
        if self.text_pairs is not None and len(self.text_pairs) != n:
            raise ValueError(f"{n} texts but {len(self.text_pairs)} text pairs")
        if self.tokens is not None and len(self.tokens) != n:
            raise ValueError(f"{n} texts but {len(self.tokens)} token sequences")

    def __len__(self) -> int:
        return len(self.texts)

    def fingerprint(self) -> str:
        """sha256 of the split's texts (and text pairs): the feature-cache content key."""
        return texts_fingerprint(self.texts, self.text_pairs)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Split:
        """Return a new split holding the rows at ``indices`` (in that order)."""
        idx = [int(i) for i in indices]
        labels = self.labels
        new_labels = [labels[i] for i in idx] if isinstance(labels, list) else labels[idx]
        return Split(
            texts=[self.texts[i] for i in idx],
            labels=new_labels,
            text_pairs=None if self.text_pairs is None else [self.text_pairs[i] for i in idx],
            tokens=None if self.tokens is None else [self.tokens[i] for i in idx],
            meta={k: [v[i] for i in idx] for k, v in self.meta.items()},
        )


@dataclass
class Dataset:
    """A loaded dataset: task, label names and named splits."""

    name: str
    task: Task
    label_names: list[str]
    splits: dict[str, Split]
    train_split: str = "train"
    test_split: str = "test"
    description: str = ""
    license: str = ""

    def __post_init__(self) -> None:
        # single-label and sentence-pair labels carry the label names they index (see
        # littledata.labels): labels of two files loaded apart can then never be compared as
        # integers
        from littledata.labels import LabelArray

        for name, split in self.splits.items():
            if name == UNLABELED:  # rows without a label: -1 each, no vocabulary to carry
                continue
            labels = split.labels
            if (
                isinstance(labels, np.ndarray)
                and labels.ndim == 1
                and labels.dtype.kind in "iu"
                and getattr(labels, "label_names", None) != tuple(self.label_names)
            ):
                split.labels = LabelArray(labels, self.label_names)

    def __getitem__(self, split: str) -> Split:
        try:
            return self.splits[split]
        except KeyError:
            from littledata.errors import unknown_name

            raise unknown_name(f"split of {self.name}", split, self.splits) from None

    @property
    def train(self) -> Split:
        """The split benchmarks draw training rows from."""
        return self._role_split("train", self.train_split)

    @property
    def test(self) -> Split:
        """The split benchmarks evaluate on."""
        return self._role_split("test", self.test_split)

    @property
    def unlabeled(self) -> Split | None:
        """The rows without a label (a user's file loaded with ``labels="optional"``), if any."""
        return self.splits.get(UNLABELED)

    @property
    def labeled_rows(self) -> int:
        """Rows with a label, over every split."""
        return sum(len(s) for k, s in self.splits.items() if k != UNLABELED)

    def fingerprint(self) -> str:
        """sha256 over the dataset's content: label names and, per split, its name, texts, text
        pairs and each row's label name. Two loads of the same data give the same value, however
        the file was written; any changed text, label or split assignment changes it."""
        digest = hashlib.sha256()
        digest.update(texts_fingerprint(list(self.label_names)).encode())
        for name in sorted(self.splits):
            split = self.splits[name]
            digest.update(f"\x1e{name}:{split.fingerprint()}:".encode())
            labels = split.labels
            if isinstance(labels, list):
                for tags in labels:
                    digest.update(np.ascontiguousarray(tags, dtype=np.int64).tobytes() + b";")
            else:
                digest.update(np.ascontiguousarray(labels).tobytes())
        return digest.hexdigest()

    def _role_split(self, role: str, split: str) -> Split:
        if split not in self.splits:
            from littledata.errors import DataFormatError

            if set(self.splits) == {UNLABELED}:
                raise DataFormatError(
                    f"{self.name} has no labels: every one of its {len(self.splits[UNLABELED])} "
                    f"rows lacks one, so there is nothing to {role} on. Name the label column "
                    "with label_column=... (CLI: --label-column), or label some rows first "
                    "(active learning)."
                )
            raise DataFormatError(
                f"Dataset {self.name!r} has no {role} split ({split!r}); it has: "
                f"{', '.join(self.splits)}. For your own file, add a split column with "
                f"train/test values (split_column=...), or split the data before loading."
            )
        return self.splits[split]

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        return f"Dataset({self.name!r}, task={self.task.value}, labels={self.num_labels}, {sizes})"


@dataclass(frozen=True)
class RemoteFile:
    """One upstream file, pinned to a commit and a checksum.

    ``filename`` is the file's name inside the dataset folder of the data home or of a mirror
    (upstream ``a/b/c.txt`` flattened to ``a_b_c.txt``).
    """

    repo: str
    path: str
    commit: str
    sha256: str
    size: int
    filename: str

    @property
    def url(self) -> str:
        """The upstream address of the file's bytes (path characters percent-encoded)."""
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{quote(self.path)}"

    @property
    def is_archive(self) -> bool:
        """Whether the file is a ``git archive`` of an upstream folder rather than an upstream file.

        Upstream serves no single file with such bytes (GitHub's archives are not byte-stable), so
        only a mirror can provide it; the mirror's ``SOURCE.tsv`` marks these paths
        ``"<folder>/ (git archive of subtree: ...)"``.
        """
        return "(git archive" in self.path


Parser = Callable[[Mapping[str, Path]], dict[str, Split]]
"""Turns ``{filename: local path}`` of a spec's files into ``{split name: Split}``."""


@dataclass(frozen=True)
class DatasetSpec:
    """Declarative description of a registered dataset.

    Attributes
    ----------
    name: registry name, e.g. ``"sst2"`` or ``"goemotions-ekman"``.
    folder: the folder holding its files in the data home and in a mirror, e.g. ``"goemotions"``.
    task: what is predicted.
    description: one line.
    license: the licence as stated upstream.
    files: every upstream file the parser reads.
    label_names: label (or tag) names, in label-index order.
    splits: split names with their expected sizes, in a stable order.
    parser: reads the local files into splits.
    train_split / test_split: which splits benchmarks train on and evaluate on.
    split_note: how the splits were made when upstream has none (empty when they are official).
    """

    name: str
    folder: str
    task: Task
    description: str
    license: str
    files: tuple[RemoteFile, ...]
    label_names: tuple[str, ...]
    splits: Mapping[str, int]
    parser: Parser
    train_split: str = "train"
    test_split: str = "test"
    split_note: str = ""
