"""Commands: bench, results, report (see littledata.cli and docs/benchmark.md).

Thin wrappers: ``bench`` calls :func:`littledata.experiments.runner.run_benchmark` and then
:func:`littledata.report.write_report`; ``results`` prints :func:`littledata.experiments.results.
aggregate` as tables; ``report`` writes the HTML report from the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from littledata.cli.app import app
from littledata.cli.data_options import FileOptions, with_file_options

if TYPE_CHECKING:
    from rich.console import Console

    from littledata.experiments.estimate import WorkPlan

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy URL of the results store (default: SQLite in the data home).",
        show_default=False,
    ),
]  # fmt: skip
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out", help="Folder for the report (default: <data home>/reports/bench).",
        show_default=False,
    ),
]  # fmt: skip


_OVERRIDES_HELP = (
    "Spec overrides as KEY=VALUE, e.g. datasets=sst2,trec sizes=20,50 seeds=3 "
    "train_pool_cap=1000 (any spec key; see docs/benchmark.md)."
)


COLLAPSE = "⚠"


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _console() -> Console:
    import os
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


def _with_files(entries: list[str], files: FileOptions) -> list[object]:
    """``--datasets`` entries with the file options applied to the files among them."""
    from littledata.datasets.source import is_file_name
    from littledata.errors import ConfigError

    out: list[object] = []
    n_files = sum(1 for e in entries if is_file_name(e))
    if (files.train or files.test) and n_files != 1:
        raise ConfigError(
            "--train and --test are loaded with the one data file in --datasets; "
            f"--datasets names {n_files} files."
        )
    given = files.given()
    if given and n_files == 0:
        raise ConfigError(
            f"{', '.join(given)} {'says' if len(given) == 1 else 'say'} how to read your files, "
            "but --datasets names none (e.g. --datasets questions.csv)."
        )
    for entry in entries:
        out.append(files.source(entry) if is_file_name(entry) else entry)
    return out


@app.command()
@with_file_options
def bench(
    overrides: Annotated[
        list[str] | None, typer.Argument(help=_OVERRIDES_HELP, show_default=False)
    ] = None,
    files: FileOptions = FileOptions(),  # noqa: B008  (filled by with_file_options)
    quick: Annotated[
        bool, typer.Option("--quick", help="The quick spec: 3 datasets, 3 seeds (minutes).")
    ] = False,
    spec_file: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help="A TOML spec file (default: the packaged default spec).",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    datasets: Annotated[
        str | None,
        typer.Option(
            "--datasets",
            help="Comma-separated registered dataset names, selectors (all, task:single-label, "
            "...) or your data files (.csv, .tsv, .jsonl, .json, .parquet; read with the file "
            "options below). A file without a test split gets a seeded, held-out 20% of each "
            "label as its test split.",
            show_default=False,
        ),
    ] = None,
    featurizers: Annotated[
        str | None, typer.Option("--featurizers", help="Comma-separated featurizers.")
    ] = None,
    heads: Annotated[str | None, typer.Option("--heads", help="Comma-separated heads.")] = None,
    seeds: Annotated[int | None, typer.Option("--seeds", help="Number of seeds.")] = None,
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            help="Folder or base URL to fetch dataset files from (default: $LITTLEDATA_MIRROR).",
            show_default=False,
        ),
    ] = None,
    out: OutOption = None,
    db: DbOption = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            help="Worker processes (default: the spec's n_jobs; 0 = all cores; capped at the "
            "usable cores).",
            show_default=False,
        ),
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Run the trials only.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Plan only: say what would run and what is skipped."),
    ] = False,
) -> None:
    """Run a benchmark spec (default: the full default benchmark) on registered datasets or
    your own files, then write the report.

    Trials already in the results store are skipped, so an interrupted run resumes where it
    stopped; a changed file gets new trials (its content is part of every trial's key).
    """
    from littledata.errors import ConfigError
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec, parse_overrides
    from littledata.experiments.store import ResultsStore

    if quick and spec_file is not None:
        raise ConfigError("--quick and --spec both name a spec; give one of them.")
    values = parse_overrides(overrides or [])
    for key, flag in (("datasets", datasets), ("featurizers", featurizers), ("heads", heads)):
        if flag is not None:
            values[key] = _split(flag)
    if "datasets" in values or files.given():
        named = values.get("datasets", [])
        named = [named] if isinstance(named, str) else named
        if all(isinstance(e, str) for e in named):
            values["datasets"] = _with_files(named, files)
    if seeds is not None:
        values["seeds"] = seeds
    if jobs is not None:
        values["n_jobs"] = jobs
    spec = load_spec(spec_file, values, packaged="quick" if quick else "default")
    if not no_report:  # a bad --out is said before any trial runs, not after
        from littledata.report.bench import report_dir

        report_dir(out)
    store = ResultsStore(db)
    typer.echo(f"Benchmark {spec.name!r} ({spec.source}); results go to {store.url}", err=True)

    def say_plan(work: WorkPlan) -> None:
        for line in work.lines():
            typer.echo(line, err=True)

    summary = run_benchmark(spec, store=store, mirror=mirror, dry_run=dry_run, on_plan=say_plan)
    if dry_run:
        typer.echo(
            f"dry run: {summary.planned} trials planned, {summary.already_stored} already stored, "
            f"{summary.planned - summary.already_stored} would run on {summary.workers} worker(s)"
        )
        for line in summary.lines()[3:]:
            typer.echo(line)
        return
    for line in summary.lines():
        typer.echo(line)
    if not no_report:
        from littledata.report import write_report

        path = write_report(
            store, out, keys=summary.keys, metrics=spec.metrics, primary_metric=spec.primary_metric
        )
        typer.echo(f"Report: {path}")


@app.command()
def results(
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset", "-d", help="Only this dataset (repeat for several).", show_default=False
        ),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            "-m",
            help="Metric to show, with accuracy beside it (default: the latest run's "
            "primary_metric, macro_f1 unless the spec names another).",
            show_default=False,
        ),
    ] = None,
    featurizer: Annotated[
        list[str] | None,
        typer.Option("--featurizer", help="Only this featurizer.", show_default=False),
    ] = None,
    head: Annotated[
        list[str] | None, typer.Option("--head", help="Only this head.", show_default=False)
    ] = None,
    db: DbOption = None,
) -> None:
    """Print mean ± std over seeds per training size for each featurizer × head, accuracy beside
    it, and mark cells where a trial's predictions collapsed onto one class."""
    from rich.markup import escape
    from rich.table import Table

    from littledata.errors import LittleDataError, unknown_name
    from littledata.experiments.results import (
        aggregate,
        collapse_counts,
        datasets_info,
        describe_data,
        latest_content,
        method_label,
        newest_protocol,
    )
    from littledata.experiments.spec import DEFAULT_PRIMARY_METRIC
    from littledata.experiments.store import ResultsStore

    store = ResultsStore(db, create=False)
    filters = {}
    if dataset:
        filters["dataset"] = list(dataset)
    if featurizer:
        filters["featurizer"] = list(featurizer)
    if head:
        filters["head"] = list(head)
    frame = store.frame("bench", **filters)
    if frame.empty:
        everything = store.frame("bench")
        if everything.empty:
            raise LittleDataError(
                f"The results store {store.url} holds no benchmark results yet. Run "
                "`littledata bench --quick` (or `littledata bench`) first."
            )
        for column, wanted in filters.items():
            for name in wanted:
                if name not in set(everything[column]):
                    raise unknown_name(f"{column} with results", name, set(everything[column]))
        raise LittleDataError("No stored results match these filters together.")
    frame = newest_protocol(frame)
    if metric is None:
        runs = [r for r in store.runs("bench") if r["summary"] is not None]
        spec = runs[-1]["spec"] if runs else {}
        metric = spec.get("primary_metric", DEFAULT_PRIMARY_METRIC)
        if metric not in set(frame["metric"]):
            metric = "accuracy"
    if metric not in set(frame["metric"]):
        raise unknown_name("metric", metric, set(frame["metric"]))
    frame, older = latest_content(frame)
    about = datasets_info(store.runs("bench"))
    beside = "accuracy" if metric != "accuracy" and "accuracy" in set(frame["metric"]) else None
    # a dataset whose task does not measure the metric shows its task's primary one instead
    from littledata.tasks import TASK_TYPES, task_metrics

    tasks = dict(frame.groupby("dataset")["task"].first()) if "task" in frame else {}
    own = {d: task_metrics(str(t), [metric])[0] for d, t in tasks.items()}
    units = {d: TASK_TYPES[str(t)].unit for d, t in tasks.items() if str(t) in TASK_TYPES}
    shown = list(dict.fromkeys([metric, *own.values()]))
    agg = aggregate(frame, shown + ([beside] if beside else []))
    counts = collapse_counts(frame).set_index(
        ["dataset", "featurizer", "head", "resampling", "size_mode", "size"]
    )
    flags = counts.loc[counts["n_collapsed"] > 0, ["n_collapsed", "n_trials"]]
    console = _console()
    for name in sorted(agg["dataset"].unique()):
        if about.get(name, {}).get("files"):  # a user's data: what it is, how it was split
            console.print(f"{name}: {describe_data(about[name])}", markup=False)
        if older.get(name):
            console.print(
                f"{name}: the file changed since earlier runs; only the trials of its latest "
                f"content are shown ({older[name]} older measurements left out).",
                markup=False,
            )
        sub = agg[agg["dataset"] == name]
        name_metric = own.get(name, metric)
        for mode in sorted(sub["size_mode"].unique()):
            part = sub[sub["size_mode"] == mode]
            main = part[part["metric"] == name_metric]
            sizes = sorted(main["size"].unique())
            n_max = int(main["n"].max())
            unit = " per class" if mode == "per_class" else ""
            also = " (accuracy below)" if beside and (part["metric"] == beside).any() else ""
            rows = units.get(name, "rows")
            table = Table(
                title=escape(f"{name}: {name_metric}{also}, mean ± std over {n_max} seeds ")
                + f"(columns: training {rows}{unit}; (n=k): fewer seeds; {COLLAPSE} k/n: k trials' "
                "predictions collapsed onto one class)",
                title_justify="left",
            )
            table.add_column("featurizer + head", no_wrap=True)
            for size in sizes:
                table.add_column(str(int(size)), justify="right", no_wrap=True)
            for (feat, hd, res), grp in main.groupby(["featurizer", "head", "resampling"]):
                by = grp.set_index("size")
                acc = part[
                    (part["metric"] == beside)
                    & (part["featurizer"] == feat)
                    & (part["head"] == hd)
                    & (part["resampling"] == res)
                ].set_index("size")
                cells = []
                for size in sizes:
                    if size not in by.index:
                        cells.append("–")
                        continue
                    r = by.loc[size]
                    std = "–" if r["std"] != r["std"] else f"{r['std']:.3f}"
                    fewer = "" if int(r["n"]) == n_max else f" (n={int(r['n'])})"
                    cell = f"{r['mean']:.3f} ± {std}{fewer}"
                    key = (name, feat, hd, res, mode, size)
                    if key in flags.index:
                        k, n = flags.loc[key]
                        cell = f"[bold red]{COLLAPSE} {int(k)}/{int(n)}[/] {cell}"
                    if beside and size in acc.index:
                        cell += f"\n[dim]acc {acc.loc[size]['mean']:.3f}[/]"
                    cells.append(cell)
                table.add_row(escape(method_label(feat, hd, res)), *cells)
            console.print(table)


@app.command()
def report(
    out: OutOption = None,
    db: DbOption = None,
    all_trials: Annotated[
        bool, typer.Option("--all", help="Report every stored trial, not only the latest run's.")
    ] = False,
    active: Annotated[
        list[str] | None,
        typer.Option(
            "--active",
            help="Add the active-learning runs that match FIELD=VALUE (e.g. dataset=trec, "
            "strategy=margin; repeat to combine), 'all' for every run in the store, or 'none'. "
            "Replaces the latest run's spec's [report] active.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write the HTML report (recommendation by size, critical-difference diagrams, learning
    curves, rank table, spec, caps, versions) and its figures."""
    from littledata.experiments.spec import active_filters
    from littledata.experiments.store import ResultsStore
    from littledata.report import write_report

    chosen: dict[str, list[object]] | bool | None = None  # None: as the run's spec says
    if active:
        chosen = active_filters(active, where="--active")
        chosen = False if chosen is None else chosen
    path = write_report(ResultsStore(db, create=False), out, all_trials=all_trials, active=chosen)
    typer.echo(f"Report: {path}")
