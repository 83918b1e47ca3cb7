"""Readers, decoders and label helpers shared by the parser modules of this package."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from littledata.datasets.base import Parser, Split
from littledata.errors import DataFormatError

Paths = Mapping[str, Path]


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
