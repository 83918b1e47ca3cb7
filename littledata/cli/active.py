"""Commands: ``active simulate`` and ``active strategies`` (see littledata.cli).

Thin wrappers around :mod:`littledata.active`: ``simulate`` runs
:func:`littledata.active.simulate.simulate`, stores every run in the results store and prints the
per-strategy label-efficiency table; ``strategies`` lists the registered query strategies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

import typer

from littledata.cli.app import app
from littledata.cli.data_options import FileOptions, with_file_options
from littledata.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

active_app = typer.Typer(
    help="Active learning: which examples to label next, and how many labels that saves.",
    no_args_is_help=True,
)
app.add_typer(active_app, name="active")


def _console() -> Console:
    import os
    import sys

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


def _strategy_names(values: list[str]) -> list[str]:
    from littledata.active.strategies import get_strategy, strategy_names

    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part == "all":  # the strategies of the ranking categories (no cold start, wrapper)
                names += strategy_names()
            else:
                names.append(get_strategy(part).name)
    unique = list(dict.fromkeys(names))
    if not unique:
        raise ConfigError("Name at least one strategy with --strategy (see 'active strategies').")
    return unique


def _pm(mean: float, std: float) -> str:
    return "–" if math.isnan(mean) else f"{mean:.3f} ± {std:.3f}"


def _metric_label(summary: pd.DataFrame) -> str:
    """The curve's metric for the table's headers ("acc." for accuracy)."""
    if "metric" not in summary.columns or not len(summary):
        return "acc."
    metric = str(summary["metric"].iloc[0])
    return "acc." if metric == "accuracy" else metric


def summary_table(summary: pd.DataFrame, title: str = "") -> object:
    """A rich table of :func:`littledata.active.simulate.summarize`'s output."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) or None, title_justify="left")
    metric = _metric_label(summary)
    for name, justify in (
        ("strategy", "left"),
        ("seeds", "right"),
        (f"AULC ({metric})" if metric != "acc." else "AULC", "right"),
        (f"{metric} at budget", "right"),
        ("labels to 95%", "right"),
        ("stop at (seeds)", "right"),
        (f"{metric} at stop", "right"),
        ("s / batch", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    best = summary["aulc"].max()
    for _, r in summary.sort_values("aulc", ascending=False).iterrows():
        l95 = "not reached" if math.isnan(r["labels_to_95"]) else f"{r['labels_to_95']:.0f}"
        stop = f"{r['stop_labels']:.0f} ({int(r['stopped'])})" if r["stopped"] else "– (0)"
        aulc = _pm(r["aulc"], r["aulc_std"])
        table.add_row(
            str(r["strategy"]),
            str(int(r["seeds"])),
            f"[bold]{aulc}[/]" if r["aulc"] == best else aulc,
            _pm(r["accuracy_at_budget"], r["accuracy_at_budget_std"]),
            l95,
            stop,
            "–" if math.isnan(r["stop_accuracy"]) else f"{r['stop_accuracy']:.3f}",
            "–" if math.isnan(r["seconds_per_query"]) else f"{r['seconds_per_query']:.2f}",
        )
    return table


@active_app.command("simulate")
@with_file_options
def simulate_command(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="A registered dataset name or your labeled data file (.csv, .tsv, .jsonl, "
            ".json, .parquet; read with the file options below). A file without a test split "
            "gets a seeded, held-out 20% of each label as its test split.",
        ),
    ],
    files: FileOptions,
    strategy: Annotated[
        list[str],
        typer.Option(
            "--strategy",
            "-s",
            help="Strategies to compare (repeat the option or separate by commas; 'all' for "
            "every ranking strategy).",
        ),
    ] = ["random", "margin"],  # noqa: B006 (typer reads the default, never mutates it)
    init: Annotated[int, typer.Option(help="Labels before the first query.")] = 20,
    init_strategy: Annotated[
        str, typer.Option(help="How the first labels are chosen: random or cold-start.")
    ] = "random",
    batch: Annotated[int, typer.Option(help="Labels per query.")] = 10,
    budget: Annotated[int, typer.Option(help="Stop at this many labels.")] = 500,
    seeds: Annotated[int, typer.Option(help="Runs per strategy (seeds 0..N-1).")] = 5,
    featurizer: Annotated[
        str, typer.Option("--featurizer", "-f", help="Featurizer name.")
    ] = "minilm",
    head: Annotated[str, typer.Option(help="Head name.")] = "logreg",
    head_param: Annotated[
        list[str] | None,
        typer.Option(
            "--head-param",
            help="A head parameter as KEY=VALUE (repeat the option), e.g. max_steps=50 for the "
            "finetune head.",
            show_default=False,
        ),
    ] = None,
    pool_cap: Annotated[
        int, typer.Option(help="At most this many pool rows (seeded; 0: the whole train split).")
    ] = 20000,
    test_cap: Annotated[
        int, typer.Option(help="At most this many test rows (seeded; 0: the whole test split).")
    ] = 2000,
    subsample: Annotated[
        int | None, typer.Option(help="Score at most this many pool rows per query (speed).")
    ] = None,
    stop_threshold: Annotated[
        float, typer.Option(help="Stopping criterion: mean kappa to reach.")
    ] = 0.99,
    stop_window: Annotated[int, typer.Option(help="Stopping criterion: rounds averaged.")] = 3,
    mirror: Annotated[
        str | None,
        typer.Option(help="Local folder or base URL of a dataset mirror.", show_default=False),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Results store URL (default: the data home's results.sqlite)."),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Worker processes for the runs (1: in this process; 0: every usable core). "
            "The results do not depend on it.",
        ),
    ] = 1,
) -> None:
    """Simulate active learning on a labeled dataset (registered, or your file) and print each
    strategy's label efficiency.

    The train split is the pool with its labels hidden; every run (strategy x seed) is stored in
    the results store (kind 'active'); runs already stored are not run again (a changed file
    gets new runs: its content is part of every run's key).
    """
    from littledata.active.simulate import simulate
    from littledata.experiments.store import ResultsStore

    names = _strategy_names(strategy)
    head_params = _head_params(head_param or [])
    source = files.source(dataset)
    store = ResultsStore(db)
    result = simulate(
        source,
        names,
        featurizer=featurizer,
        head=head,
        head_params=head_params or None,
        init=init,
        init_strategy=init_strategy,
        batch=batch,
        budget=budget,
        seeds=seeds,
        pool_cap=pool_cap,
        test_cap=test_cap,
        subsample=subsample,
        stop_threshold=stop_threshold,
        stop_window=stop_window,
        store=store,
        mirror=mirror,
        n_jobs=jobs,
    )
    console = _console()
    summary = result.summary
    name = source.display_name
    title = f"{name} · {featurizer} + {head} · init {init} ({init_strategy}) · batch {batch}"
    if result.split_note:
        console.print(f"{name}: {result.split_note}", markup=False)
    console.print(summary_table(summary, title))
    if len(summary):
        ref = summary["reference_accuracy"].iloc[0]
        rows = f" ({result.reference_size:,} {result.unit})" if result.reference_size else ""
        console.print(
            f"{head} on the whole training split{rows}: {summary['metric'].iloc[0]} {ref:.3f}; "
            "labels to 95% is "
            f"the first point where the mean curve reaches {0.95 * ref:.3f}.",
            markup=False,
        )
    console.print(
        f"{result.ran} run(s) simulated, {result.skipped} already stored; store: {store.url}",
        markup=False,
    )


def _head_params(items: list[str]) -> dict[str, object]:
    """``--head-param KEY=VALUE`` options as a dict (values read as TOML when they can be)."""
    from littledata.experiments.report_settings import parse_value

    out: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--head-param {item!r} is not KEY=VALUE (e.g. max_steps=50).")
        out[key.strip()] = parse_value(text.strip())
    return out


@active_app.command("strategies")
def strategies_command() -> None:
    """List the query strategies: name, kind, what they need, the data they handle, and what
    they do."""
    from rich.markup import escape
    from rich.table import Table

    from littledata.active.strategies import list_strategies

    table = Table()
    table.add_column("strategy")
    table.add_column("kind")
    table.add_column("needs")
    table.add_column("data")
    table.add_column("what it does", overflow="fold")
    for info in list_strategies():
        if info.category == "wrapper":
            needs = "as its base"
        else:
            needs = "probabilities" if info.needs_proba else "a model" if info.needs_model else "–"
        data = "as its base" if info.category == "wrapper" else ", ".join(info.tasks)
        table.add_row(info.name, info.category, needs, data, escape(info.description))
    _console().print(table)
