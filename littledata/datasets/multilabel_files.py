"""A user's multi-label table: several labels per row, in one of two layouts.

- one 0/1 column per label, named with ``label_columns=[...]`` (CLI ``--label-columns a,b,c``):
  a cell is ``1`` (or ``true``/``yes``) when the row has that label, ``0`` (``false``/``no``) or
  empty when not;
- a label column holding a list per row: a JSON list in a JSON lines, JSON or Parquet file
  (``{"text": ..., "labels": ["joy", "surprise"]}``), or the same list written as JSON text in
  a CSV/TSV cell (``"[""joy"", ""surprise""]"``). littledata reads a label column this way when
  every one of its non-empty values is such a list. An empty list is a row with none of the
  labels.

Either gives (:func:`littledata.datasets.userfiles.load_user_file`) a
:class:`~littledata.datasets.base.Dataset` of task ``multi-label`` whose labels
are a uint8 matrix (a column per label, in ``label_names`` order: the label columns' order, or
the sorted names found in the lists). Rows with an empty text, or (lists) no label value at all,
are invalid rows, named by their row numbers as for single-label files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import DataFormatError

__all__ = ["TRUE_VALUES", "holds_label_lists", "indicator_labels", "list_labels"]

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


def _cell(value: Any) -> str:
    """A 0/1 cell as lower-case text ("" when missing; ``1.0`` is ``"1"``)."""
    if _missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()


def indicator_labels(
    columns: Sequence[tuple[str, Sequence[Any]]],
) -> tuple[list[str], np.ndarray, dict[int, list[str]]]:
    """Label names, the 0/1 matrix and the invalid rows (``{row position: [reasons]}``) of one
    0/1 column per label (``(name, values)`` each)."""
    n = len(columns[0][1]) if columns else 0
    matrix = np.zeros((n, len(columns)), dtype=np.uint8)
    bad: dict[int, list[str]] = {}
    for j, (name, values) in enumerate(columns):
        for i, value in enumerate(values):
            cell = _cell(value)
            if cell in TRUE_VALUES:
                matrix[i, j] = 1
            elif cell not in FALSE_VALUES:
                bad.setdefault(i, []).append(f"with {cell!r} in 0/1 column {name!r}")
    return [name for name, _ in columns], matrix, bad


def list_labels(
    values: Sequence[Any], label_names: Sequence[str] | None, file_name: str
) -> tuple[list[str], np.ndarray, dict[int, list[str]]]:
    """Label names (``label_names``, else the sorted names found), the 0/1 matrix and the
    invalid rows of a label column holding a list per row."""
    lists = [_as_list(v) for v in values]
    bad = {i: ["with no list of labels"] for i, labels in enumerate(lists) if labels is None}
    found = sorted({lab for labels in lists if labels for lab in labels if lab})
    order = [str(x) for x in label_names] if label_names is not None else found
    unknown = sorted(set(found) - set(order))
    if unknown:
        raise DataFormatError(
            f"{file_name}: labels not in label_names {order}: {', '.join(unknown[:10])}. "
            "Add them to label_names."
        )
    if not order:
        raise DataFormatError(f"{file_name}: no label found in the label column.")
    index = {lab: j for j, lab in enumerate(order)}
    matrix = np.zeros((len(lists), len(order)), dtype=np.uint8)
    for i, labels in enumerate(lists):
        for lab in labels or ():
            if lab:
                matrix[i, index[lab]] = 1
    return order, matrix, bad
