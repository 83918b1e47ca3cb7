"""Building a :class:`~littledata.datasets.base.Dataset` from a spec: :func:`build_dataset`,
which runs the spec's parser and checks the splits and labels it produced."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from littledata.datasets.base import Dataset, DatasetSpec, Split, Task
from littledata.errors import DataFormatError


def _check_labels(spec: DatasetSpec, split_name: str, split: Split) -> None:
    n = len(spec.label_names)
    where = f"{spec.name} split {split_name!r}"
    if spec.task is Task.MULTI_LABEL:
        labels = split.labels
        if not isinstance(labels, np.ndarray) or labels.ndim != 2 or labels.shape[1] != n:
            raise DataFormatError(f"{where}: expected an indicator matrix with {n} columns.")
        return
    if spec.task is Task.SEQUENCE_LABELING:
        if split.tokens is None:
            raise DataFormatError(f"{where}: a sequence-labeling split needs tokens.")
        arrays = list(split.labels)
        if any(len(a) != len(t) for a, t in zip(arrays, split.tokens, strict=True)):
            raise DataFormatError(f"{where}: a sentence has a different number of tags and tokens.")
        flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    else:
        flat = np.asarray(split.labels)
        if flat.ndim != 1:
            raise DataFormatError(f"{where}: expected one label per example.")
        if spec.task is Task.SENTENCE_PAIR and split.text_pairs is None:
            raise DataFormatError(f"{where}: a sentence-pair split needs text pairs.")
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        raise DataFormatError(f"{where}: label indices outside 0-{n - 1}.")


def build_dataset(spec: DatasetSpec, folder: Path) -> Dataset:
    """Parse the files of ``spec`` found in ``folder`` into a :class:`Dataset`.

    Parameters
    ----------
    spec: a registered dataset spec.
    folder: the folder holding the spec's files under their ``filename`` (a dataset folder of the
        data home or of a mirror). Checksums are not verified here; that is the loader's job.

    Returns
    -------
    The dataset, with its splits in the spec's order.

    Raises
    ------
    DataFormatError: a file is missing, a file does not have the expected format, or the parsed
        split sizes differ from the spec's.

    Examples
    --------
    >>> from littledata.datasets.registry import get_spec
    >>> ds = build_dataset(get_spec("trec"), Path("../shared/datasets/trec"))  # doctest: +SKIP
    >>> len(ds.train), ds.label_names[:2]  # doctest: +SKIP
    (5452, ['ABBR', 'DESC'])
    """
    folder = Path(folder)
    paths = {f.filename: folder / f.filename for f in spec.files}
    missing = sorted(name for name, path in paths.items() if not path.is_file())
    if missing:
        raise DataFormatError(
            f"Dataset {spec.name!r}: {len(missing)} of its {len(paths)} files are missing from "
            f"{folder}: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}. "
            f"Download it again (littledata download {spec.name})."
        )
    splits = spec.parser(paths)
    if set(splits) != set(spec.splits):
        raise DataFormatError(
            f"Dataset {spec.name!r}: the parser produced the splits {sorted(splits)}, "
            f"the registry expects {list(spec.splits)}."
        )
    wrong = [
        f"{name}: {len(splits[name])} (expected {size})"
        for name, size in spec.splits.items()
        if len(splits[name]) != size
    ]
    if wrong:
        raise DataFormatError(
            f"Dataset {spec.name!r} in {folder} has unexpected split sizes: {'; '.join(wrong)}. "
            "The files are not the pinned upstream files; download them again."
        )
    for name, split in splits.items():
        _check_labels(spec, name, split)
    return Dataset(
        name=spec.name,
        task=spec.task,
        label_names=list(spec.label_names),
        splits={name: splits[name] for name in spec.splits},
        train_split=spec.train_split,
        test_split=spec.test_split,
        description=spec.description,
        license=spec.license,
    )
