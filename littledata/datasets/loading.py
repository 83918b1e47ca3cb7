"""One call to load any dataset: a registered name or a user's own file.

>>> import littledata
>>> ds = littledata.load_dataset("sst2")  # doctest: +SKIP
>>> ds = littledata.load_dataset("my.csv", text_column="review")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from littledata.datasets.base import Dataset, DatasetSpec
from littledata.errors import ConfigError, unknown_name


def load_registered(
    name: str | DatasetSpec, *, mirror: str | os.PathLike[str] | None = None
) -> Dataset:
    """Load a registered dataset, downloading (and verifying) its files first when needed."""
    from littledata.datasets.download import ensure_downloaded
    from littledata.datasets.parsers import build_dataset
    from littledata.datasets.registry import get_spec

    spec = name if isinstance(name, DatasetSpec) else get_spec(name)
    folder = ensure_downloaded(spec, mirror=mirror)
    return build_dataset(spec, folder)


def load_dataset(
    name_or_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    train: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    test: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    mirror: str | os.PathLike[str] | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    text_pair_column: str | None = None,
    split_column: str | None = None,
    label_names: Sequence[str] | None = None,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
    drop_invalid: bool = False,
    labels: str = "required",
    id_column: str | None = None,
    name: str | None = None,
    label_columns: Sequence[str] | None = None,
) -> Dataset:
    """Load a registered dataset by name, or a user's files by path.

    Parameters
    ----------
    name_or_path: a registered name (``littledata datasets list``), or the path of a ``.csv``,
        ``.tsv``, ``.jsonl``, ``.json``, ``.parquet`` or ``.conll`` file, or a list of such files
        (their rows go to the splits their split columns name, else to ``train``). A registered
        name wins over a file of the same name in the working folder; write ``./name`` for the
        file.
    train, test: a file, or a list of files, whose every row goes to the train (test) split.
        Files loaded together share one label vocabulary: a test file that lacks a class gets
        the same label indices as the train file (loaded apart, its indices would be shifted;
        see :mod:`littledata.labels` for why scoring still compares names then).
    mirror: for registered datasets, a local folder or base URL to fetch files from instead of
        upstream (default ``$LITTLEDATA_MIRROR``).
    text_column, label_column, text_pair_column, split_column, id_column, label_names, format,
    encoding, sep, drop_invalid, labels: for a user's file only; see
        :func:`littledata.datasets.userfiles.load_user_file`. ``labels="optional"`` loads rows
        without a label (or a file without a label column) into the split ``"unlabeled"``; a
        registered dataset is always labeled.
    name: the dataset's name, for a user's files (default: the file name without extension).
    label_columns: one 0/1 column per label of a user's multi-label file (see
        :mod:`littledata.datasets.multilabel_files`).

    Returns
    -------
    Dataset

    Raises
    ------
    UnknownNameError: neither a registered name nor an existing file (the closest names are
        suggested).
    DownloadError, ChecksumError: a registered dataset's files could not be fetched or verified.
    DataFormatError, ConfigError: a user's file is unreadable, or an option is wrong.

    Examples
    --------
    >>> ds = load_dataset("trec")  # doctest: +SKIP
    >>> ds.train.texts[0], ds.label_names[ds.train.labels[0]]  # doctest: +SKIP
    >>> ds = load_dataset("pairs.tsv", text_column="a", text_pair_column="b")  # doctest: +SKIP
    >>> ds = load_dataset(train="train.csv", test="test.csv")  # doctest: +SKIP
    """
    from littledata.datasets.registry import DATASETS
    from littledata.datasets.userfiles import load_user_file, looks_like_file

    file_options = {
        "text_column": text_column,
        "label_column": label_column,
        "text_pair_column": text_pair_column,
        "split_column": split_column,
        "label_names": label_names,
        "format": format,
        "sep": sep,
        "id_column": id_column,
        "name": name,
        "label_columns": label_columns,
    }
    several = not isinstance(name_or_path, (str, os.PathLike)) and name_or_path is not None
    if several or train is not None or test is not None:
        from littledata.datasets.multifile import load_user_files

        named_dataset = isinstance(name_or_path, str) and not looks_like_file(name_or_path)
        if named_dataset and name_or_path in DATASETS:
            raise ConfigError(
                f"{name_or_path!r} is a registered dataset; train= and test= are for your own "
                f"files only. To load a file named {name_or_path!r}, write './{name_or_path}'."
            )
        return load_user_files(
            name_or_path,  # type: ignore[arg-type]
            train=train,
            test=test,
            text_column=text_column,
            label_column=label_column,
            text_pair_column=text_pair_column,
            split_column=split_column,
            label_names=label_names,
            format=format,
            encoding=encoding,
            sep=sep,
            drop_invalid=drop_invalid,
            labels=labels,
            id_column=id_column,
            name=name,
            label_columns=label_columns,
        )
    if name_or_path is None:
        raise ConfigError("Name a dataset or a file (or give train=... / test=... files).")
    is_name = isinstance(name_or_path, str) and not looks_like_file(name_or_path)
    if is_name:
        if name_or_path in DATASETS:
            given = [k for k, v in file_options.items() if v is not None]
            if drop_invalid:
                given.append("drop_invalid")
            if encoding != "utf-8":
                given.append("encoding")
            if given:
                raise ConfigError(
                    f"{name_or_path!r} is a registered dataset; the options {', '.join(given)} are "
                    f"for your own files only. Leave them out, or, to load a file named "
                    f"{name_or_path!r}, write './{name_or_path}'."
                )
            return load_registered(str(name_or_path), mirror=mirror)
        if not Path(name_or_path).exists():
            raise unknown_name("dataset", str(name_or_path), DATASETS)
    return load_user_file(
        name_or_path,
        text_column=text_column,
        label_column=label_column,
        text_pair_column=text_pair_column,
        split_column=split_column,
        label_names=label_names,
        format=format,
        encoding=encoding,
        sep=sep,
        drop_invalid=drop_invalid,
        labels=labels,
        id_column=id_column,
        name=name,
        label_columns=label_columns,
    )


__all__ = ["load_dataset", "load_registered"]
