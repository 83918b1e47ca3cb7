"""Tweets and CSV / TSV tables: TweetEval's line files, and the davidson, airline, sms and dbpedia
pools (no official split: the fixed hashed split is applied)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from littledata.datasets.base import Parser, Split
from littledata.datasets.parsers._common import (
    Paths,
    _bad_label,
    _check_label_file,
    _csv_rows,
    _label_lookup,
    _labels,
    _parser,
    _read_lines,
    _read_text,
    _tsv_rows,
)
from littledata.datasets.splitting import hashed_train_test_split
from littledata.errors import DataFormatError

# --------------------------------------------------------------------------------------------
# TweetEval
# --------------------------------------------------------------------------------------------


def _read_text_label_files(
    paths: Paths, text_file: str, label_file: str, n_labels: int
) -> tuple[list[str], list[int]]:
    texts = _read_lines(paths[text_file])
    raw = _read_lines(paths[label_file])
    if len(texts) != len(raw):
        raise DataFormatError(
            f"{text_file} has {len(texts)} lines but {label_file} has {len(raw)}; they must match."
        )
    labels = []
    for line_no, value in enumerate(raw, 1):
        value = value.strip()
        if not value.isdigit() or int(value) >= n_labels:
            raise DataFormatError(
                f"{label_file} line {line_no}: expected a label id 0-{n_labels - 1}, "
                f"found {value!r}."
            )
        labels.append(int(value))
    return texts, labels


def _parse_tweeteval(
    paths: Paths,
    *,
    split_files: Mapping[str, tuple[str, str]],
    mapping_file: str,
    label_names: Sequence[str],
) -> dict[str, Split]:
    _check_label_file(paths[mapping_file], label_names, indexed=True)
    splits = {}
    for split, (text_file, label_file) in split_files.items():
        texts, labels = _read_text_label_files(paths, text_file, label_file, len(label_names))
        splits[split] = Split(texts=texts, labels=_labels(labels))
    return splits


def tweeteval(
    split_files: Mapping[str, tuple[str, str]], mapping_file: str, label_names: Sequence[str]
) -> Parser:
    """TweetEval: per split a text file and a label-id file, line by line, plus ``mapping.txt``.

    ``split_files`` maps a split to ``(text file, labels file)``. The mapping file is checked
    against ``label_names``.
    """
    return _parser(
        _parse_tweeteval,
        split_files=dict(split_files),
        mapping_file=mapping_file,
        label_names=tuple(label_names),
    )


def _parse_tweeteval_stance(
    paths: Paths,
    *,
    split_files: Mapping[str, Sequence[tuple[str, str, str]]],
    mapping_file: str,
    label_names: Sequence[str],
) -> dict[str, Split]:
    _check_label_file(paths[mapping_file], label_names, indexed=True)
    splits = {}
    for split, parts in split_files.items():
        texts: list[str] = []
        labels: list[int] = []
        targets: list[object] = []
        for target, text_file, label_file in parts:
            t, lab = _read_text_label_files(paths, text_file, label_file, len(label_names))
            texts.extend(t)
            labels.extend(lab)
            targets.extend([target] * len(t))
        splits[split] = Split(texts=texts, labels=_labels(labels), meta={"target": targets})
    return splits


def tweeteval_stance(
    split_files: Mapping[str, Sequence[tuple[str, str, str]]],
    mapping_file: str,
    label_names: Sequence[str],
) -> Parser:
    """TweetEval stance: the five targets combined into one 3-label dataset.

    ``split_files`` maps a split to ``(target, text file, labels file)`` triples, concatenated in
    that order; the target of each example is kept in ``meta["target"]``.
    """
    return _parser(
        _parse_tweeteval_stance,
        split_files={k: tuple(v) for k, v in split_files.items()},
        mapping_file=mapping_file,
        label_names=tuple(label_names),
    )


# --------------------------------------------------------------------------------------------
# CSV / TSV pools without an official split
# --------------------------------------------------------------------------------------------


def _parse_davidson(paths: Paths, *, dataset_name: str, filename: str) -> dict[str, Split]:
    header = ["", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"]
    texts, labels = [], []
    for record, fields in _csv_rows(paths[filename], header):
        if fields[5] not in ("0", "1", "2"):
            raise DataFormatError(f"{filename} record {record}: class {fields[5]!r} is not 0/1/2.")
        texts.append(fields[6])
        labels.append(int(fields[5]))
    return hashed_train_test_split(dataset_name, Split(texts=texts, labels=_labels(labels)))


def davidson_csv(dataset_name: str, filename: str) -> Parser:
    """Davidson et al. hate speech CSV: the ``tweet`` column, label = the majority ``class``.

    No official split: the hashed split is applied.
    """
    return _parser(_parse_davidson, dataset_name=dataset_name, filename=filename)


def _parse_airline(
    paths: Paths, *, dataset_name: str, filename: str, label_names: Sequence[str]
) -> dict[str, Split]:
    header = ["tweet_id", "airline_sentiment", "negativereason", "airline", "text", "tweet_created"]
    lookup = _label_lookup(label_names)
    texts, labels, airlines = [], [], []
    for record, fields in _csv_rows(paths[filename], header):
        if fields[1] not in lookup:
            raise _bad_label(filename, record, fields[1], label_names)
        texts.append(fields[4])
        labels.append(lookup[fields[1]])
        airlines.append(fields[3])
    pool = Split(texts=texts, labels=_labels(labels), meta={"airline": airlines})
    return hashed_train_test_split(dataset_name, pool)


def airline_csv(dataset_name: str, filename: str, label_names: Sequence[str]) -> Parser:
    """Twitter US airline sentiment CSV (6 columns): ``text`` and ``airline_sentiment``.

    The airline is kept in ``meta["airline"]``. No official split: the hashed split is applied.
    """
    return _parser(
        _parse_airline, dataset_name=dataset_name, filename=filename, label_names=tuple(label_names)
    )


def _parse_sms(
    paths: Paths, *, dataset_name: str, filename: str, label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    texts, labels = [], []
    for line_no, (label, text) in _tsv_rows(paths[filename], 2, header=("Label", "SMS")):
        if label not in lookup:
            raise _bad_label(filename, line_no, label, label_names)
        texts.append(text)
        labels.append(lookup[label])
    return hashed_train_test_split(dataset_name, Split(texts=texts, labels=_labels(labels)))


def sms_spam_tsv(dataset_name: str, filename: str, label_names: Sequence[str]) -> Parser:
    """SMS Spam Collection: raw TSV ``ham|spam<TAB>text`` with a ``Label<TAB>SMS`` header.

    Texts contain quote characters, so no CSV quoting is applied. No official split: the hashed
    split is applied.
    """
    return _parser(
        _parse_sms, dataset_name=dataset_name, filename=filename, label_names=tuple(label_names)
    )


def _parse_dbpedia(
    paths: Paths, *, dataset_name: str, filename: str, classes_file: str, label_names: Sequence[str]
) -> dict[str, Split]:
    _check_label_file(paths[classes_file], label_names, indexed=False)
    reader = csv.reader(io.StringIO(_read_text(paths[filename]), newline=""))
    texts, labels = [], []
    n = len(label_names)
    for fields in reader:
        if len(fields) != 2 or not fields[0].isdigit() or int(fields[0]) >= n:
            raise DataFormatError(
                f"{filename} record {reader.line_num}: expected '<label 0-{n - 1}>,<text>'."
            )
        labels.append(int(fields[0]))
        texts.append(fields[1])
    return hashed_train_test_split(dataset_name, Split(texts=texts, labels=_labels(labels)))


def dbpedia_csv(
    dataset_name: str, filename: str, classes_file: str, label_names: Sequence[str]
) -> Parser:
    """DBpedia-14 subset CSV ``<label 0-13>,<text>`` (no header) plus ``classes.txt``.

    Label ``i`` is line ``i + 1`` of ``classes.txt`` (checked against ``label_names``). No
    official split: the hashed split is applied.
    """
    return _parser(
        _parse_dbpedia,
        dataset_name=dataset_name,
        filename=filename,
        classes_file=classes_file,
        label_names=tuple(label_names),
    )
