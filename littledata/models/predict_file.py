"""Predict a file: the same rows out, with each row's predicted label and class probabilities.

:func:`predict_file` reads a CSV, TSV, JSON lines, JSON or Parquet file (the reader of
:mod:`littledata.datasets.userfiles`), featurizes its text column once (through the feature
cache, with a progress bar when the command line turns them on), and writes every input column
unchanged followed by :data:`PREDICTION_COLUMN` and one ``probability_<label>`` column per class.

A sentence-pair model reads two text columns (by default the ones it was trained on, else
``text``/``sentence1``/... and ``text_pair``/``sentence2``/...). A multi-label model writes
:data:`LABELS_COLUMN` instead: each row's predicted labels as a list (JSON text in a CSV or TSV
cell, ``["joy", "anger"]``, the form littledata reads back as a multi-label column; a list in
JSON lines and Parquet), and a ``probability_<label>`` column per label. A sequence tagger reads a
column of word lists (:data:`TOKEN_COLUMNS`; a JSON list in a CSV cell, or a text split at
whitespace) and writes :data:`TAGS_COLUMN`, a tag per word, as a list the same way.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

__all__ = [
    "LABELS_COLUMN",
    "PAIR_COLUMNS",
    "PREDICTION_COLUMN",
    "PROBABILITY_PREFIX",
    "TAGS_COLUMN",
    "TOKEN_COLUMNS",
    "Predicted",
    "predict_file",
]

PREDICTION_COLUMN = "predicted_label"
LABELS_COLUMN = "predicted_labels"
TAGS_COLUMN = "predicted_tags"
TOKEN_COLUMNS = ("tokens", "words", "text")
"""Where a sequence tagger looks for each row's words when not told."""
PAIR_COLUMNS = ("text_pair", "sentence2", "text_b", "hypothesis", "question2")
"""Where a sentence-pair model looks for the second texts when not told (after the column it
was trained on)."""
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
    text_pair_column: str | None = None


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
    text_pair_column: str | None = None,
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
        The column of texts (default: the column the model was trained on, else the first of
        ``text``, ``sentence``, ... as for data files).
    text_pair_column : str or None
        A sentence-pair model's column of second texts (default: the one it was trained on,
        else the first of :data:`PAIR_COLUMNS`).
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

    path = Path(path)
    target = Path(out) if out is not None else None
    fmt = _output_format(target, out_format)
    columns, numbers = read_table(path, format=format, encoding=encoding, sep=sep)
    trained = _trained_columns(model)
    roles = [("text", text_column, TEXT_COLUMNS)]
    if model.INPUTS == "tokens":
        roles = [("text", text_column, TOKEN_COLUMNS)]  # the words; named with --text-column
    if model.TASK == "sentence-pair":
        roles.append(("text_pair", text_pair_column, PAIR_COLUMNS))
    elif text_pair_column is not None:
        raise ConfigError(
            f"this model is a {model.TASK} model (one text per row); --text-pair-column is for "
            "sentence-pair models"
        )
    picked = []
    for role, given, defaults in roles:
        known = trained.get(f"{role}_column")
        candidates = ((known,) if known in columns else ()) + tuple(defaults)
        picked.append(pick_column(path, role, given, candidates, list(columns)))
    if model.INPUTS == "tokens":
        sides: list[Any] = [_sentences(columns, numbers, picked[0], path)]
    else:
        sides = [_texts(columns, numbers, column, path) for column in picked]
    features = model._features(
        sides,
        model._checked_featurizer(),
        batch_size=batch_size,
        label=f"predict {path.name}",
    )
    proba = np.asarray(model.predict_proba_features(features))
    classes = list(model.classes_)
    frame = pd.DataFrame(columns)
    if model.INPUTS == "tokens":  # a tag per word; no probability columns
        predicted = model.tags_from_proba(proba, [len(s) for s in sides[0]])
        column, classes = TAGS_COLUMN, []
    else:
        predicted = model.labels_from_proba(proba)
        column = LABELS_COLUMN if model.TASK == "multi-label" else PREDICTION_COLUMN
    added = [column, *(f"{PROBABILITY_PREFIX}{c}" for c in classes)]
    frame = frame.drop(columns=[c for c in added if c in frame.columns])  # a second run's output
    if column != PREDICTION_COLUMN and fmt in ("csv", "tsv"):
        predicted = [json.dumps(labels, ensure_ascii=False) for labels in predicted]
    frame[column] = predicted
    for j, name in enumerate(classes):
        frame[f"{PROBABILITY_PREFIX}{name}"] = proba[:, j]
    data = _encode(frame, fmt)
    pair = picked[1] if len(picked) > 1 else None
    done = {"rows": len(frame), "text_column": picked[0], "text_pair_column": pair}
    if target is None:
        return Predicted(out=None, data=data, **done)
    from littledata.io import atomic_open

    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(target, "wb") as fh:
        fh.write(data)
    return Predicted(out=target, **done)


def _sentences(
    columns: dict[str, list[Any]], numbers: list[int], column: str, path: Path
) -> list[list[str]]:
    """Each row's words: a list (JSON lines, Parquet), a JSON list in a cell, or a text split at
    whitespace."""
    out, bad = [], []
    for value, number in zip(columns[column], numbers, strict=True):
        words: Any = value
        if isinstance(value, str):
            text = value.strip()
            try:
                words = json.loads(text) if text.startswith("[") else text.split()
            except ValueError:
                words = text.split()
        if hasattr(words, "tolist"):
            words = words.tolist()
        if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            bad.append(number)
            continue
        out.append(words)
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        raise DataFormatError(
            f"{path.name}: {len(bad)} rows have no words in column {column!r} (rows {shown}); "
            "give each row a list of words (a JSON list) or a text"
        )
    return out


def _trained_columns(model: Any) -> dict[str, Any]:
    """The text columns the model was trained on, as its manifest records them (``{}`` when it
    was trained on a registered dataset or from Python)."""
    source = (getattr(model, "training_data_", None) or {}).get("source")
    if not isinstance(source, dict):
        return {}
    return {k: v for k, v in source.items() if k in ("text_column", "text_pair_column")}


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
