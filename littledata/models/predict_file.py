"""Predict a file: the same rows out, with each row's predicted label and class probabilities.

:func:`predict_file` reads a CSV, TSV, JSON lines, JSON or Parquet file (the reader of
:mod:`littledata.datasets.userfiles`), featurizes its text column once (through the feature
cache, with a progress bar when the command line turns them on), and writes every input column
unchanged followed by :data:`PREDICTION_COLUMN` and one ``probability_<label>`` column per class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

__all__ = ["PREDICTION_COLUMN", "PROBABILITY_PREFIX", "Predicted", "predict_file"]

PREDICTION_COLUMN = "predicted_label"
PROBABILITY_PREFIX = "probability_"
_WRITABLE = ("csv", "tsv", "jsonl", "parquet")


@dataclass(frozen=True)
class Predicted:
    """What :func:`predict_file` did: rows predicted, the text column read, where it wrote
    (``data``: the output's bytes when it was not written to a file)."""

    rows: int
    text_column: str
    out: Path | None
    data: bytes | None = None


def _output_format(out: Path | None, format: str | None) -> str:
    from littledata.datasets.userfiles import EXTENSIONS

    if format is not None:
        fmt = format.lower().lstrip(".")
    elif out is None:
        fmt = "csv"
    else:
        fmt = EXTENSIONS.get(out.suffix.lower(), out.suffix.lstrip(".") or "(no extension)")
    if fmt not in _WRITABLE:
        raise ConfigError(
            f"predictions are written as {', '.join(_WRITABLE)}; {fmt!r} is not one of them "
            "(name the output file with one of these extensions, or pass --out-format)"
        )
    return fmt


def _texts(columns: dict[str, list[Any]], numbers: list[int], column: str, path: Path) -> list[str]:
    values = columns[column]
    missing = [numbers[i] for i, v in enumerate(values) if not isinstance(v, str)]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise DataFormatError(
            f"{path.name}: {len(missing)} rows have no text in column {column!r} (rows "
            f"{shown}); fill them in or remove them"
        )
    return list(values)


def predict_file(
    model: Any,
    path: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    text_column: str | None = None,
    format: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
    out_format: str | None = None,
    batch_size: int | None = None,
) -> Predicted:
    """Predict every row of the file ``path`` with ``model`` and write the rows with predictions.

    Parameters
    ----------
    model : TextClassifier
        A fitted (or loaded) model.
    path : path
        The input: .csv, .tsv, .jsonl, .json or .parquet (or ``format``).
    out : path or None
        The output file, written atomically (its extension gives its format unless
        ``out_format``); None: CSV (or ``out_format``) returned in :attr:`Predicted.data`.
    text_column : str or None
        The column of texts (default: the first of ``text``, ``sentence``, ... as for data files).
    format, sep, encoding : how to read the input (as for data files).
    batch_size : encoder batch size (default: the featurizer's).

    Raises
    ------
    DataFormatError
        The file cannot be read, has no such column, or a row has no text.
    ConfigError
        An output format that cannot be written.
    """
    import pandas as pd

    from littledata.datasets.userfiles import TEXT_COLUMNS, pick_column, read_table
    from littledata.features import featurize

    path = Path(path)
    target = Path(out) if out is not None else None
    fmt = _output_format(target, out_format)
    columns, numbers = read_table(path, format=format, encoding=encoding, sep=sep)
    column = pick_column(path, "text", text_column, TEXT_COLUMNS, list(columns))
    texts = _texts(columns, numbers, column, path)
    features = featurize(
        texts,
        model._checked_featurizer(),
        cache=model.cache,
        batch_size=batch_size,
        label=f"predict {path.name}",
    )
    proba = np.asarray(model.predict_proba_features(features))
    classes = list(model.classes_)
    frame = pd.DataFrame(columns)
    added = [PREDICTION_COLUMN, *(f"{PROBABILITY_PREFIX}{c}" for c in classes)]
    frame = frame.drop(columns=[c for c in added if c in frame.columns])  # a second run's output
    frame[PREDICTION_COLUMN] = [classes[j] for j in proba.argmax(axis=1)]
    for j, name in enumerate(classes):
        frame[f"{PROBABILITY_PREFIX}{name}"] = proba[:, j]
    data = _encode(frame, fmt)
    if target is None:
        return Predicted(rows=len(frame), text_column=column, out=None, data=data)
    from littledata.io import atomic_open

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(target, "wb") as fh:
        fh.write(data)
    return Predicted(rows=len(frame), text_column=column, out=target)


def _encode(frame: Any, fmt: str) -> bytes:
    import io

    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    if fmt == "jsonl":
        text = frame.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
        return text.encode("utf-8")  # type: ignore[no-any-return]
    return frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",").encode("utf-8")  # type: ignore[no-any-return]
