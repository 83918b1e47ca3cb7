"""One text per line: mr, subj, mpqa (one file per label), trec, sst, R8, UCI sentences."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from littledata.datasets.base import Parser, Split
from littledata.datasets.parsers._common import (
    Paths,
    _bad_label,
    _label_lookup,
    _labels,
    _parser,
    _read_lines,
    _tsv_rows,
)
from littledata.datasets.splitting import hashed_train_test_split
from littledata.errors import DataFormatError

logger = logging.getLogger(__name__)


def _parse_lines_per_label_pool(
    paths: Paths,
    *,
    dataset_name: str,
    label_files: Sequence[str],
    encoding: str,
    skip_blank: bool,
) -> dict[str, Split]:
    texts: list[str] = []
    labels: list[int] = []
    for label, filename in enumerate(label_files):
        lines = _read_lines(paths[filename], encoding)
        if skip_blank:
            kept = [line for line in lines if line.strip()]
            if len(kept) != len(lines):
                logger.debug("%s: skipped %d blank lines", filename, len(lines) - len(kept))
            lines = kept
        texts.extend(lines)
        labels.extend([label] * len(lines))
    return hashed_train_test_split(dataset_name, Split(texts=texts, labels=_labels(labels)))


def lines_per_label_pool(
    dataset_name: str,
    label_files: Sequence[str],
    *,
    encoding: str = "utf-8",
    skip_blank: bool = False,
) -> Parser:
    """One file per label, one example per line, no official split (mr, subj, mpqa).

    ``label_files[i]`` holds the examples of label ``i``. The pool (files in that order) is split
    by :func:`~littledata.datasets.splitting.hashed_train_test_split`. ``skip_blank`` drops lines
    that hold only whitespace (mpqa has three; they are not examples).
    """
    return _parser(
        _parse_lines_per_label_pool,
        dataset_name=dataset_name,
        label_files=tuple(label_files),
        encoding=encoding,
        skip_blank=skip_blank,
    )


def _parse_trec(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    splits = {}
    for split, filename in split_files.items():
        texts, labels, fine = [], [], []
        for line_no, line in enumerate(_read_lines(paths[filename], "cp1252"), 1):
            tag, sep, text = line.partition(" ")
            coarse, colon, _ = tag.partition(":")
            if not sep or not colon:
                raise DataFormatError(
                    f"{filename} line {line_no}: expected 'COARSE:fine question', "
                    f"found {line[:60]!r}."
                )
            if coarse not in lookup:
                raise _bad_label(filename, line_no, coarse, label_names)
            texts.append(text)
            labels.append(lookup[coarse])
            fine.append(tag)
        splits[split] = Split(texts=texts, labels=_labels(labels), meta={"fine_label": fine})
    return splits


def trec_lines(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """TREC question classification: Windows-1252 (latin-1) lines ``COARSE:fine question``.

    The label is the coarse class; the full ``COARSE:fine`` tag is kept in ``meta["fine_label"]``.
    """
    return _parser(_parse_trec, split_files=dict(split_files), label_names=tuple(label_names))


def _parse_sst(paths: Paths, *, split_files: Mapping[str, str], n_labels: int) -> dict[str, Split]:
    splits = {}
    for split, filename in split_files.items():
        texts, labels = [], []
        for line_no, line in enumerate(_read_lines(paths[filename]), 1):
            label, sep, text = line.partition(" ")
            if not sep or not label.isdigit() or int(label) >= n_labels:
                raise DataFormatError(
                    f"{filename} line {line_no}: expected '<label 0-{n_labels - 1}> sentence', "
                    f"found {line[:60]!r}."
                )
            texts.append(text)
            labels.append(int(label))
        splits[split] = Split(texts=texts, labels=_labels(labels))
    return splits


def sst_lines(split_files: Mapping[str, str], n_labels: int = 2) -> Parser:
    """SST lines ``<label index> <sentence>`` (harvardnlp ``stsa.*`` files)."""
    return _parser(_parse_sst, split_files=dict(split_files), n_labels=n_labels)


def _parse_label_tab_text(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    splits = {}
    for split, filename in split_files.items():
        texts, labels = [], []
        for line_no, (label, text) in _tsv_rows(paths[filename], 2):
            if label not in lookup:
                raise _bad_label(filename, line_no, label, label_names)
            texts.append(text)
            labels.append(lookup[label])
        splits[split] = Split(texts=texts, labels=_labels(labels))
    return splits


def label_tab_text(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """Lines ``<label name>\\t<text>`` (text_gcn's R8 files)."""
    return _parser(
        _parse_label_tab_text, split_files=dict(split_files), label_names=tuple(label_names)
    )


def _parse_uci(
    paths: Paths, *, dataset_name: str, source_files: Sequence[tuple[str, str]]
) -> dict[str, Split]:
    texts: list[str] = []
    labels: list[int] = []
    sources: list[object] = []
    for source, filename in source_files:
        for line_no, line in enumerate(_read_lines(paths[filename]), 1):
            text, sep, label = line.rpartition("\t")
            if not sep or label not in ("0", "1"):
                raise DataFormatError(
                    f"{filename} line {line_no}: expected 'sentence<TAB>0|1', found {line[-60:]!r}."
                )
            texts.append(text)
            labels.append(int(label))
            sources.append(source)
    pool = Split(texts=texts, labels=_labels(labels), meta={"source": sources})
    return hashed_train_test_split(dataset_name, pool)


def uci_sentences(dataset_name: str, source_files: Sequence[tuple[str, str]]) -> Parser:
    """UCI sentiment labelled sentences: ``sentence\\t0|1`` per line, one file per source.

    ``source_files`` are ``(source name, filename)`` pairs; the source is kept in
    ``meta["source"]``. No official split: the pool is split by the fixed hashed split.
    """
    return _parser(_parse_uci, dataset_name=dataset_name, source_files=tuple(source_files))
