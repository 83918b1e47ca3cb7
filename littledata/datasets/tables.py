"""Read a user's file into columns: formats by extension, text decoding with clear errors, and the
CSV/TSV, JSON lines, JSON and Parquet readers.

Each reader returns a :class:`Table`: its columns by name and each row's number as the user sees it
(row 1 of a CSV is its header, as in a spreadsheet; JSON lines count lines), so that an error about
a row can name the row a person finds in an editor. :mod:`littledata.datasets.userfiles` builds
datasets from these tables.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".conll": "conll",
}
"""File extensions littledata reads, and the format each means."""

FORMATS = ("csv", "tsv", "jsonl", "json", "parquet", "conll")


def looks_like_file(name: str | os.PathLike[str]) -> bool:
    """Return whether ``name`` looks like a file path (a path object, a separator, an extension)."""
    if not isinstance(name, str):
        return True
    if os.sep in name or (os.altsep and os.altsep in name):
        return True
    return Path(name).suffix.lower() in EXTENSIONS


def detect_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """Return the file format of ``path``: ``format`` if given, else from its extension."""
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ConfigError(
                f"Unknown file format {format!r}. Supported formats: {', '.join(FORMATS)}."
            )
        return fmt
    suffix = Path(path).suffix.lower()
    try:
        return EXTENSIONS[suffix]
    except KeyError:
        if not Path(path).expanduser().exists():  # the missing file is the news, not its name
            raise file_not_found(Path(path).expanduser()) from None
        known = ", ".join(sorted(EXTENSIONS))
        raise DataFormatError(
            f"Cannot tell the format of {Path(path).name}: the extension {suffix or '(none)'!r} is "
            f"not one littledata reads ({known}). Rename the file, or say its format with "
            f"format='csv' (CLI: --format csv); formats: {', '.join(FORMATS)}."
        ) from None


# --------------------------------------------------------------------------------------------------
# Reading bytes and tables


@dataclass
class Table:
    """A file read into columns, with each row's position as the user sees it."""

    columns: dict[str, list[Any]]
    numbers: list[int]
    unit: str
    note: str

    @property
    def names(self) -> list[str]:
        return list(self.columns)


def _encoding_hint(encoding: str) -> str:
    other = "latin-1" if _is_utf8(encoding) else "utf-8"
    return (
        f"If the file uses another encoding, pass encoding='{other}' (or 'cp1252', ...; on the "
        f"command line --encoding {other}), or re-save the file as UTF-8."
    )


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def read_text(path: Path, encoding: str) -> str:
    data = _read_bytes(path)
    codec = "utf-8-sig" if _is_utf8(encoding) else encoding
    try:
        text = data.decode(codec)
    except LookupError:
        raise ConfigError(
            f"Unknown encoding {encoding!r}. Use a Python codec name such as 'utf-8', 'latin-1' or "
            "'cp1252'."
        ) from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataFormatError(
            f"{path.name} is not valid {encoding}: byte 0x{data[exc.start]:02x} at byte offset "
            f"{exc.start} (line {line}, column {column}) cannot be decoded. "
            + _encoding_hint(encoding)
        ) from None
    if not text.strip():
        raise DataFormatError(f"{path.name} is empty: it holds no rows. Check the file's path.")
    return text


def file_not_found(path: Path) -> DataFormatError:
    return DataFormatError(f"File not found: {path}. Check the path (and the working folder).")


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise file_not_found(path)
    if path.is_dir():
        raise DataFormatError(f"{path} is a folder, not a file. Pass the path of one data file.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not data.strip():
        raise DataFormatError(f"{path.name} is empty: it holds no rows. Check the file's path.")
    return data


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def as_text(value: Any) -> str | None:
    """A cell as a string (``None`` when missing); whole floats lose their ``.0``."""
    if type(value) is str:  # the common case, first
        return value
    if is_missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _frame_columns(frame: Any) -> dict[str, list[Any]]:
    return {str(c): frame[c].tolist() for c in frame.columns}


def _read_delimited(path: Path, sep: str, encoding: str) -> Table:
    import io

    import pandas as pd

    text = read_text(path, encoding)
    # Trailing blank lines are not rows; blank lines inside are kept so row numbers stay exact.
    text = text.rstrip("\r\n") + "\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_values=[],
                skip_blank_lines=False,
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise DataFormatError(
            f"{path.name}: some rows have more fields than the header has columns. A text that "
            f'contains the separator {sep!r} must be quoted ("..."), or pass the right separator '
            "with sep=... (CLI: --sep)."
        ) from None
    except pd.errors.ParserError as exc:
        kind = "TSV" if sep == "\t" else "CSV"
        raise DataFormatError(
            f"{path.name} cannot be read as {kind}: {str(exc).strip()}. A text "
            f'that contains the separator {sep!r} or a line break must be quoted ("..."); check '
            "the row it names, or pass the right separator with sep=... (CLI: --sep)."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataFormatError(f"{path.name} is empty: it holds no rows.") from None
    columns = _frame_columns(frame)
    if not columns:
        raise DataFormatError(f"{path.name} has no columns.")
    n = len(frame)
    if n == 0:
        raise DataFormatError(
            f"{path.name} has a header ({', '.join(columns)}) but no rows below it."
        )
    numbers = [i + 2 for i in range(n)]
    table = Table(columns, numbers, "row", "row 1 is the header, as in a spreadsheet")
    return _drop_blank_rows(table)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
FIELD_SEP = re.compile(r"[ \t]+")
"""What separates the columns of a CoNLL line: spaces or tabs (not other Unicode spaces)."""


def split_lines(text: str) -> list[str]:
    """Split on ``\\n``, ``\\r\\n`` or ``\\r`` only.

    Not ``str.splitlines``: it also breaks at U+2028, U+2029, U+0085 and a few control characters,
    which JSON strings and CoNLL tokens may hold unescaped.
    """
    return _LINE_BREAK.split(text)


def _drop_blank_rows(table: Table) -> Table:
    keep = [
        i
        for i in range(len(table.numbers))
        if any((as_text(col[i]) or "").strip() for col in table.columns.values())
    ]
    if len(keep) == len(table.numbers):
        return table
    return Table(
        {k: [v[i] for i in keep] for k, v in table.columns.items()},
        [table.numbers[i] for i in keep],
        table.unit,
        table.note,
    )


def _read_jsonl(path: Path, encoding: str) -> Table:
    import pandas as pd

    text = read_text(path, encoding)
    records: list[dict[str, Any]] = []
    numbers: list[int] = []
    for lineno, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_float=str)  # a label 1.0 stays "1.0", as in a CSV
        except json.JSONDecodeError as exc:
            raise DataFormatError(
                f"{path.name}, line {lineno} is not valid JSON ({exc.msg} at column {exc.colno}). "
                "A JSON lines file holds one JSON object per line."
            ) from None
        if not isinstance(record, dict):
            raise DataFormatError(
                f"{path.name}, line {lineno} holds a JSON {type(record).__name__}, not an object. "
                'Each line must be an object such as {"text": "...", "label": "..."}.'
            )
        records.append(record)
        numbers.append(lineno)
    frame = pd.DataFrame.from_records(records)
    return Table(_frame_columns(frame), numbers, "line", "")


def _read_json(path: Path, encoding: str) -> Table:
    import pandas as pd

    text = read_text(path, encoding)
    try:
        obj = json.loads(text, parse_float=str)  # numbers keep their spelling (see _read_jsonl)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # one object per line: JSON lines with a .json name
            return _read_jsonl(path, encoding)
        raise DataFormatError(
            f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    if isinstance(obj, list) and all(isinstance(r, dict) for r in obj):
        frame = pd.DataFrame.from_records(obj)
        return Table(_frame_columns(frame), list(range(1, len(obj) + 1)), "record", "")
    if isinstance(obj, dict) and obj and all(isinstance(v, list) for v in obj.values()):
        lengths = {len(v) for v in obj.values()}
        if len(lengths) != 1:
            raise DataFormatError(f"{path.name}: its columns (lists) have different lengths.")
        n = lengths.pop()
        return Table({str(k): list(v) for k, v in obj.items()}, list(range(1, n + 1)), "record", "")
    raise DataFormatError(
        f'{path.name} must hold a list of objects ([{{"text": ..., "label": ...}}, ...]), an '
        "object of equal-length lists, or one object per line (JSON lines)."
    )


def _read_parquet(path: Path) -> Table:
    import pandas as pd

    _read_bytes(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged or non-Parquet file
        raise DataFormatError(
            f"{path.name} cannot be read as Parquet ({type(exc).__name__}: {exc}). Check that it "
            "is a Parquet file, or say its format with format=... (CLI: --format)."
        ) from None
    return Table(_frame_columns(frame), list(range(1, len(frame) + 1)), "row", "counting from 1")


def read_table(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    encoding: str = "utf-8",
    sep: str | None = None,
) -> tuple[dict[str, list[Any]], list[int]]:
    """Read a tabular file into ``({column: values}, row numbers as the user sees them)``."""
    table = read_any(Path(path), detect_format(path, format), encoding, sep)
    return table.columns, table.numbers


def read_any(path: Path, fmt: str, encoding: str, sep: str | None) -> Table:
    if fmt == "csv":
        table = _read_delimited(path, sep or ",", encoding)
    elif fmt == "tsv":
        table = _read_delimited(path, sep or "\t", encoding)
    elif fmt == "jsonl":
        table = _read_jsonl(path, encoding)
    elif fmt == "json":
        table = _read_json(path, encoding)
    elif fmt == "parquet":
        table = _read_parquet(path)
    else:  # pragma: no cover - conll is handled by the caller
        raise ConfigError(f"{fmt} is not a table format")
    if not table.numbers:
        raise DataFormatError(f"{path.name} holds no rows.")
    return table
