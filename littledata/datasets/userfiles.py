"""Load a user's own labeled file (CSV, TSV, JSON lines, JSON, Parquet, CoNLL) as a Dataset.

Tables (CSV, TSV, JSONL, JSON, Parquet) give a single-label dataset: one column of texts and one of
labels; with ``text_pair_column`` a sentence-pair dataset. A label is its text as written in the
file, in every format: ``1`` and ``"1"`` (JSON) are one label, while ``1``, ``1.0`` and ``01`` are
three (a warning says when labels are the same number written differently). Only a typed column
(Parquet, or pandas' float column of integers with gaps) has no written form: a whole float reads
as an integer (``1.0`` is ``1``). Label names are sorted (numerically when every label is a number)
unless ``label_names`` gives their order. A ``split_column`` (values
such as ``train``/``test``, compared in lower case; a column named ``split`` is used by default)
divides the rows into splits; without one every row lands in one split, ``train``.

CoNLL files (``.conll`` or ``format="conll"``) give a sequence-labeling dataset: one token per line
with its tag in the last column, a blank line between sentences, ``-DOCSTART-`` lines skipped. Tag
names are ``O`` first, then sorted, unless ``label_names`` is given.

Every problem a file can have raises a :class:`~littledata.errors.DataFormatError` (or
:class:`~littledata.errors.ConfigError` for a bad option) that says what is wrong, where, and what
to do. Rows with an empty text or a missing label are refused, naming the first few rows as the user
sees them (row 1 of a CSV is its header, as in a spreadsheet; JSONL and CoNLL count lines), unless
``drop_invalid=True`` drops them with a logged warning.

Examples
--------
>>> ds = load_user_file("reviews.csv", text_column="review", label_column="stars")  # doctest: +SKIP
>>> ds = load_user_file("pairs.tsv", text_column="a", text_pair_column="b")  # doctest: +SKIP
>>> ds = load_user_file("ner.conll")  # doctest: +SKIP

Why this module is longer than the project's ~600-line guide: it turns a table into a dataset
for every layout a user's file can have (single-label, pairs, CoNLL, unlabeled rows) with the
row-naming errors they share; the readers already live in :mod:`littledata.datasets.tables` and the
multi-label layouts in :mod:`littledata.datasets.multilabel_files`.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from littledata.datasets.base import NO_LABEL, UNLABELED, Dataset, Split, Task
from littledata.datasets.tables import (
    EXTENSIONS,
    FIELD_SEP,
    FORMATS,
    Table,
    as_text,
    detect_format,
    looks_like_file,
    read_any,
    read_table,
    read_text,
    split_lines,
)
from littledata.errors import ConfigError, DataFormatError

logger = logging.getLogger(__name__)

TEXT_COLUMNS = ("text", "sentence", "sentence1", "text_a", "premise", "content", "review", "tweet")
LABEL_COLUMNS = ("label", "labels", "class", "category", "target", "intent", "sentiment")
SPLIT_COLUMNS = ("split",)
ID_COLUMNS = ("id",)
EVAL_SPLITS = ("test", "validation", "valid", "val", "dev")

MAX_ROWS_LISTED = 10


# --------------------------------------------------------------------------------------------------
# Columns, labels, invalid rows


def _option(role: str) -> str:
    return f"{role}_column=... (CLI: --{role.replace('_', '-')}-column)"


def _separator_hint(path: Path, names: Sequence[str]) -> str:
    if len(names) == 1:
        header = names[0]
        for sep, label in ((";", "';'"), ("\t", "a tab"), ("|", "'|'"), (",", "','")):
            if sep in header:
                shown = "\\t" if sep == "\t" else sep
                return f" The header seems to use {label} as separator: pass sep='{shown}'."
    return ""


def _pick_column(
    path: Path, role: str, given: str | None, candidates: Sequence[str], names: Sequence[str]
) -> str:
    available = ", ".join(repr(c) for c in names)
    if given is not None:
        if given in names:
            return given
        close = difflib.get_close_matches(given, names, n=1, cutoff=0.4)
        lower = [c for c in names if c.lower() == given.lower()]
        guess = (lower or close or [None])[0]
        msg = f"{path.name} has no column {given!r} (the {role} column)."
        if guess is not None:
            msg += f" Did you mean {guess!r}?"
        msg += f" Available columns: {available}."
        raise DataFormatError(msg + _separator_hint(path, names))
    by_lower = {c.lower(): c for c in names}
    for cand in candidates:
        if cand in by_lower:
            return by_lower[cand]
    looked = ", ".join(candidates)
    close = difflib.get_close_matches(candidates[0], [c.lower() for c in names], n=1, cutoff=0.5)
    guess = f" Did you mean {by_lower[close[0]]!r}?" if close else ""
    raise DataFormatError(
        f"{path.name}: which column holds the {role}s? None is named {looked}.{guess} "
        f"Available columns: {available}. Name it with {_option(role)}."
        + _separator_hint(path, names)
    )


def pick_column(
    path: str | os.PathLike[str],
    role: str,
    given: str | None,
    candidates: Sequence[str],
    names: Sequence[str],
) -> str:
    """The column of ``names`` holding the ``role`` (``"text"``, ``"label"``): ``given`` if
    it is one of them, else the first of ``candidates`` (any case); an error that lists the
    columns and suggests the closest otherwise."""
    return _pick_column(Path(path), role, given, candidates, names)


def _list_rows(unit: str, numbers: Sequence[int], note: str) -> str:
    shown = ", ".join(str(n) for n in numbers[:MAX_ROWS_LISTED])
    more = f" and {len(numbers) - MAX_ROWS_LISTED} more" if len(numbers) > MAX_ROWS_LISTED else ""
    plural = unit + ("s" if len(numbers) > 1 else "")
    return f"{plural} {shown}{more}" + (f" ({note})" if note else "")


def _handle_invalid(
    path: Path,
    bad: dict[int, list[str]],
    total: int,
    numbers: Sequence[int],
    unit: str,
    note: str,
    drop_invalid: bool,
) -> None:
    """Raise (or, with ``drop_invalid``, warn) about rows whose index is in ``bad``."""
    if not bad:
        return
    reasons = Counter(r for rs in bad.values() for r in rs)
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.items())
    where = _list_rows(unit, [numbers[i] for i in sorted(bad)], note)
    if drop_invalid:
        if len(bad) == total:
            raise DataFormatError(
                f"{path.name}: every one of its {total} rows is unusable ({why}); nothing is left "
                "after dropping them. Check the column options."
            )
        logger.warning(
            "%s: dropped %d of %d rows that cannot be used (%s): %s",
            path.name,
            len(bad),
            total,
            why,
            where,
        )
        return
    raise DataFormatError(
        f"{path.name}: {len(bad)} of {total} rows cannot be used ({why}): {where}. Fix them in the "
        "file, or pass drop_invalid=True (CLI: --drop-invalid) to drop them with a warning."
    )


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _number_like(values: Sequence[str]) -> bool:
    return all(_NUMBER.fullmatch(v) for v in values)


def _warn_same_numbers(path: Path, distinct: Sequence[str], rows_of: dict[str, list[int]]) -> None:
    """Log a warning when distinct labels are one number written differently (1, 1.0, 01)."""
    spellings: dict[float, list[str]] = {}
    for v in distinct:
        if _NUMBER.fullmatch(v):
            spellings.setdefault(float(v), []).append(v)
    for same in spellings.values():
        if len(same) > 1:
            logger.warning(
                "%s: the labels %s are the same number written differently; they are %d "
                "different classes (a label is its text). Write them the same way if they are one "
                "class.",
                path.name,
                ", ".join(f"{v!r} ({len(rows_of.get(v, []))} rows)" for v in same),
                len(same),
            )


def _label_order(
    path: Path,
    found: Sequence[str],
    label_names: Sequence[str] | None,
    rows_of: dict[str, list[int]],
    unit: str,
    note: str,
) -> list[str]:
    distinct = sorted(set(found))
    _warn_same_numbers(path, distinct, rows_of)
    if label_names is None:
        if _number_like(distinct):
            return sorted(distinct, key=lambda v: (float(v), v))
        return distinct
    names = [str(n) for n in label_names]
    if len(set(names)) != len(names):
        raise ConfigError(f"label_names has duplicates: {names}.")
    unknown = [v for v in distinct if v not in set(names)]
    if unknown:
        parts = [f"{v!r} ({_list_rows(unit, rows_of[v], '')})" for v in unknown[:5]]
        raise DataFormatError(
            f"{path.name}: labels not in label_names {names}: {', '.join(parts)}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            + (f" ({note})" if note else "")
            + ". Add them to label_names, or fix the rows."
        )
    return names


def _order_splits(
    path: Path, values: set[str], column: str, *, need_train: bool = True
) -> tuple[list[str], str]:
    if need_train and "train" not in values:
        raise DataFormatError(
            f"{path.name}: the split column {column!r} has the values {', '.join(sorted(values))}; "
            "one of them must be 'train' (the rows littledata trains on). Rename that value, or "
            "leave out split_column to use every row for training."
        )
    evals = [s for s in EVAL_SPLITS if s in values]
    order = ["train", *evals, *sorted(values - {"train", *evals})]
    return order, (evals[0] if evals else "test")


# --------------------------------------------------------------------------------------------------
# Building datasets


def _table_dataset(
    path: Path,
    table: Table,
    *,
    name: str,
    text_column: str | None,
    label_column: str | None,
    text_pair_column: str | None,
    split_column: str | None,
    label_names: Sequence[str] | None,
    drop_invalid: bool,
    labels: str = "required",
    id_column: str | None = None,
) -> Dataset:
    names = table.names
    optional = labels == "optional"
    text_col = _pick_column(path, "text", text_column, TEXT_COLUMNS, names)
    if optional and label_column is None:
        by_lower = {c.lower(): c for c in names}
        label_col = next((by_lower[c] for c in LABEL_COLUMNS if c in by_lower), None)
        if label_col is None:
            logger.info("%s: no label column; every row is unlabeled", path.name)
    else:
        label_col = _pick_column(path, "label", label_column, LABEL_COLUMNS, names)
    pair_col = (
        _pick_column(path, "text_pair", text_pair_column, (), names)
        if text_pair_column is not None
        else None
    )
    if split_column is not None:
        split_col: str | None = _pick_column(path, "split", split_column, (), names)
    else:
        split_col = next((c for c in names if c.lower() in SPLIT_COLUMNS), None)
        if split_col is not None:
            logger.info("%s: using column %r to split the rows", path.name, split_col)
    used = [c for c in (text_col, pair_col, label_col, split_col) if c is not None]
    if len(set(used)) != len(used):
        raise ConfigError(
            f"The text, text pair, label and split columns must differ; got {', '.join(used)}."
        )
    if id_column is not None:
        id_col: str | None = _pick_column(path, "id", id_column, (), names)
    else:  # a column named "id", unless it is one of the columns above
        id_col = next((c for c in names if c.lower() in ID_COLUMNS and c not in used), None)

    texts = [as_text(v) for v in table.columns[text_col]]
    pairs = [as_text(v) for v in table.columns[pair_col]] if pair_col else None
    n = len(texts)
    row_labels = [as_text(v) for v in table.columns[label_col]] if label_col else [None] * n
    splits = [as_text(v) for v in table.columns[split_col]] if split_col else None

    def has_label(i: int) -> bool:
        value = row_labels[i]
        return value is not None and bool(value.strip())

    bad: dict[int, list[str]] = {}
    for i in range(n):
        reasons = []
        if not (texts[i] or "").strip():
            reasons.append("with an empty text")
        if pairs is not None and not (pairs[i] or "").strip():
            reasons.append("with an empty text pair")
        labeled = has_label(i)
        if not labeled and not optional:
            reasons.append("with a missing label")
        if labeled and splits is not None and not (splits[i] or "").strip():
            reasons.append("with a missing split")
        if reasons:
            bad[i] = reasons
    _handle_invalid(path, bad, n, table.numbers, table.unit, table.note, drop_invalid)
    keep = [i for i in range(n) if i not in bad]
    with_label = [i for i in keep if has_label(i)]
    without = [i for i in keep if not has_label(i)]

    label_values = [row_labels[i].strip() for i in with_label]  # type: ignore[union-attr]
    rows_of: dict[str, list[int]] = {}
    for i, v in zip(with_label, label_values, strict=True):
        rows_of.setdefault(v, []).append(table.numbers[i])
    order = _label_order(path, label_values, label_names, rows_of, table.unit, table.note)
    index = {v: k for k, v in enumerate(order)}

    split_names: list[str] = []
    test_split = "test"
    if splits is not None:
        split_of = {i: splits[i].strip().lower() for i in with_label}  # type: ignore[union-attr]
        if UNLABELED in split_of.values():
            rows = [table.numbers[i] for i in with_label if split_of[i] == UNLABELED]
            raise DataFormatError(
                f"{path.name}: the split value {UNLABELED!r} is for rows without a label, but "
                f"{_list_rows(table.unit, rows, table.note)} have one. Give them another split "
                "(train, test), or empty their label."
            )
        if with_label:
            split_names, test_split = _order_splits(
                path, set(split_of.values()), str(split_col), need_train=not optional
            )
    else:
        split_of = dict.fromkeys(with_label, "train")
        if with_label:
            split_names = ["train"]
            (logger.info if optional else logger.warning)(
                "%s has no split column: all %d rows are in one split, 'train' (there is no test "
                "split). Add a column named 'split' (train/test) or pass split_column=... to use "
                "your own splits.",
                path.name,
                len(with_label),
            )

    def columns(rows: list[int]) -> dict[str, list[object]]:
        meta: dict[str, list[object]] = {"row": [table.numbers[i] for i in rows]}
        if id_col is not None:
            meta["id"] = [as_text(table.columns[id_col][i]) for i in rows]
        return meta

    out: dict[str, Split] = {}
    for split in split_names:
        rows = [i for i in with_label if split_of[i] == split]
        out[split] = Split(
            texts=[texts[i] for i in rows],  # type: ignore[misc]
            labels=np.array([index[row_labels[i].strip()] for i in rows], dtype=np.int64),  # type: ignore[union-attr]
            text_pairs=[pairs[i] for i in rows] if pairs is not None else None,  # type: ignore[misc]
            meta=columns(rows),
        )
    if without:
        out[UNLABELED] = Split(
            texts=[texts[i] for i in without],  # type: ignore[misc]
            labels=np.full(len(without), NO_LABEL, dtype=np.int64),
            text_pairs=[pairs[i] for i in without] if pairs is not None else None,  # type: ignore[misc]
            meta=columns(without),
        )
        if with_label:
            logger.info(
                "%s: %d rows have a label, %d have none (split %r)",
                path.name, len(with_label), len(without), UNLABELED,
            )  # fmt: skip
    return Dataset(
        name=name,
        task=Task.SENTENCE_PAIR if pair_col else Task.SINGLE_LABEL,
        label_names=order,
        splits=out,
        train_split="train",
        test_split=test_split,
        description=f"Loaded from {path}",
    )


def _conll_dataset(
    path: Path,
    *,
    name: str,
    encoding: str,
    label_names: Sequence[str] | None,
    drop_invalid: bool,
) -> Dataset:
    text = read_text(path, encoding)
    sentences: list[list[tuple[int, list[str]]]] = []
    current: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(split_lines(text), start=1):
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("-DOCSTART-"):
            if current:
                sentences.append(current)
                current = []
            continue
        current.append((lineno, FIELD_SEP.split(stripped)))
    if current:
        sentences.append(current)
    if not sentences:
        raise DataFormatError(
            f"{path.name} holds no sentences. A CoNLL file has one 'token tag' per line and a "
            "blank line between sentences."
        )
    bad_lines = [ln for sent in sentences for ln, parts in sent if len(parts) < 2]
    bad = {k for k, sent in enumerate(sentences) if any(len(p) < 2 for _, p in sent)}
    if bad:
        where = _list_rows("line", bad_lines, "")
        if not drop_invalid:
            raise DataFormatError(
                f"{path.name}: {len(bad_lines)} lines have a single column where a CoNLL line "
                f"needs the token first and its tag last (separated by spaces or tabs): {where}. "
                "Fix them, or pass drop_invalid=True (CLI: --drop-invalid) to drop the sentences "
                "that hold them."
            )
        if len(bad) == len(sentences):
            raise DataFormatError(f"{path.name}: every sentence has a line without a tag.")
        logger.warning(
            "%s: dropped %d of %d sentences that hold a line without a tag: %s",
            path.name,
            len(bad),
            len(sentences),
            where,
        )
    kept = [
        ([p[0] for _, p in sent], [p[-1] for _, p in sent], sent[0][0])
        for k, sent in enumerate(sentences)
        if k not in bad
    ]
    found = sorted({t for _, ts, _ in kept for t in ts})
    if label_names is None:
        order = (["O"] if "O" in found else []) + [t for t in found if t != "O"]
    else:
        order = [str(t) for t in label_names]
        unknown = [t for t in found if t not in set(order)]
        if unknown:
            raise DataFormatError(
                f"{path.name}: tags not in label_names {order}: {', '.join(unknown[:10])}. "
                "Add them to label_names."
            )
    index = {t: k for k, t in enumerate(order)}
    split = Split(
        texts=[" ".join(toks) for toks, _, _ in kept],
        labels=[np.array([index[t] for t in ts], dtype=np.int64) for _, ts, _ in kept],
        tokens=[toks for toks, _, _ in kept],
        meta={"line": [s for _, _, s in kept]},
    )
    logger.warning(
        "%s: all %d sentences are in one split, 'train' (there is no test split).",
        path.name,
        len(kept),
    )
    return Dataset(
        name=name,
        task=Task.SEQUENCE_LABELING,
        label_names=order,
        splits={"train": split},
        description=f"Loaded from {path}",
    )


def load_user_file(
    path: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
    text_pair_column: str | None = None,
    split_column: str | None = None,
    label_names: Sequence[str] | None = None,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
    drop_invalid: bool = False,
    name: str | None = None,
    labels: str = "required",
    id_column: str | None = None,
    label_columns: Sequence[str] | None = None,
) -> Dataset:
    """Load a user's labeled (or unlabeled, or partly labeled) file as a :class:`Dataset`.

    Parameters
    ----------
    path: a ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.json``, ``.parquet`` or ``.conll`` file.
    text_column: the column of texts (default: the first of ``text``, ``sentence``, ``sentence1``,
        ``text_a``, ``premise``, ``content``, ``review``, ``tweet`` that exists, ignoring case).
    label_column: the column of labels (default: ``label``, ``labels``, ``class``, ``category``,
        ``target``, ``intent`` or ``sentiment``).
    text_pair_column: the column of second texts; makes a sentence-pair dataset.
    split_column: the column naming each row's split (default: a column named ``split`` if any).
        Its values are lower-cased; one must be ``train``; ``test`` (else ``validation``,
        ``valid``, ``val`` or ``dev``) becomes the test split.
    label_names: the labels in index order (default: sorted; numerically when all are integers).
        Every label in the file must be one of them.
    format: ``csv``, ``tsv``, ``jsonl``, ``json``, ``parquet`` or ``conll``; default from the
        extension.
    encoding: the text encoding of CSV/TSV/JSON/CoNLL files (a UTF-8 byte-order mark is accepted).
    sep: the field separator of a CSV/TSV file (default ``,`` or a tab).
    drop_invalid: drop rows with an empty text, an empty text pair, a missing label or a missing
        split value (logging a warning that lists them) instead of refusing the file.
    name: the dataset's name (default: the file name without its extension).
    labels: ``"required"`` (default): every row needs a label (a missing one is an invalid row);
        ``"optional"``: rows without a label (an empty cell, or no label column at all) go to the
        split :data:`~littledata.datasets.base.UNLABELED`, with label ``-1``; the labeled rows
        form the other splits as usual (with a split column, a ``train`` split is then not
        required). For featurizing, predicting and active learning's pool.
    id_column: a column of row ids kept in each split's ``meta["id"]`` (default: a column named
        ``id``, if any). Tables only.
    label_columns: one 0/1 column per label: makes a multi-label dataset (so does a label
        column whose every value is a list of labels; see
        :mod:`littledata.datasets.multilabel_files`). Tables only.

    Returns
    -------
    Dataset
        Single-label, sentence-pair, multi-label or sequence-labeling. Each split's
        ``meta["row"]`` (CoNLL: ``meta["line"]``) holds each example's row (line) number in
        the file, ``meta["id"]`` its id when the file has an id column.

    Raises
    ------
    DataFormatError: unreadable, empty or badly formed file, missing columns, invalid rows.
    ConfigError: a bad option (unknown format or encoding, duplicate label names).
    """
    path = Path(path).expanduser()
    labels = _labels_mode(labels)
    fmt = detect_format(path, format)
    ds_name = name or path.stem
    if fmt == "conll":
        for option, value in (
            ("text_column", text_column),
            ("label_column", label_column),
            ("text_pair_column", text_pair_column),
            ("split_column", split_column),
            ("id_column", id_column),
            ("label_columns", label_columns or None),
        ):
            if value is not None:
                raise ConfigError(
                    f"{option} does not apply to a CoNLL file (tokens are its first column, tags "
                    "its last)."
                )
        return _conll_dataset(
            path,
            name=ds_name,
            encoding=encoding,
            label_names=label_names,
            drop_invalid=drop_invalid,
        )
    table = read_any(path, fmt, encoding, sep)
    if label_columns or _holds_label_lists(table, label_column):
        if text_pair_column is not None:
            raise ConfigError(
                "A multi-label file has one text per row: leave out text_pair_column."
            )
        return _multilabel_dataset(
            path,
            table,
            name=ds_name,
            text_column=text_column,
            label_column=label_column,
            label_columns=label_columns,
            split_column=split_column,
            label_names=label_names,
            drop_invalid=drop_invalid,
        )
    return _table_dataset(
        path,
        table,
        name=ds_name,
        text_column=text_column,
        label_column=label_column,
        text_pair_column=text_pair_column,
        split_column=split_column,
        label_names=label_names,
        drop_invalid=drop_invalid,
        labels=labels,
        id_column=id_column,
    )


def _multilabel_dataset(
    path: Path,
    table: Table,
    *,
    name: str,
    text_column: str | None,
    label_column: str | None,
    label_columns: Sequence[str] | None,
    split_column: str | None,
    label_names: Sequence[str] | None,
    drop_invalid: bool,
) -> Dataset:
    """A multi-label table (:mod:`littledata.datasets.multilabel_files` reads its labels)."""
    from littledata.datasets.multilabel_files import indicator_labels, list_labels

    names = table.names
    text_col = _pick_column(path, "text", text_column, TEXT_COLUMNS, names)
    texts = [as_text(v) for v in table.columns[text_col]]
    if label_columns:
        if label_column is not None:
            raise ConfigError("Give label_column or label_columns, not both.")
        cols = [_pick_column(path, "label", c, (), names) for c in label_columns]
        order, matrix, bad = indicator_labels([(c, table.columns[c]) for c in cols])
    else:
        cols = [_pick_column(path, "label", label_column, LABEL_COLUMNS, names)]
        order, matrix, bad = list_labels(table.columns[cols[0]], label_names, path.name)
    for i, text in enumerate(texts):
        if not (text or "").strip():
            bad.setdefault(i, []).insert(0, "with an empty text")
    _handle_invalid(path, bad, len(texts), table.numbers, table.unit, table.note, drop_invalid)
    keep = [i for i in range(len(texts)) if i not in bad]
    split_col = (
        _pick_column(path, "split", split_column, (), names)
        if split_column is not None
        else next((c for c in names if c.lower() in SPLIT_COLUMNS), None)
    )
    if split_col is not None and (split_col in cols or split_col == text_col):
        raise ConfigError(f"The split column {split_col!r} is also a text or label column.")
    split_of = dict.fromkeys(keep, "train")
    split_names, test_split = ["train"], "test"
    if split_col is not None:
        values = table.columns[split_col]
        split_of = {i: (as_text(values[i]) or "").strip().lower() for i in keep}
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


def _holds_label_lists(table: Table, label_column: str | None) -> bool:
    """Whether the label column (the named one, else the first usual name) holds lists."""
    from littledata.datasets.multilabel_files import holds_label_lists

    by_lower = {c.lower(): c for c in table.names}
    col = label_column or next((by_lower[c] for c in LABEL_COLUMNS if c in by_lower), None)
    return col in table.columns and holds_label_lists(table.columns[col])


LABEL_MODES = ("required", "optional")
"""What :func:`load_user_file` does with rows that have no label (``labels=``)."""


def _labels_mode(labels: str) -> str:
    if labels not in LABEL_MODES:
        raise ConfigError(f"labels must be one of {', '.join(LABEL_MODES)}; got {labels!r}.")
    return labels


__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "LABEL_MODES",
    "detect_format",
    "load_user_file",
    "looks_like_file",
    "pick_column",
    "read_table",
]
