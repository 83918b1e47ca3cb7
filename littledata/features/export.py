"""Export a dataset's features to a file: ``.npy`` (with a ``.rows.csv`` beside it) or ``.parquet``.

Every row of the dataset is exported, labeled or not, in the order of the user's file (rows of
several files: file by file, in the order they were given); a registered dataset's rows come
split by split, in the order ``datasets show`` lists the splits. What identifies each row:

- ``split``: the split it was loaded into (``unlabeled`` for a row without a label);
- ``row``: its row in the file as a spreadsheet shows it (CSV/TSV: row 1 is the header; JSON
  lines and CoNLL: its line; Parquet and JSON: counting from 1), or its position in the split of
  a registered dataset; ``file`` when several files were loaded;
- ``id``: the file's id column, when it has one (``--id-column``, or a column named ``id``);
- ``label``: its label name (empty for a row without one).

A ``.parquet`` file holds those columns and then the features, one column per dimension
(``f0``, ``f1``, ...; sentence pairs add ``pair_f0``, ...). A ``.npy`` file holds the float32
matrix alone, ``(rows, dim)`` (sentence pairs: ``(rows, 2, dim)``, the text then its pair;
layer-wise featurizers: ``(rows, layers, dim)``), and ``<name>.rows.csv`` beside it the columns
above, one line per matrix row. Features come through the feature cache (computed once per
split). Both files are written atomically.

>>> ds = load_dataset("my.csv", labels="optional")  # doctest: +SKIP
>>> export_features(ds, "minilm", "my.parquet")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.errors import ConfigError

if TYPE_CHECKING:
    from littledata.datasets.base import Dataset
    from littledata.features.base import Featurizer

__all__ = [
    "EXPORT_FORMATS",
    "Exported",
    "check_export_path",
    "check_exportable",
    "export_features",
    "row_table",
]

EXPORT_FORMATS = (".npy", ".parquet")


@dataclass(frozen=True)
class Exported:
    """What :func:`export_features` wrote."""

    path: Path
    rows: int
    shape: tuple[int, ...]
    rows_path: Path | None = None
    """The ``.rows.csv`` beside a ``.npy`` export."""


def check_export_path(out: str | os.PathLike[str]) -> Path:
    """``out`` if it names a ``.npy`` or ``.parquet`` file in an existing folder (a ConfigError
    that says what to pass otherwise)."""
    path = Path(out).expanduser()
    if path.suffix.lower() not in EXPORT_FORMATS:
        raise ConfigError(
            f"Cannot export features to {path.name}: name a .npy or a .parquet file "
            "(--out features.npy or --out features.parquet)."
        )
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; --out takes a .npy or .parquet file name.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder of {path} does not exist; create it first.")
    return path


def row_table(ds: Dataset) -> tuple[list[tuple[str, int]], dict[str, list[Any]]]:
    """The export's row order and identifying columns.

    Returns ``(order, columns)``: ``order`` lists ``(split, position in the split)`` for each
    exported row; ``columns`` holds ``split``, ``row`` (and ``file``, ``id``) and ``label``,
    one value per exported row.
    """
    from littledata.datasets.base import UNLABELED

    def file_rows(meta: dict[str, list[object]]) -> list[object] | None:
        return meta.get("row") or meta.get("line")

    from_files = all(file_rows(s.meta) is not None for s in ds.splits.values())
    files: dict[str, int] = {}
    keyed: list[tuple[tuple[int, int], str, int, int]] = []
    for s_pos, (name, split) in enumerate(ds.splits.items()):
        rows = file_rows(split.meta)
        owners = split.meta.get("file")
        for i in range(len(split)):
            if from_files and rows is not None:  # a user's file: in the file's order
                owner = files.setdefault(str(owners[i]), len(files)) if owners else 0
                row = int(rows[i])  # type: ignore[call-overload]
                keyed.append(((owner, row), name, i, row))
            else:  # a registered dataset: split by split
                keyed.append(((s_pos, i), name, i, i))
    keyed.sort(key=lambda k: k[0])
    order = [(name, i) for _, name, i, _ in keyed]
    columns: dict[str, list[Any]] = {
        "split": [name for name, _ in order],
        "row": [row for _, _, _, row in keyed],
    }
    if len(files) > 1:
        columns["file"] = [ds.splits[name].meta["file"][i] for name, i in order]
    if all("id" in s.meta for s in ds.splits.values()):
        columns["id"] = [ds.splits[name].meta["id"][i] for name, i in order]
    labels: list[str] = []
    for name, i in order:
        value = ds.splits[name].labels[i]
        if name == UNLABELED or not isinstance(value, (int, np.integer)):
            labels.append("")  # no label, or not one label per row (sequence labeling)
        else:
            labels.append(ds.label_names[int(value)])
    columns["label"] = labels
    return order, columns


def export_features(
    ds: Dataset,
    featurizer: str | Featurizer,
    out: str | os.PathLike[str],
    *,
    batch_size: int | None = None,
) -> Exported:
    """Featurize every row of ``ds`` (through the cache) and write the features to ``out``.

    See the module docstring for the files and their columns.

    Raises
    ------
    ConfigError: ``out`` is not a ``.npy`` / ``.parquet`` path, the featurizer gives raw texts
        (tf-idf: nothing to export), or layer-wise features are asked for as Parquet.
    """
    from littledata.features import featurize, get_featurizer

    path = check_export_path(out)
    fz = get_featurizer(featurizer) if isinstance(featurizer, str) else featurizer
    check_exportable(fz, path)
    order, columns = row_table(ds)
    texts: list[np.ndarray] = []
    pairs: list[np.ndarray] = []
    start: dict[str, int] = {}
    for name, split in ds.splits.items():
        start[name] = sum(len(x) for x in texts)
        label = f"{ds.name}/{name}"
        texts.append(np.asarray(featurize(split.texts, fz, batch_size=batch_size, label=label)))
        if split.text_pairs is not None:
            x = featurize(split.text_pairs, fz, batch_size=batch_size, label=f"{label}/pairs")
            pairs.append(np.asarray(x))
    where = np.array([start[name] + i for name, i in order], dtype=np.int64)
    blocks = [np.concatenate(texts)[where]]
    if pairs:
        blocks.append(np.concatenate(pairs)[where])
    if path.suffix.lower() == ".npy":
        matrix = blocks[0] if len(blocks) == 1 else np.stack(blocks, axis=1)
        return _write_npy(path, matrix.astype(np.float32, copy=False), columns)
    return _write_parquet(path, blocks, columns)


def check_exportable(fz: Featurizer, out: str | os.PathLike[str]) -> None:
    """A ConfigError when ``fz``'s output cannot be written to ``out`` (raw texts; layer-wise
    features as Parquet)."""
    path = Path(out)
    if fz.kind not in ("dense", "layers"):  # tf-idf: raw texts (or term counts) for its heads
        raise ConfigError(
            f"{fz.name} hands the heads raw texts (they vectorize them while they fit); it has "
            "no features to export. Choose a featurizer that gives vectors (minilm, glove50, "
            "...)."
        )
    if path.suffix.lower() == ".parquet" and fz.kind == "layers":
        raise ConfigError(
            f"{fz.name} gives several vectors per text (one per layer); Parquet holds one per "
            "text. Export to a .npy file instead."
        )


def _write_npy(path: Path, matrix: np.ndarray, columns: dict[str, list[Any]]) -> Exported:
    import pandas as pd

    from littledata.io import atomic_open

    rows_path = path.with_name(path.name[: -len(path.suffix)] + ".rows.csv")
    with atomic_open(path, "wb") as fh:
        np.save(fh, matrix, allow_pickle=False)
    with atomic_open(rows_path, "w", encoding="utf-8", newline="") as fh:
        pd.DataFrame(columns).to_csv(fh, index=False)
    return Exported(path, int(matrix.shape[0]), tuple(matrix.shape), rows_path)


def _write_parquet(path: Path, blocks: list[np.ndarray], columns: dict[str, list[Any]]) -> Exported:
    import pandas as pd

    from littledata.io import atomic_open

    frame = pd.DataFrame(columns)
    n = len(frame)
    names = ("f", "pair_f")
    features = {}
    for prefix, block in zip(names, blocks, strict=False):
        block = block.reshape(n, -1).astype(np.float32, copy=False)
        features.update({f"{prefix}{j}": block[:, j] for j in range(block.shape[1])})
    frame = pd.concat([frame, pd.DataFrame(features)], axis=1)
    with atomic_open(path, "wb") as fh:
        frame.to_parquet(fh, index=False)
    dim = sum(b.reshape(n, -1).shape[1] for b in blocks) if n else 0
    return Exported(path, n, (n, dim))
