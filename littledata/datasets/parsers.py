"""Parsers for the upstream formats of the built-in datasets, and :func:`build_dataset`.

Each public function here is a *parser factory*: it takes what is specific to one dataset (its file
names, label names, ...) and returns a :data:`~littledata.datasets.base.Parser`, a callable that
turns ``{filename: local path}`` into ``{split name: Split}``. The catalog
(:mod:`littledata.datasets.catalog`) pairs each factory call with the spec's files.

Texts are cleaned only where the format demands it: bytes are decoded, line terminators (``\\n``,
``\\r\\n``) and a UTF-8 byte-order mark are removed, CSV quoting is undone, CoNLL tokens are joined
by spaces, snips chunks are concatenated. Nothing else is touched (no lower-casing, no whitespace
trimming, no HTML unescaping). Lines are split on ``\\n`` only, never with ``str.splitlines``,
which would also split on characters such as U+0085 (the latin-1 byte ``0x85``) and U+2028 that
occur inside texts.

Labels come back as int64 arrays of indices into the spec's ``label_names`` (multi-label: a uint8
indicator matrix; sequence labeling: one int64 array of tag indices per sentence).
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import logging
import tarfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from littledata.datasets.base import Dataset, DatasetSpec, Parser, Split, Task
from littledata.datasets.splitting import hashed_train_test_split
from littledata.errors import DataFormatError

logger = logging.getLogger(__name__)

Paths = Mapping[str, Path]

__all__ = [
    "airline_csv",
    "build_dataset",
    "clinc150_json",
    "cola_tsv",
    "conll_iob2",
    "davidson_csv",
    "dbpedia_csv",
    "goemotions_tsv",
    "label_tab_text",
    "liar_tsv",
    "lines_per_label_pool",
    "msrp_tsv",
    "newsgroups_tar",
    "rte_tsv",
    "sick_tsv",
    "sms_spam_tsv",
    "snips_json",
    "sst_lines",
    "trec_lines",
    "tweeteval",
    "tweeteval_stance",
    "uci_sentences",
]


# --------------------------------------------------------------------------------------------
# Reading helpers
# --------------------------------------------------------------------------------------------


def _decode(data: bytes, name: str, encoding: str = "utf-8") -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{name}: the bytes at offset {exc.start} are not valid {encoding} ({exc.reason}). "
            "The file is damaged or is not the upstream file; download it again."
        ) from None
    return text.removeprefix("\ufeff")


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    return _decode(path.read_bytes(), path.name, encoding)


def _split_lines(text: str) -> list[str]:
    """Split on ``\\n`` (``\\r\\n`` counts as one terminator); a final terminator adds no line."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _read_lines(path: Path, encoding: str = "utf-8") -> list[str]:
    return _split_lines(_read_text(path, encoding))


def _label_lookup(label_names: Sequence[str]) -> dict[str, int]:
    return {name: i for i, name in enumerate(label_names)}


def _bad_label(name: str, line_no: int, value: str, label_names: Sequence[str]) -> DataFormatError:
    shown = ", ".join(label_names) if len(label_names) <= 30 else f"{len(label_names)} names"
    return DataFormatError(
        f"{name} line {line_no}: unknown label {value!r} (expected one of: {shown})."
    )


def _tsv_rows(
    path: Path,
    n_columns: int,
    *,
    header: Sequence[str] | None = None,
    optional_header: bool = False,
    encoding: str = "utf-8",
) -> list[tuple[int, list[str]]]:
    """Rows of a raw tab-separated file (no quoting) as ``(line number, fields)``.

    ``header``: the expected first line; it is checked and skipped (when ``optional_header``, a
    file without it is accepted too). Every row must have exactly ``n_columns`` fields.
    """
    lines = _read_lines(path, encoding)
    start = 0
    if header is not None:
        first = lines[0].split("\t") if lines else []
        if first == list(header):
            start = 1
        elif not optional_header:
            raise DataFormatError(
                f"{path.name} line 1: expected the header {list(header)}, found {first[:8]}."
            )
    rows = []
    for i in range(start, len(lines)):
        fields = lines[i].split("\t")
        if len(fields) != n_columns:
            raise DataFormatError(
                f"{path.name} line {i + 1}: expected {n_columns} tab-separated fields, "
                f"found {len(fields)}."
            )
        rows.append((i + 1, fields))
    return rows


def _csv_rows(path: Path, header: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Rows of a quoted CSV file (RFC 4180 style) after checking its header."""
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader)
    except StopIteration:
        raise DataFormatError(f"{path.name} is empty.") from None
    if first != list(header):
        raise DataFormatError(f"{path.name}: expected the header {list(header)}, found {first}.")
    rows = []
    for fields in reader:
        if len(fields) != len(header):
            raise DataFormatError(
                f"{path.name} record {reader.line_num}: expected {len(header)} fields, "
                f"found {len(fields)}."
            )
        rows.append((reader.line_num, fields))
    return rows


def _labels(values: Sequence[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _check_label_file(path: Path, label_names: Sequence[str], *, indexed: bool) -> None:
    """Check that an upstream label-name file agrees with the spec's label names.

    ``indexed``: lines are ``id<TAB>...<TAB>name`` (tweeteval mapping files, where the name is the
    last non-empty field, with emoji names like ``_red_heart_`` losing their underscores);
    otherwise one name per line in index order.
    """
    found: list[str] = []
    for line in _read_lines(path):
        if not line.strip():
            continue
        if indexed:
            fields = [f for f in line.split("\t") if f.strip()]
            if fields[0].strip() != str(len(found)):
                raise DataFormatError(f"{path.name}: label ids are not 0, 1, 2, ... in order.")
            found.append(fields[-1].strip().strip("_"))
        else:
            found.append(line.strip())
    if found != list(label_names):
        raise DataFormatError(
            f"{path.name} lists the labels {found}, but the registry expects {list(label_names)}. "
            "The upstream file changed; the catalog needs updating."
        )


def _parser(func: Callable[..., dict[str, Split]], **kwargs: object) -> Parser:
    return functools.partial(func, **kwargs)


# --------------------------------------------------------------------------------------------
# One text per line
# --------------------------------------------------------------------------------------------


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
# JSON formats: clinc150, snips
# --------------------------------------------------------------------------------------------


def _parse_clinc150(
    paths: Paths,
    *,
    filename: str,
    split_keys: Mapping[str, Sequence[str]],
    label_names: Sequence[str],
) -> dict[str, Split]:
    try:
        data = json.loads(_read_text(paths[filename]))
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{filename} is not valid JSON: {exc}.") from None
    lookup = _label_lookup(label_names)
    splits = {}
    for split, keys in split_keys.items():
        texts, labels = [], []
        for key in keys:
            if key not in data:
                raise DataFormatError(f"{filename} has no {key!r} list.")
            for i, item in enumerate(data[key]):
                if not (isinstance(item, list) and len(item) == 2):
                    raise DataFormatError(f"{filename} {key}[{i}]: expected [text, intent].")
                text, intent = item
                if intent not in lookup:
                    raise _bad_label(f"{filename} {key}", i + 1, intent, label_names)
                texts.append(text)
                labels.append(lookup[intent])
        splits[split] = Split(texts=texts, labels=_labels(labels))
    return splits


def clinc150_json(
    filename: str, split_keys: Mapping[str, Sequence[str]], label_names: Sequence[str]
) -> Parser:
    """CLINC150 ``data_full.json``: lists of ``[text, intent]`` under ``train``, ``oos_train``, ...

    ``split_keys`` maps each split to the JSON lists it concatenates, e.g.
    ``{"train": ["train", "oos_train"]}``.
    """
    return _parser(
        _parse_clinc150,
        filename=filename,
        split_keys={k: tuple(v) for k, v in split_keys.items()},
        label_names=tuple(label_names),
    )


def _decode_snips(data: bytes, name: str) -> str:
    """Decode a snips JSON file.

    One upstream file (PlayMusic train) encodes an emoji as a UTF-16 surrogate pair written as two
    3-byte sequences (CESU-8 style: ``ED A0 BC ED BD 95`` for U+1F355), which strict UTF-8 refuses.
    Those bytes are decoded with ``surrogatepass`` and each surrogate pair is joined back into the
    character it stands for. Any other invalid byte is an error.
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{name}: the bytes at offset {exc.start} are not valid UTF-8 ({exc.reason})."
        ) from None
    logger.debug("%s: joined UTF-16 surrogate pairs encoded as UTF-8", name)
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise DataFormatError(f"{name}: contains an unpaired UTF-16 surrogate.") from None


def _read_snips_file(path: Path, intent: str) -> tuple[list[str], list[object]]:
    try:
        data = json.loads(_decode_snips(path.read_bytes(), path.name))
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path.name} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict) or list(data) != [intent]:
        raise DataFormatError(f"{path.name}: expected one top-level key {intent!r}.")
    texts: list[str] = []
    slots: list[object] = []
    for i, query in enumerate(data[intent]):
        try:
            chunks = query["data"]
            parts: list[str] = []
            spans: list[tuple[int, int, str]] = []
            offset = 0
            for chunk in chunks:
                piece = chunk["text"]
                if "entity" in chunk:
                    spans.append((offset, offset + len(piece), chunk["entity"]))
                parts.append(piece)
                offset += len(piece)
        except (KeyError, TypeError):
            raise DataFormatError(
                f"{path.name} query {i}: expected {{'data': [{{'text': ...}}, ...]}}."
            ) from None
        texts.append("".join(parts))
        slots.append(spans)
    return texts, slots


def _parse_snips(
    paths: Paths,
    *,
    split_files: Mapping[str, Sequence[tuple[str, str]]],
    label_names: Sequence[str],
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    splits = {}
    for split, parts in split_files.items():
        texts: list[str] = []
        labels: list[int] = []
        slots: list[object] = []
        for intent, filename in parts:
            t, s = _read_snips_file(paths[filename], intent)
            texts.extend(t)
            slots.extend(s)
            labels.extend([lookup[intent]] * len(t))
        splits[split] = Split(texts=texts, labels=_labels(labels), meta={"slots": slots})
    return splits


def snips_json(
    split_files: Mapping[str, Sequence[tuple[str, str]]], label_names: Sequence[str]
) -> Parser:
    """Snips 2017 custom-intent JSON files: one file per intent and split.

    ``split_files`` maps a split to ``(intent, filename)`` pairs. The text of a query is the
    concatenation of its chunks; the slot spans are kept in ``meta["slots"]`` as
    ``(start, end, slot name)`` character offsets into the text.
    """
    return _parser(
        _parse_snips,
        split_files={k: tuple(v) for k, v in split_files.items()},
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


# --------------------------------------------------------------------------------------------
# CoNLL IOB2
# --------------------------------------------------------------------------------------------


def _read_conll(path: Path, lookup: Mapping[str, int]) -> Split:
    words: list[str] = []  # every token of the file, in order
    tag_ids: list[int] = []
    ends: list[int] = []  # position in ``words`` where each sentence ends
    for line_no, line in enumerate(_read_lines(path), 1):
        if "\t" in line:
            line = line.replace("\t", " ")
        fields = line.split(" ")
        if len(fields) != 3 or not fields[0] or not fields[1]:  # not the usual 'token TAG 0'
            fields = [f for f in fields if f]
            if len(fields) == 2:
                fields.append("")
        if not fields:
            if words and (not ends or ends[-1] != len(words)):
                ends.append(len(words))
            continue
        if fields[0] == "-DOCSTART-":
            continue
        if len(fields) < 2:
            raise DataFormatError(
                f"{path.name} line {line_no}: expected 'token TAG ...', found {line[:60]!r}."
            )
        tag = lookup.get(fields[1])
        if tag is None:  # the four-column CoNLL-2003 layout has the tag last
            tag = lookup.get(fields[-1])
        if tag is None:
            raise _bad_label(path.name, line_no, fields[1], list(lookup))
        words.append(fields[0])
        tag_ids.append(tag)
    if words and (not ends or ends[-1] != len(words)):
        ends.append(len(words))
    all_tags = np.asarray(tag_ids, dtype=np.int64)
    starts = [0, *ends[:-1]]
    tokens = [words[a:b] for a, b in zip(starts, ends, strict=True)]
    tags = [all_tags[a:b].copy() for a, b in zip(starts, ends, strict=True)]
    texts = [" ".join(t) for t in tokens]
    return Split(texts=texts, labels=tags, tokens=tokens)


def _parse_conll(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    return {split: _read_conll(paths[f], lookup) for split, f in split_files.items()}


def conll_iob2(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """CoNLL-style token files: ``token TAG ...`` per line, a blank line ends a sentence.

    The tag is the second column (LexiconNER's conll2003 files: ``token TAG 0``; a two-column
    file ``token TAG`` works too), or the last one when the second is not a tag (the original
    four-column ``token POS chunk TAG`` layout). ``-DOCSTART-`` lines are skipped. ``texts``
    are the tokens joined by single spaces.
    """
    return _parser(_parse_conll, split_files=dict(split_files), label_names=tuple(label_names))


# --------------------------------------------------------------------------------------------
# 20 newsgroups tar
# --------------------------------------------------------------------------------------------


def _decode_post(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _parse_newsgroups(
    paths: Paths, *, filename: str, split_dirs: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    dir_to_split = {d: s for s, d in split_dirs.items()}
    found: dict[str, list[tuple[int, int, str, str]]] = {s: [] for s in split_dirs}
    path = paths[filename]
    try:
        # Decompressing the whole archive in memory (about 50 MB) and then walking the tar is
        # faster than letting tarfile seek inside a gzip stream; nothing is written to disk.
        raw = gzip.decompress(path.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                parts = member.name.split("/")
                if len(parts) < 3 or parts[-3] not in dir_to_split:
                    continue
                group, post_id = parts[-2], parts[-1]
                if group not in lookup:
                    raise _bad_label(f"{filename}: {member.name}", 0, group, label_names)
                # the archive is in memory: slice the member's bytes instead of extractfile()
                text = _decode_post(raw[member.offset_data : member.offset_data + member.size])
                key = int(post_id) if post_id.isdigit() else -1
                found[dir_to_split[parts[-3]]].append((lookup[group], key, post_id, text))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{filename} is not a readable .tar.gz archive: {exc}.") from None
    splits = {}
    for split, items in found.items():
        items.sort(key=lambda item: (item[0], item[1], item[2]))
        splits[split] = Split(
            texts=[item[3] for item in items],
            labels=_labels([item[0] for item in items]),
            meta={"post_id": [item[2] for item in items]},
        )
    return splits


def newsgroups_tar(
    filename: str, split_dirs: Mapping[str, str], label_names: Sequence[str]
) -> Parser:
    """20 newsgroups "bydate": a .tar.gz of ``<split dir>/<group>/<post id>`` files.

    Read straight from the archive (nothing is extracted to disk). ``split_dirs`` maps a split to
    its directory name (e.g. ``{"train": "20news-bydate-train"}``). The text is the whole post
    (headers included), decoded as UTF-8, or latin-1 where a post is not valid UTF-8. Within a
    split, posts are ordered by group (label index) then numeric post id; the post id is kept in
    ``meta["post_id"]``.
    """
    return _parser(
        _parse_newsgroups,
        filename=filename,
        split_dirs=dict(split_dirs),
        label_names=tuple(label_names),
    )


# --------------------------------------------------------------------------------------------
# Building a Dataset from a spec
# --------------------------------------------------------------------------------------------


def _check_labels(spec: DatasetSpec, split_name: str, split: Split) -> None:
    n = len(spec.label_names)
    where = f"{spec.name} split {split_name!r}"
    if spec.task is Task.MULTI_LABEL:
        labels = split.labels
        if not isinstance(labels, np.ndarray) or labels.ndim != 2 or labels.shape[1] != n:
            raise DataFormatError(f"{where}: expected an indicator matrix with {n} columns.")
        return
    if spec.task is Task.SEQUENCE_LABELING:
        if split.tokens is None:
            raise DataFormatError(f"{where}: a sequence-labeling split needs tokens.")
        arrays = list(split.labels)
        if any(len(a) != len(t) for a, t in zip(arrays, split.tokens, strict=True)):
            raise DataFormatError(f"{where}: a sentence has a different number of tags and tokens.")
        flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    else:
        flat = np.asarray(split.labels)
        if flat.ndim != 1:
            raise DataFormatError(f"{where}: expected one label per example.")
        if spec.task is Task.SENTENCE_PAIR and split.text_pairs is None:
            raise DataFormatError(f"{where}: a sentence-pair split needs text pairs.")
    if flat.size and (flat.min() < 0 or flat.max() >= n):
        raise DataFormatError(f"{where}: label indices outside 0-{n - 1}.")


def build_dataset(spec: DatasetSpec, folder: Path) -> Dataset:
    """Parse the files of ``spec`` found in ``folder`` into a :class:`Dataset`.

    Parameters
    ----------
    spec: a registered dataset spec.
    folder: the folder holding the spec's files under their ``filename`` (a dataset folder of the
        data home or of a mirror). Checksums are not verified here; that is the loader's job.

    Returns
    -------
    The dataset, with its splits in the spec's order.

    Raises
    ------
    DataFormatError: a file is missing, a file does not have the expected format, or the parsed
        split sizes differ from the spec's.

    Examples
    --------
    >>> from littledata.datasets.registry import get_spec
    >>> ds = build_dataset(get_spec("trec"), Path("../shared/datasets/trec"))  # doctest: +SKIP
    >>> len(ds.train), ds.label_names[:2]  # doctest: +SKIP
    (5452, ['ABBR', 'DESC'])
    """
    folder = Path(folder)
    paths = {f.filename: folder / f.filename for f in spec.files}
    missing = sorted(name for name, path in paths.items() if not path.is_file())
    if missing:
        raise DataFormatError(
            f"Dataset {spec.name!r}: {len(missing)} of its {len(paths)} files are missing from "
            f"{folder}: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}. "
            f"Download it again (littledata download {spec.name})."
        )
    splits = spec.parser(paths)
    if set(splits) != set(spec.splits):
        raise DataFormatError(
            f"Dataset {spec.name!r}: the parser produced the splits {sorted(splits)}, "
            f"the registry expects {list(spec.splits)}."
        )
    wrong = [
        f"{name}: {len(splits[name])} (expected {size})"
        for name, size in spec.splits.items()
        if len(splits[name]) != size
    ]
    if wrong:
        raise DataFormatError(
            f"Dataset {spec.name!r} in {folder} has unexpected split sizes: {'; '.join(wrong)}. "
            "The files are not the pinned upstream files; download them again."
        )
    for name, split in splits.items():
        _check_labels(spec, name, split)
    return Dataset(
        name=spec.name,
        task=spec.task,
        label_names=list(spec.label_names),
        splits={name: splits[name] for name in spec.splits},
        train_split=spec.train_split,
        test_split=spec.test_split,
        description=spec.description,
        license=spec.license,
    )
