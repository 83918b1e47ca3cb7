"""A user's multi-label table: several labels per row, in one of two layouts.

- one 0/1 column per label, named with ``label_columns=[...]`` (CLI ``--label-columns a,b,c``):
  a cell is ``1`` (or ``true``/``yes``) when the row has that label, ``0`` (``false``/``no``) or
  empty when not;
- a label column holding a list per row: a JSON list in a JSON lines, JSON or Parquet file
  (``{"text": ..., "labels": ["joy", "surprise"]}``), or the same list written as JSON text in
  a CSV/TSV cell (``"[""joy"", ""surprise""]"``). littledata reads a label column this way when
  every one of its non-empty values is such a list. An empty list is a row with none of the
  labels.

Either gives a :class:`~littledata.datasets.base.Dataset` of task ``multi-label`` whose labels
are a uint8 matrix (a column per label, in ``label_names`` order: the label columns' order, or
the sorted names found in the lists). Rows with an empty text, or (lists) no label value at all,
are invalid rows, named by their row numbers as for single-label files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from littledata.datasets.base import Dataset, Split, Task
from littledata.errors import ConfigError, DataFormatError

__all__ = ["TRUE_VALUES", "holds_label_lists", "multilabel_dataset"]

TRUE_VALUES = ("1", "true", "yes")
FALSE_VALUES = ("0", "false", "no", "")


def _as_list(value: Any) -> list[str] | None:
    """A cell as a list of label names, or ``None`` when it is not a list."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ndarray":
        return [str(v).strip() for v in value]
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        if isinstance(parsed, list) and all(isinstance(v, (str, int)) for v in parsed):
            return [str(v).strip() for v in parsed]
    return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""


def holds_label_lists(values: Sequence[Any]) -> bool:
    """Whether every non-empty value of a label column is a list of labels (and one is)."""
    present = [v for v in values if not _missing(v)]
    return bool(present) and all(_as_list(v) is not None for v in present)


def multilabel_dataset(
    path: Path,
    table: Any,
    *,
    name: str,
    text_column: str | None,
    label_column: str | None,
    label_columns: Sequence[str] | None,
    split_column: str | None,
    label_names: Sequence[str] | None,
    drop_invalid: bool,
) -> Dataset:
    """The multi-label dataset of a table read by :mod:`littledata.datasets.userfiles`."""
    from littledata.datasets.userfiles import (
        LABEL_COLUMNS,
        SPLIT_COLUMNS,
        TEXT_COLUMNS,
        _as_text,
        _handle_invalid,
        _order_splits,
        _pick_column,
    )

    names = table.names
    text_col = _pick_column(path, "text", text_column, TEXT_COLUMNS, names)
    n = len(table.numbers)
    texts = [_as_text(v) for v in table.columns[text_col]]
    bad: dict[int, list[str]] = {
        i: ["with an empty text"] for i in range(n) if not (texts[i] or "").strip()
    }
    if label_columns:
        if label_column is not None:
            raise ConfigError("Give label_column or label_columns, not both.")
        cols = [_pick_column(path, "label", c, (), names) for c in label_columns]
        order = [str(c) for c in cols]
        matrix = np.zeros((n, len(cols)), dtype=np.uint8)
        for j, col in enumerate(cols):
            for i, value in enumerate(table.columns[col]):
                cell = (_as_text(value) or "").strip().lower()
                if cell in TRUE_VALUES:
                    matrix[i, j] = 1
                elif cell not in FALSE_VALUES:
                    bad.setdefault(i, []).append(f"with {cell!r} in 0/1 column {col!r}")
    else:
        label_col = _pick_column(path, "label", label_column, LABEL_COLUMNS, names)
        lists = [_as_list(v) for v in table.columns[label_col]]
        for i, labels in enumerate(lists):
            if labels is None:
                bad.setdefault(i, []).append("with no list of labels")
        found = sorted({lab for labels in lists if labels for lab in labels if lab})
        order = [str(x) for x in label_names] if label_names is not None else found
        unknown = sorted(set(found) - set(order))
        if unknown:
            raise DataFormatError(
                f"{path.name}: labels not in label_names {order}: {', '.join(unknown[:10])}. "
                "Add them to label_names."
            )
        index = {lab: j for j, lab in enumerate(order)}
        matrix = np.zeros((n, len(order)), dtype=np.uint8)
        for i, labels in enumerate(lists):
            for lab in labels or ():
                if lab:
                    matrix[i, index[lab]] = 1
        cols = [label_col]
    if not order:
        raise DataFormatError(f"{path.name}: no label found in the label column.")
    _handle_invalid(path, bad, n, table.numbers, table.unit, table.note, drop_invalid)
    keep = [i for i in range(n) if i not in bad]
    split_col = (
        _pick_column(path, "split", split_column, (), names)
        if split_column is not None
        else next((c for c in names if c.lower() in SPLIT_COLUMNS), None)
    )
    if split_col is not None and (split_col in cols or split_col == text_col):
        raise ConfigError(f"The split column {split_col!r} is also a text or label column.")
    if split_col is None:
        split_of = dict.fromkeys(keep, "train")
        split_names, test_split = ["train"], "test"
    else:
        values = table.columns[split_col]
        split_of = {i: (_as_text(values[i]) or "").strip().lower() for i in keep}
        split_names, test_split = _order_splits(path, set(split_of.values()), split_col)
    splits = {}
    for split in split_names:
        rows = [i for i in keep if split_of[i] == split]
        splits[split] = Split(
            texts=[texts[i] for i in rows],  # type: ignore[misc]
            labels=matrix[rows],
            meta={"row": [table.numbers[i] for i in rows]},
        )
    return Dataset(
        name=name,
        task=Task.MULTI_LABEL,
        label_names=order,
        splits=splits,
        train_split="train",
        test_split=test_split,
        description=f"Loaded from {path}",
    )
