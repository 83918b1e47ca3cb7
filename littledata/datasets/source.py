"""One way to name data everywhere littledata takes a dataset: a registered name or your files.

A :class:`DataSource` is a registered dataset's name, or a user's file (or train and test files)
with the options that say how to read it. Every command that takes data builds one from its
argument and the shared file options (``--text-column``, ``--label-column``, ...; see
:mod:`littledata.cli.data_options`), and a benchmark spec file names one as a string or a table::

    datasets = ["sst2", "questions.csv"]                  # a name, or a file path
    datasets = [{path = "questions.csv", text_column = "question", label_column = "topic"}]
    datasets = [{train = "train.csv", test = "test.csv", name = "tickets"}]

A string is a file when it looks like one (a known extension such as ``.csv``, or a path
separator) or when a file of that name exists and no registered dataset has it; otherwise it is a
registered name. In a spec file, relative paths are read from the spec file's folder.

>>> DataSource.parse("questions.csv", base=Path("/data")).path
'/data/questions.csv'
>>> DataSource.parse({"path": "q.tsv", "text_column": "question"}).display_name
'q.tsv'
>>> DataSource.parse("sst2").is_registered  # doctest: +SKIP
True
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from littledata.errors import ConfigError

if TYPE_CHECKING:
    from littledata.datasets.base import Dataset

__all__ = ["FILE_OPTIONS", "TABLE_KEYS", "DataSource"]

FILE_OPTIONS = (
    "text_column",
    "text_pair_column",
    "label_column",
    "label_columns",
    "split_column",
    "id_column",
    "label_names",
    "format",
    "sep",
    "encoding",
    "drop_invalid",
)
"""How to read a user's file: the keyword options of :func:`littledata.load_dataset`."""

TABLE_KEYS = ("path", "train", "test", "name", *FILE_OPTIONS)
"""The keys of a data table in a spec file."""

_STRING_KEYS = {"path", "name", "format", "sep", "encoding"} | {
    k for k in FILE_OPTIONS if k.endswith("_column")
}


@dataclass(frozen=True)
class DataSource:
    """A registered dataset or a user's files, and how to read them.

    Attributes
    ----------
    path: a registered dataset's name, or the path of a file (whose rows go to the splits its
        split column names, else to ``train``).
    train, test: files whose every row goes to the train (test) split; loaded together with
        ``path``, all share one label vocabulary.
    name: the name results and reports show (default: the file name, e.g. ``questions.csv``;
        train and test files: their names joined by ``+``).
    text_column, text_pair_column, label_column, label_columns, split_column, id_column,
    label_names, format, sep, encoding, drop_invalid: how to read the files
        (:func:`~littledata.datasets.userfiles.load_user_file`); for files only.
    """

    path: str | None = None
    train: tuple[str, ...] = ()
    test: tuple[str, ...] = ()
    name: str | None = None
    text_column: str | None = None
    text_pair_column: str | None = None
    label_column: str | None = None
    label_columns: tuple[str, ...] | None = None
    split_column: str | None = None
    id_column: str | None = None
    label_names: tuple[str, ...] | None = None
    format: str | None = None
    sep: str | None = None
    encoding: str = "utf-8"
    drop_invalid: bool = False

    def __post_init__(self) -> None:
        if self.path is None and not self.train and not self.test:
            raise ConfigError(
                "Name the data: a registered dataset or a file (or train/test files)."
            )
        if self.is_registered and self.given_options():
            raise ConfigError(
                f"{self.path!r} is a registered dataset; the options "
                f"{', '.join(self.given_options())} are for your own files only. Leave them out, "
                f"or, to load a file named {self.path!r}, write './{self.path}'."
            )

    # -- building -------------------------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        value: str | os.PathLike[str] | Mapping[str, Any] | DataSource,
        *,
        base: str | os.PathLike[str] | None = None,
        where: str = "",
    ) -> DataSource:
        """A :class:`DataSource` from a string (a name or a path) or a table (a dict).

        Parameters
        ----------
        value: ``"sst2"``, ``"questions.csv"``, ``{"path": ..., "text_column": ...}``, ... (see
            the module docstring), or a DataSource (returned as it is).
        base: the folder relative file paths are read from (a spec file's folder; default: the
            working folder, and paths stay as written).
        where: what the value is, for error messages (e.g. ``"Spec key 'datasets'"``).
        """
        if isinstance(value, DataSource):
            return value
        if isinstance(value, (str, os.PathLike)):
            text = os.fspath(value)
            if not text.strip():
                raise ConfigError(f"{where or 'The data'}: the name of a dataset or file is empty.")
            if is_file_name(text):
                return cls(path=_under(text, base))
            return cls(path=text)
        if isinstance(value, Mapping):
            return cls._from_table(value, base, where)
        raise ConfigError(
            f"{where or 'The data'}: {value!r} is neither a dataset name, a file path nor a table "
            f"of {', '.join(TABLE_KEYS)}."
        )

    @classmethod
    def _from_table(
        cls, table: Mapping[str, Any], base: str | os.PathLike[str] | None, where: str
    ) -> DataSource:
        prefix = f"{where}: " if where else ""
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in TABLE_KEYS:
                close = difflib.get_close_matches(str(key), TABLE_KEYS, n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(
                    f"{prefix}unknown data key {key!r}.{hint} Valid keys: {', '.join(TABLE_KEYS)}."
                )
            if key in ("train", "test", "label_names", "label_columns"):
                items = [value] if isinstance(value, str) else value
                if not isinstance(items, (list, tuple)) or not all(
                    isinstance(v, str) and v.strip() for v in items
                ):
                    raise ConfigError(
                        f"{prefix}data key {key!r} must be a string or a list of non-empty "
                        f"strings; got {value!r}."
                    )
                if key in ("label_names", "label_columns"):
                    values[key] = tuple(items)
                else:
                    values[key] = tuple(_under(v, base) for v in items)
            elif key == "drop_invalid":
                if not isinstance(value, bool):
                    raise ConfigError(f"{prefix}data key 'drop_invalid' must be true or false.")
                values[key] = value
            else:
                if not isinstance(value, str) or (key != "sep" and not value.strip()):
                    raise ConfigError(
                        f"{prefix}data key {key!r} must be a non-empty string; got {value!r}."
                    )
                values[key] = value
        if "path" in values:
            path = values["path"]
            from littledata.datasets.registry import DATASETS

            file_keys = set(values) - {"path"}
            if is_file_name(path) or (file_keys and path not in DATASETS):
                values["path"] = _under(path, base)
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None

    # -- what it is -----------------------------------------------------------------------------

    @property
    def is_registered(self) -> bool:
        """Whether this names a registered dataset (no files)."""
        if self.path is None or self.train or self.test or is_file_name(self.path):
            return False
        from littledata.datasets.registry import DATASETS

        return self.path in DATASETS

    @property
    def is_file(self) -> bool:
        """Whether this names a user's files (not a registered dataset)."""
        return not self.is_registered

    @property
    def files(self) -> list[Path]:
        """The user's files, in load order (none for a registered dataset)."""
        if self.is_registered:
            return []
        paths = [self.path] if self.path is not None else []
        return [Path(p).expanduser() for p in (*paths, *self.train, *self.test)]

    @property
    def display_name(self) -> str:
        """The name results and reports show: ``name``, the registered name, or the file name(s)
        (``questions.csv``; ``train.csv+test.csv``)."""
        if self.name:
            return self.name
        if self.is_registered:
            return str(self.path)
        return "+".join(dict.fromkeys(p.name for p in self.files))

    def given_options(self) -> list[str]:
        """The file options set to something other than their defaults."""
        out = []
        for f in fields(self):
            if f.name in FILE_OPTIONS and getattr(self, f.name) != f.default:
                out.append(f.name)
        return out

    def options(self) -> dict[str, Any]:
        """The file options as keyword arguments of :func:`littledata.load_dataset`."""
        return {k: getattr(self, k) for k in FILE_OPTIONS}

    # -- loading --------------------------------------------------------------------------------

    def load(
        self,
        *,
        mirror: str | os.PathLike[str] | None = None,
        labels: str = "required",
        splits_itself: bool = False,
    ) -> Dataset:
        """Load the data (a registered dataset is downloaded and verified first when needed).

        ``labels="optional"``: a user's rows without a label go to the split ``"unlabeled"``
        (see :func:`littledata.load_dataset`). ``splits_itself``: the caller holds out its own
        test split when the file has none (the benchmark, the simulation), so a file without
        one is no news worth a warning. The dataset is named :attr:`display_name`.
        """
        from littledata.datasets.loading import load_dataset

        if self.is_registered:
            return load_dataset(str(self.path), mirror=mirror)
        options = self.options()
        label_names = options.pop("label_names")
        if splits_itself:
            from littledata.datasets.multifile import quiet_single_split

            with quiet_single_split():
                return self.load(mirror=mirror, labels=labels)
        return load_dataset(
            self.path,
            train=list(self.train) or None,
            test=list(self.test) or None,
            labels=labels,
            name=self.display_name,
            label_names=list(label_names) if label_names is not None else None,
            **options,
        )

    # -- writing --------------------------------------------------------------------------------

    def to_value(self) -> str | dict[str, Any]:
        """The plain form a spec records: the registered name, or a table of the keys that
        differ from their defaults (paths as given, absolute when read from a spec file)."""
        if self.is_registered and self.name is None:
            return str(self.path)
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def is_file_name(text: str) -> bool:
    """Whether ``text`` names a file rather than a registered dataset: it looks like a path (a
    known extension, a separator), or a file of that name exists and no dataset has the name."""
    from littledata.datasets.userfiles import looks_like_file

    if looks_like_file(text):
        return True
    if Path(text).expanduser().is_file():
        from littledata.datasets.registry import DATASETS

        return text not in DATASETS
    return False


def _under(path: str, base: str | os.PathLike[str] | None) -> str:
    """``path`` read from ``base`` (when relative and a base is given)."""
    p = Path(path).expanduser()
    if base is None or p.is_absolute():
        return str(path) if base is None else str(p)
    return os.path.normpath(os.path.join(os.fspath(base), p))


def sources_from(
    values: Sequence[str | Mapping[str, Any] | DataSource],
    *,
    base: str | os.PathLike[str] | None = None,
    where: str = "",
) -> list[DataSource]:
    """:meth:`DataSource.parse` of each value."""
    return [DataSource.parse(v, base=base, where=where) for v in values]
