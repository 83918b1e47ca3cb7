"""The options that say how to read a user's data file, declared once for every command.

Every command that takes data (a registered dataset's name or the path of a file) takes the
same options to read a file: ``--text-column``, ``--text-pair-column``, ``--label-column``,
``--split-column``, ``--id-column``, ``--format``, ``--sep``, ``--encoding``, ``--drop-invalid``,
``--train`` and ``--test``. A command gets them all by decorating itself with
:func:`with_file_options` and taking a ``files: FileOptions`` parameter::

    @app.command()
    @with_file_options
    def train(data: Annotated[str, typer.Argument(help=DATA_HELP)], files: FileOptions) -> None:
        source = files.source(data)          # a DataSource
        ds = source.load(labels="required")  # or "optional" for texts without labels

The options show in the command's help under one heading, and the errors a file can cause name
them (``--text-column`` ...), so every command that reads files must have them all.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from littledata.datasets.source import DataSource

__all__ = ["DATA_HELP", "PANEL", "FileOptions", "with_file_options"]

PANEL = "Reading your data file"
"""The help heading of the file options."""

DATA_HELP = (
    "A registered dataset name (`littledata datasets list`) or your data file: .csv, .tsv, "
    ".jsonl, .json, .parquet or .conll (see the file options below)."
)
"""The help of a command's data argument."""


@dataclass(frozen=True)
class FileOptions:
    """The file options a command was given (see the module docstring)."""

    text_column: str | None = None
    text_pair_column: str | None = None
    label_column: str | None = None
    label_columns: str | None = None
    split_column: str | None = None
    id_column: str | None = None
    file_format: str | None = None
    sep: str | None = None
    encoding: str = "utf-8"
    drop_invalid: bool = False
    train: list[str] = field(default_factory=list)
    test: list[str] = field(default_factory=list)

    def given(self) -> list[str]:
        """The command-line names of the options given (other than their defaults)."""
        out = []
        for f in fields(self):
            if getattr(self, f.name) != _default(f):
                out.append(_OPTION_NAMES[f.name])
        return out

    def source(self, data: str | None) -> DataSource:
        """The :class:`~littledata.datasets.source.DataSource` of the command's data argument
        ``data`` with these options (``--train`` / ``--test`` files loaded with it)."""
        from littledata.datasets.source import DataSource
        from littledata.errors import ConfigError

        base = DataSource.parse(data) if data is not None else None
        if base is not None and base.is_registered:
            extra = self.given()
            if extra:
                raise ConfigError(
                    f"{data!r} is a registered dataset; {', '.join(extra)} "
                    f"{'is' if len(extra) == 1 else 'are'} for your own files only. Leave "
                    f"{'it' if len(extra) == 1 else 'them'} out, or, to read a file named "
                    f"{data!r}, write './{data}'."
                )
            return base
        return DataSource(
            path=base.path if base is not None else None,
            train=tuple(self.train),
            test=tuple(self.test),
            text_column=self.text_column,
            text_pair_column=self.text_pair_column,
            label_column=self.label_column,
            label_columns=_names(self.label_columns),
            split_column=self.split_column,
            id_column=self.id_column,
            format=self.file_format,
            sep=self.sep,
            encoding=self.encoding,
            drop_invalid=self.drop_invalid,
        )


def _names(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated list of names (None when not given)."""
    if value is None:
        return None
    return tuple(n.strip() for n in value.split(",") if n.strip()) or None


def _default(f: Any) -> Any:
    from dataclasses import MISSING

    return f.default_factory() if f.default is MISSING else f.default


def _option(name: str, help: str, flag: str | None = None) -> Any:
    return typer.Option(
        flag or "--" + name.replace("_", "-"),
        help=help,
        rich_help_panel=PANEL,
        show_default=False,
    )


_OPTIONS: list[tuple[str, Any, Any]] = [
    (
        "text_column",
        Annotated[
            str | None,
            _option(
                "text_column",
                "The column of texts (default: the first of text, sentence, sentence1, text_a, "
                "premise, content, review, tweet).",
            ),
        ],
        None,
    ),
    (
        "text_pair_column",
        Annotated[
            str | None,
            _option("text_pair_column", "The column of second texts (makes sentence pairs)."),
        ],
        None,
    ),
    (
        "label_column",
        Annotated[
            str | None,
            _option(
                "label_column",
                "The column of labels (default: label, labels, class, category, target, intent "
                "or sentiment). An empty cell is a row without a label.",
            ),
        ],
        None,
    ),
    (
        "label_columns",
        Annotated[
            str | None,
            _option(
                "label_columns",
                "Comma-separated 0/1 columns, one per label: a multi-label file (a label column "
                "holding a list per row is read as multi-label too).",
            ),
        ],
        None,
    ),
    (
        "split_column",
        Annotated[
            str | None,
            _option(
                "split_column",
                "The column naming each row's split, train/test (default: a column named split).",
            ),
        ],
        None,
    ),
    (
        "id_column",
        Annotated[
            str | None,
            _option("id_column", "A column of row ids to keep (default: a column named id)."),
        ],
        None,
    ),
    (
        "file_format",
        Annotated[
            str | None,
            _option(
                "file_format",
                "The file's format: csv, tsv, jsonl, json, parquet or conll (default: from its "
                "extension).",
                flag="--format",
            ),
        ],
        None,
    ),
    (
        "sep",
        Annotated[str | None, _option("sep", "The CSV/TSV field separator (default: , or a tab).")],
        None,
    ),
    (
        "encoding",
        Annotated[str, _option("encoding", "The file's text encoding (default: utf-8).")],
        "utf-8",
    ),
    (
        "drop_invalid",
        Annotated[
            bool,
            _option(
                "drop_invalid",
                "Drop rows with an empty text (or a missing label, where labels are needed) "
                "instead of refusing the file.",
            ),
        ],
        False,
    ),
    (
        "train",
        Annotated[
            list[str] | None,
            _option(
                "train",
                "Another train file (repeatable), loaded together with the data so that all "
                "share one label vocabulary.",
            ),
        ],
        None,
    ),
    (
        "test",
        Annotated[
            list[str] | None,
            _option(
                "test",
                "A test file (repeatable), loaded together with the data so that all share one "
                "label vocabulary.",
            ),
        ],
        None,
    ),
]

_OPTION_NAMES = {
    "text_column": "--text-column",
    "text_pair_column": "--text-pair-column",
    "label_column": "--label-column",
    "label_columns": "--label-columns",
    "split_column": "--split-column",
    "id_column": "--id-column",
    "file_format": "--format",
    "sep": "--sep",
    "encoding": "--encoding",
    "drop_invalid": "--drop-invalid",
    "train": "--train",
    "test": "--test",
}

F = TypeVar("F", bound=Callable[..., Any])


def with_file_options(func: F) -> F:
    """Give a command every file option; it receives them as its ``files: FileOptions``.

    The command's own parameters come first in its help; the file options follow under the
    heading :data:`PANEL`.
    """
    signature = inspect.signature(func, eval_str=True)
    if "files" not in signature.parameters:
        raise TypeError(f"{func.__name__} must take a 'files: FileOptions' parameter")
    own = [p for p in signature.parameters.values() if p.name != "files"]
    clash = {p.name for p in own} & {name for name, _, _ in _OPTIONS}
    if clash:
        raise TypeError(f"{func.__name__} declares file options itself: {sorted(clash)}")
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default)
        for name, hint, default in _OPTIONS
    ]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name, _, _ in _OPTIONS}
        values["train"] = list(values["train"] or [])
        values["test"] = list(values["test"] or [])
        return func(*args, files=FileOptions(**values), **kwargs)

    # typer calls a command with keywords only: every parameter is keyword-only here
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
    command.__signature__ = signature.replace(parameters=[*params, *added])  # type: ignore[attr-defined]
    command.__annotations__ = {
        p.name: p.annotation for p in [*own, *added] if p.annotation is not p.empty
    }
    return command  # type: ignore[return-value]
