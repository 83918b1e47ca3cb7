"""Commands: ``datasets list``, ``datasets show`` and ``download`` (see littledata.cli).

Thin wrappers: each parses its options and calls one library function in ``littledata.datasets``.
Errors a user can cause are :class:`~littledata.errors.LittleDataError` and are shown by
``littledata.cli.main`` as one line without a traceback.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer

from littledata.cli.app import app
from littledata.cli.data_options import DATA_HELP, FileOptions, with_file_options
from littledata.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from littledata.datasets.base import Dataset
    from littledata.datasets.stats import LengthStats, SplitStats

datasets_app = typer.Typer(
    help="List, inspect and load the registered datasets (or your own labeled files).",
    no_args_is_help=True,
)
app.add_typer(datasets_app, name="datasets")

MirrorOption = Annotated[
    str | None,
    typer.Option(
        "--mirror",
        help="Take the files from a local folder or base URL laid out like "
        "<mirror>/<dataset folder>/<file> (e.g. ../shared/datasets) instead of upstream. "
        "Default: $LITTLEDATA_MIRROR; --mirror '' forces upstream.",
        show_default=False,
    ),
]


def _console() -> Console:
    """A rich console on stdout; wide (160 columns) when stdout is a pipe and $COLUMNS is unset."""
    import os
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


def _task_label(task: object) -> str:
    return str(getattr(task, "value", task))


def _sizes(splits: object) -> str:
    return " · ".join(f"{k} {v:,}" for k, v in dict(splits).items())  # type: ignore[call-overload]


@datasets_app.command("list")
def list_datasets(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON instead of a table.")
    ] = False,
) -> None:
    """One row per registered dataset: name, task, #labels, split sizes, licence (no download)."""
    from rich.markup import escape
    from rich.table import Table

    from littledata.datasets.download import dataset_dir
    from littledata.datasets.registry import list_specs

    specs = list_specs()
    rows = []
    for spec in specs:
        folder = dataset_dir(spec)
        local = all((folder / f.filename).is_file() for f in spec.files)
        rows.append(
            {
                "name": spec.name,
                "task": _task_label(spec.task),
                "labels": len(spec.label_names),
                "splits": dict(spec.splits),
                "license": spec.license,
                "description": spec.description,
                "downloaded": local,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(specs)} registered datasets", title_justify="left")
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("task", no_wrap=True)
    table.add_column("labels", justify="right", no_wrap=True)
    table.add_column("splits (examples)", min_width=12, ratio=2)
    table.add_column("licence (as stated upstream)", min_width=10, ratio=3)
    table.add_column("local", justify="center", no_wrap=True)
    for row in rows:
        table.add_row(
            escape(row["name"]),
            row["task"],
            str(row["labels"]),
            _sizes(row["splits"]),
            escape(row["license"]),  # licences are quoted text: "[...]" is not markup
            "yes" if row["downloaded"] else "",
        )
    console = _console()
    console.print(table)
    console.print(
        "`littledata datasets show NAME` shows statistics and examples; "
        "`littledata download NAME... | --all` fetches the files.",
        markup=False,
    )


def _length_cells(stats: LengthStats) -> list[str]:
    return [f"{stats.p5:,}", f"{stats.p50:,}", f"{stats.p95:,}", f"{stats.max:,}"]


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _print_stats(
    console: Console,
    ds: Dataset,
    stats: list[SplitStats],
    *,
    note: str,
    example_split: str,
    max_labels: int,
    width: int,
) -> None:
    from rich.markup import escape
    from rich.table import Table

    from littledata.datasets.base import Task

    # Names, labels and split names come from the data (a user's file may have a label "[/b]"):
    # they are escaped, never read as rich markup.
    name = f"[bold]{escape(ds.name)}[/]"
    console.print(f"{name}: {escape(ds.description)}" if ds.description else name)
    console.print(
        f"task {ds.task.value} · {ds.num_labels} labels · "
        + " · ".join(f"{s.name} {s.size:,}" for s in stats)
        + (
            " · no labels yet"
            if ds.train_split not in ds.splits
            else f" · train on '{ds.train_split}', test on "
            + (
                f"'{ds.test_split}'"
                if ds.test_split in ds.splits
                else "(no test split: the benchmark holds out a seeded 20% of each label)"
            )
        ),
        markup=False,
    )
    if ds.license:
        console.print(f"licence: {ds.license}", markup=False)
    if note:
        console.print(f"splits: {note}", markup=False)

    what = {
        Task.SEQUENCE_LABELING: "tokens per tag",
        Task.MULTI_LABEL: "examples carrying each label (an example may carry several)",
    }.get(ds.task, "examples per label")
    labels = list(ds.label_names)
    shown = labels if max_labels <= 0 else labels[:max_labels]
    dist = Table(title=f"Label distribution: {what}", title_justify="left")
    dist.add_column("label", overflow="fold")
    for s in stats:
        dist.add_column(escape(s.name), justify="right", no_wrap=True)
    for label in shown:
        dist.add_row(
            escape(label),
            *(f"{s.label_counts[label]:,} ({100 * s.share(label):.1f}%)" for s in stats),
        )
    if ds.task is Task.MULTI_LABEL or any(s.unlabeled for s in stats):
        dist.add_row("(no label)", *(f"{s.unlabeled:,}" for s in stats))
    console.print(dist)
    if len(shown) < len(labels):
        console.print(
            f"… and {len(labels) - len(shown)} more labels (--max-labels 0 shows all).",
            markup=False,
        )

    unit = "tokens" if ds.task is Task.SEQUENCE_LABELING else "words"
    lengths = Table(title="Text length", title_justify="left")
    for col in ("split", "field", "unit", "p5", "p50", "p95", "max"):
        lengths.add_column(col, justify="left" if col in ("split", "field", "unit") else "right")
    for s in stats:
        split = escape(s.name)
        lengths.add_row(split, "text", unit, *_length_cells(s.words))
        lengths.add_row(split, "text", "chars", *_length_cells(s.chars))
        if s.pair_words is not None and s.pair_chars is not None:
            lengths.add_row(split, "text pair", "words", *_length_cells(s.pair_words))
            lengths.add_row(split, "text pair", "chars", *_length_cells(s.pair_chars))
    console.print(lengths)

    chosen = next(s for s in stats if s.name == example_split)
    console.print(f"[bold]Examples[/] (split '{escape(chosen.name)}'):")
    for label in shown:
        for text in chosen.examples.get(label, []):
            console.print(f"  [cyan]{escape(label)}[/]: ", end="")
            console.print(_one_line(text, width), markup=False)


@datasets_app.command("show")
@with_file_options
def show(
    name: Annotated[str, typer.Argument(help=DATA_HELP)],
    files: FileOptions,
    examples: Annotated[int, typer.Option(help="Examples to show per label.")] = 2,
    split: Annotated[
        str | None,
        typer.Option(help="The split to draw examples from (default: the train split)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the example draw.")] = 0,
    max_labels: Annotated[int, typer.Option(help="Show at most this many labels (0: all).")] = 30,
    width: Annotated[int, typer.Option(help="Cut examples to this many characters.")] = 160,
    mirror: MirrorOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
) -> None:
    """Statistics (label distribution, text lengths) and examples of a dataset or of your file.

    A registered dataset is downloaded (and verified) first if needed. Your train and test files
    go together: `datasets show train.csv --test test.csv`. Rows without a label are counted as
    such (split 'unlabeled').
    """
    from littledata.datasets.registry import DATASETS
    from littledata.datasets.stats import dataset_stats, stats_as_dict

    for option, value, low in (
        ("--examples", examples, 0),
        ("--seed", seed, 0),
        ("--max-labels", max_labels, 0),
        ("--width", width, 1),
    ):
        if value < low:
            raise ConfigError(f"{option} must be at least {low}, got {value}.")
    source = files.source(name)
    ds = source.load(mirror=mirror, labels="optional")  # rows without a label are counted
    example_split = split or (
        ds.train_split if ds.train_split in ds.splits else next(iter(ds.splits))
    )
    if example_split not in ds.splits:
        raise ConfigError(
            f"{ds.name} has no split {example_split!r}; its splits: {', '.join(ds.splits)}."
        )
    stats = dataset_stats(ds, examples_per_label=examples, seed=seed)
    if as_json:
        typer.echo(json.dumps({"name": ds.name, "splits": stats_as_dict(stats)}, indent=2))
        return
    spec = DATASETS.get(name, None) if source.is_registered else None
    note = spec.split_note if spec is not None else ""
    _print_stats(
        _console(),
        ds,
        stats,
        note=note,
        example_split=example_split,
        max_labels=max_labels,
        width=width,
    )


@app.command("download")
def download_command(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Registered dataset names (see `littledata datasets list`).", show_default=False
        ),
    ] = None,
    all_datasets: Annotated[
        bool, typer.Option("--all", help="Download every registered dataset.")
    ] = False,
    mirror: MirrorOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Fetch again even files already present and verified.")
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Hash every stored file again (a stored file is otherwise trusted while its "
            "size and modification time are unchanged); fetch any that no longer matches.",
        ),
    ] = False,
) -> None:
    """Fetch datasets' files into the data home, verifying each sha256; skip verified files.

    Files come from upstream (raw.githubusercontent.com at pinned commits) unless a mirror is given.
    """
    from littledata import config
    from littledata.datasets.download import datasets_root, download, upstream_base

    if all_datasets and names:
        raise ConfigError("Pass dataset names or --all, not both.")
    if not all_datasets and not names:
        raise ConfigError(
            "Name at least one dataset to download, or pass --all "
            "(`littledata datasets list` shows the names)."
        )
    source = config.default_mirror() if mirror is None else (mirror.strip() or None)
    console = _console()
    console.print(
        f"Downloading into {datasets_root()} from "
        + (f"the mirror {source}" if source else f"upstream ({upstream_base()})"),
        markup=False,
    )
    started = time.perf_counter()
    results = download(None if all_datasets else names, mirror=mirror, force=force, verify=verify)
    elapsed = time.perf_counter() - started
    fetched = [r for r in results if r.status == "fetched"]
    present = [r for r in results if r.status == "present"]
    folders = sorted({r.folder for r in results})
    mb = sum(r.nbytes for r in fetched) / 1e6
    console.print(
        f"Done in {elapsed:.1f} s: {len(folders)} dataset folders, {len(results)} files verified "
        f"(sha256{', every one hashed again' if verify else ''}); {len(fetched)} fetched "
        f"({mb:.1f} MB), {len(present)} already present.",
        markup=False,
    )
