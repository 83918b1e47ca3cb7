"""Several of a user's files loaded as one dataset with one label vocabulary.

The common layout is a train file and a test file. Loaded one by one, each file gets its own label
indices (sorted names): train ``cat, dog, emu`` is ``0, 1, 2``, a test file without ``cat`` is
``dog, emu`` = ``0, 1``. Loaded together, every file's labels index one vocabulary: the union of
their names, in the order a single file would get (or ``label_names``).

>>> ds = load_user_files(train="train.csv", test="test.csv")  # doctest: +SKIP
>>> ds = load_user_files(["part1.csv", "part2.jsonl"])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from littledata.datasets.base import UNLABELED, Dataset, Split, Task
from littledata.errors import ConfigError

PathLike = str | os.PathLike[str]
Files = PathLike | Sequence[PathLike]


def _paths(files: Files | None) -> list[Path]:
    if files is None:
        return []
    if isinstance(files, (str, os.PathLike)):
        return [Path(files).expanduser()]
    return [Path(f).expanduser() for f in files]


class _NoSingleSplitWarning(logging.Filter):
    """Drops the 'every row is in one split, there is no test split' warning of a file whose
    rows all go to the split it was given for."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "(there is no test split)" not in record.getMessage()


@contextlib.contextmanager
def quiet_single_split() -> Iterator[None]:
    """Inside: loading a file whose rows all go to one split does not warn that it has no test
    split (for callers that give it one: files loaded as train=, the benchmark)."""
    logger = logging.getLogger("littledata.datasets.userfiles")
    quiet = _NoSingleSplitWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _vocabulary(parts: list[tuple[str | None, Path, Dataset]], task: Task) -> list[str]:
    """The union of the files' label names, ordered as one file holding them all would be."""
    from littledata.datasets.userfiles import _label_order

    names = sorted({n for _, _, ds in parts for n in ds.label_names})
    if task == Task.SEQUENCE_LABELING:
        return (["O"] if "O" in names else []) + [n for n in names if n != "O"]
    return _label_order(parts[0][1], names, None, {}, "row", "")


def _reencode(split: Split, old: Sequence[str], new: Sequence[str], file: str) -> Split:
    """``split`` with labels re-indexed from the names ``old`` to the names ``new``."""
    position = {name: i for i, name in enumerate(new)}
    remap = np.array([position[name] for name in old], dtype=np.int64)
    labels: Any
    if isinstance(split.labels, list):  # sequence labeling: one tag array per sentence
        labels = [remap[np.asarray(tags, dtype=np.int64)] for tags in split.labels]
    else:
        labels = remap[np.asarray(split.labels, dtype=np.int64)]
    return Split(
        texts=list(split.texts),
        labels=labels,
        text_pairs=split.text_pairs,
        tokens=split.tokens,
        meta={**split.meta, "file": [file] * len(split)},
    )


def _unlabeled(split: Split, file: str) -> Split:
    return Split(
        texts=list(split.texts),
        labels=np.asarray(split.labels),
        text_pairs=split.text_pairs,
        tokens=split.tokens,
        meta={**split.meta, "file": [file] * len(split)},
    )


def _concat(parts: list[Split]) -> Split:
    if len(parts) == 1:
        return parts[0]
    keys = list(dict.fromkeys(k for p in parts for k in p.meta))
    if isinstance(parts[0].labels, list):
        labels: Any = [tags for p in parts for tags in p.labels]
    else:
        labels = np.concatenate([np.asarray(p.labels) for p in parts])
    return Split(
        texts=[t for p in parts for t in p.texts],
        labels=labels,
        text_pairs=None
        if parts[0].text_pairs is None
        else [t for p in parts for t in p.text_pairs or []],
        tokens=None if parts[0].tokens is None else [t for p in parts for t in p.tokens or []],
        meta={k: [v for p in parts for v in p.meta.get(k, [None] * len(p))] for k in keys},
    )


def load_user_files(
    files: Files | None = None,
    *,
    train: Files | None = None,
    test: Files | None = None,
    label_names: Sequence[str] | None = None,
    name: str | None = None,
    **options: Any,
) -> Dataset:
    """Load several files as one :class:`Dataset` whose labels share one vocabulary.

    Parameters
    ----------
    files: files whose rows go to the splits they name (a split column), else to ``train``,
        as with one file; several files' rows of one split are concatenated in the given order.
    train, test: a file or a list of files whose every row goes to the train (test) split. A
        file given here may not be divided into several splits by a split column.
    label_names: the labels in index order; every file's labels must be among them. Default: the
        union of the files' labels, ordered as one file holding them all would be (sorted;
        numerically when all are whole numbers; CoNLL: ``O`` first).
    name: the dataset's name (default: the files' names without extensions, joined by ``+``).
    **options: the column, format, encoding, separator and ``drop_invalid`` options of
        :func:`~littledata.datasets.userfiles.load_user_file`, the same for every file.

    Returns
    -------
    Dataset
        Each split's ``meta["file"]`` names the file of each row (``meta["row"]`` its row there).

    Raises
    ------
    ConfigError: no file, files of different tasks (with and without text pairs too), or a file
        given as ``train=``/``test=`` that its split column divides into several splits.
    DataFormatError: a file cannot be read (see ``load_user_file``).
    """
    from littledata.datasets.userfiles import EVAL_SPLITS, load_user_file

    parts: list[tuple[str | None, Path, Dataset]] = []
    for role, paths in ((None, files), ("train", train), ("test", test)):
        for path in _paths(paths):
            # a file whose rows all go to one split is no news when test files are given
            quiet = role is not None or test is not None
            with quiet_single_split() if quiet else contextlib.nullcontext():
                ds = load_user_file(path, label_names=label_names, **options)
            parts.append((role, path, ds))
    if not parts:
        raise ConfigError("Give at least one file: files=[...], train=... or test=....")
    tasks = {ds.task for _, _, ds in parts}
    if len(tasks) > 1:
        kinds = ", ".join(f"{p.name}: {ds.task.value}" for _, p, ds in parts)
        raise ConfigError(
            f"The files hold different kinds of data ({kinds}); load files of one task together "
            "(and give text_pair_column for all of them or for none)."
        )
    task = tasks.pop()
    if task == Task.MULTI_LABEL and len(parts) > 1:
        raise ConfigError(
            "Several multi-label files cannot be loaded together yet: put their rows in one file "
            "with a split column (train/test)."
        )
    vocab = [str(n) for n in label_names] if label_names is not None else _vocabulary(parts, task)

    grouped: dict[str, list[Split]] = {"train": [], "test": []}
    for role, path, ds in parts:
        own = [(k, v) for k, v in ds.splits.items() if k != UNLABELED]
        if UNLABELED in ds.splits:  # rows without a label stay unlabeled, whatever the role
            grouped.setdefault(UNLABELED, []).append(_unlabeled(ds.splits[UNLABELED], path.name))
        if not own:
            continue
        if role is not None:
            if len(own) > 1:
                raise ConfigError(
                    f"{path.name} was given as {role}=, but its split column divides it into "
                    f"{', '.join(ds.splits)}. A file given as train= or test= holds that split's "
                    "rows only: pass it among the plain files to use its split column, or remove "
                    "the column."
                )
            own = [(role, own[0][1])]
        for split_name, split in own:
            grouped.setdefault(split_name, []).append(
                _reencode(split, ds.label_names, vocab, path.name)
            )
    splits = {k: _concat(v) for k, v in grouped.items() if v}
    if UNLABELED in splits:  # after the labeled splits
        splits[UNLABELED] = splits.pop(UNLABELED)
    test_split = next((s for s in ("test", *EVAL_SPLITS) if s in splits), "test")
    stems = list(dict.fromkeys(path.stem for _, path, _ in parts))
    return Dataset(
        name=name or "+".join(stems),
        task=task,
        label_names=vocab,
        splits=splits,
        train_split="train",
        test_split=test_split,
        description="Loaded from " + ", ".join(str(path) for _, path, _ in parts),
    )


__all__ = ["load_user_files", "quiet_single_split"]
