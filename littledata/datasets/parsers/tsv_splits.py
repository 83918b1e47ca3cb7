"""Raw TSV files with official splits: liar, goemotions, and the GLUE-style sentence-pair and
acceptability files (msrp, sick, rte, cola)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from littledata.datasets.base import Parser, Split
from littledata.datasets.parsers._common import (
    Paths,
    _bad_label,
    _check_label_file,
    _label_lookup,
    _labels,
    _parser,
    _tsv_rows,
)
from littledata.errors import DataFormatError

# --------------------------------------------------------------------------------------------
# Other TSVs: liar, goemotions
# --------------------------------------------------------------------------------------------


def _parse_liar(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    splits = {}
    for split, filename in split_files.items():
        texts, labels = [], []
        meta: dict[str, list[object]] = {
            k: [] for k in ("id", "subject", "speaker", "party", "context")
        }
        for line_no, f in _tsv_rows(paths[filename], 14):
            if f[1] not in lookup:
                raise _bad_label(filename, line_no, f[1], label_names)
            texts.append(f[2])
            labels.append(lookup[f[1]])
            for key, value in zip(meta, (f[0], f[3], f[4], f[7], f[13]), strict=True):
                meta[key].append(value)
        splits[split] = Split(texts=texts, labels=_labels(labels), meta=meta)
    return splits


def liar_tsv(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """LIAR: raw 14-column TSV (no header, no quoting: statements contain ``"``).

    Text = the statement (column 3); label = column 2. The statement id, subjects, speaker,
    party and context are kept in ``meta``. The credit-history counts are not kept: they
    include the statement's own verdict.
    """
    return _parser(_parse_liar, split_files=dict(split_files), label_names=tuple(label_names))


def _parse_goemotions(
    paths: Paths,
    *,
    split_files: Mapping[str, str],
    labels_file: str,
    label_names: Sequence[str],
) -> dict[str, Split]:
    _check_label_file(paths[labels_file], label_names, indexed=False)
    n = len(label_names)
    splits = {}
    for split, filename in split_files.items():
        rows = _tsv_rows(paths[filename], 3)
        valid = {str(i): i for i in range(n)}
        texts, ids, row_idx, col_idx = [], [], [], []
        for r, (line_no, (text, ids_field, comment_id)) in enumerate(rows):
            for value in ids_field.split(","):
                col = valid.get(value)
                if col is None:
                    raise DataFormatError(
                        f"{filename} line {line_no}: label ids {ids_field!r} are not "
                        f"comma-separated ids in 0-{n - 1}."
                    )
                row_idx.append(r)
                col_idx.append(col)
            texts.append(text)
            ids.append(comment_id)
        matrix = np.zeros((len(rows), n), dtype=np.uint8)
        matrix[row_idx, col_idx] = 1
        splits[split] = Split(texts=texts, labels=matrix, meta={"id": ids})
    return splits


def goemotions_tsv(
    split_files: Mapping[str, str], labels_file: str, label_names: Sequence[str]
) -> Parser:
    """GoEmotions TSV ``text<TAB>label ids (comma-separated)<TAB>comment id``, plus labels.txt.

    Labels come back as a uint8 indicator matrix (one column per label); the Reddit comment id is
    kept in ``meta["id"]``. No CSV quoting (texts contain ``"``).
    """
    return _parser(
        _parse_goemotions,
        split_files=dict(split_files),
        labels_file=labels_file,
        label_names=tuple(label_names),
    )


# --------------------------------------------------------------------------------------------
# Sentence pairs
# --------------------------------------------------------------------------------------------


def _pair_split(
    texts: list[str],
    pairs: list[str],
    labels: list[int],
    meta: dict[str, list[object]] | None = None,
) -> Split:
    return Split(texts=texts, text_pairs=pairs, labels=_labels(labels), meta=meta or {})


def _parse_msrp(paths: Paths, *, split_files: Mapping[str, str]) -> dict[str, Split]:
    header = ("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String")
    splits = {}
    for split, filename in split_files.items():
        texts, pairs, labels = [], [], []
        for line_no, f in _tsv_rows(paths[filename], 5, header=header):
            if f[0] not in ("0", "1"):
                raise DataFormatError(f"{filename} line {line_no}: quality {f[0]!r} is not 0/1.")
            labels.append(int(f[0]))
            texts.append(f[3])
            pairs.append(f[4])
        splits[split] = _pair_split(texts, pairs, labels)
    return splits


def msrp_tsv(split_files: Mapping[str, str]) -> Parser:
    """MSRP (brmson/dataset-sts): raw TSV with a header (some files start with a UTF-8 BOM).

    Columns ``Quality, #1 ID, #2 ID, #1 String, #2 String``; label = Quality (1 = paraphrase).
    No CSV quoting: sentences contain ``"``.
    """
    return _parser(_parse_msrp, split_files=dict(split_files))


def _parse_sick(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    header = ("pair_ID", "sentence_A", "sentence_B", "relatedness_score", "entailment_judgment")
    lookup = {name.upper(): i for i, name in enumerate(label_names)}
    splits = {}
    for split, filename in split_files.items():
        texts, pairs, labels = [], [], []
        ids: list[object] = []
        relatedness: list[object] = []
        for line_no, f in _tsv_rows(paths[filename], 5, header=header):
            if f[4] not in lookup:
                raise _bad_label(filename, line_no, f[4], [n.upper() for n in label_names])
            try:
                relatedness.append(float(f[3]))
            except ValueError:
                raise DataFormatError(
                    f"{filename} line {line_no}: relatedness {f[3]!r} is not a number."
                ) from None
            texts.append(f[1])
            pairs.append(f[2])
            labels.append(lookup[f[4]])
            ids.append(f[0])
        meta = {"pair_id": ids, "relatedness": relatedness}
        splits[split] = _pair_split(texts, pairs, labels, meta)
    return splits


def sick_tsv(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """SICK 2014: TSV with a header; label = the entailment judgment (upper-case upstream).

    The relatedness score (1-5) is kept in ``meta["relatedness"]``, the pair id in
    ``meta["pair_id"]``.
    """
    return _parser(_parse_sick, split_files=dict(split_files), label_names=tuple(label_names))


def _parse_rte(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    header = ("index", "sentence1", "sentence2", "label")
    lookup = _label_lookup(label_names)
    splits = {}
    for split, filename in split_files.items():
        texts, pairs, labels = [], [], []
        rows = _tsv_rows(paths[filename], 4, header=header, optional_header=True)
        for line_no, f in rows:
            if f[3] not in lookup:
                raise _bad_label(filename, line_no, f[3], label_names)
            texts.append(f[1])
            pairs.append(f[2])
            labels.append(lookup[f[3]])
        splits[split] = _pair_split(texts, pairs, labels)
    return splits


def rte_tsv(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """GLUE RTE TSV ``index, sentence1, sentence2, label`` (the header is absent in val.tsv)."""
    return _parser(_parse_rte, split_files=dict(split_files), label_names=tuple(label_names))


def _parse_cola(paths: Paths, *, split_files: Mapping[str, str]) -> dict[str, Split]:
    splits = {}
    for split, filename in split_files.items():
        texts, labels, sources = [], [], []
        for line_no, f in _tsv_rows(paths[filename], 4):
            if f[1] not in ("0", "1"):
                raise DataFormatError(f"{filename} line {line_no}: label {f[1]!r} is not 0/1.")
            texts.append(f[3])
            labels.append(int(f[1]))
            sources.append(f[0])
        splits[split] = Split(texts=texts, labels=_labels(labels), meta={"source": sources})
    return splits


def cola_tsv(split_files: Mapping[str, str]) -> Parser:
    """GLUE CoLA TSV without header: ``source, label (1 = acceptable), original mark, sentence``.

    The source code (e.g. ``gj04``) is kept in ``meta["source"]``.
    """
    return _parser(_parse_cola, split_files=dict(split_files))
