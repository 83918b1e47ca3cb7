"""The benchmark report: a self-contained HTML page plus PNG and SVG figures.

:func:`write_report` reads the results store and writes into ``out_dir``:

- ``report.html``: readable offline (figures embedded as base64 PNG, inline CSS, no scripts):
  the overall ranking of featurizer × head by mean rank across datasets at each size (by the
  spec's primary metric, with the rank by accuracy beside it) and the recommended method (never
  one whose predictions collapsed onto one class in some trial; collapsed cells are marked ⚠ in
  tables and curves), one learning curve figure per dataset (mean ± std over seeds, the tf-idf
  baseline on every plot), an active-learning section for the runs asked for (``active``),
  skipped and failed trials, and at the bottom the exact spec, caps and library versions;
- ``curves_<dataset>.png`` / ``.svg`` per dataset and ``ranks.png`` / ``.svg``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from littledata.errors import ConfigError, LittleDataError
from littledata.experiments.results import (
    aggregate,
    collapse_counts,
    dataset_metrics,
    datasets_info,
    describe_data,
    family_metric,
    head_families,
    latest_content,
    mean_ranks,
    method_collapses,
    newest_protocol,
    rank_table,
    recommended,
    with_task_primary,
)
from littledata.experiments.spec import (
    BASELINE,
    DEFAULT_PRIMARY_METRIC,
    ExperimentSpec,
    ReportSettings,
    spec_to_toml,
)
from littledata.experiments.store import ResultsStore
from littledata.report.figures import (
    METRIC_NAMES,
    figure_html,
    learning_curve_figure,
    rank_figure,
    save_figure,
    style_for,
)
from littledata.report.mistakes import mistakes_maker
from littledata.report.recommend import by_size_html, by_task_html
from littledata.report.tables import (
    COLLAPSE_MARK,
    mean_std_html,
    rank_table_html,
    recommendation_html,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["REPORT_FILE", "default_report_dir", "write_report"]

REPORT_FILE = "report.html"
DEFAULT_METRICS = ("accuracy", "macro_f1")


def default_report_dir() -> Path:
    """``<data home>/reports/bench``: where reports go unless told otherwise."""
    from littledata.config import subdir

    return subdir("reports") / "bench"


def report_dir(out_dir: str | Path | None = None) -> Path:
    """The report folder (``out_dir``, or :func:`default_report_dir`), created if missing.

    Raises :class:`~littledata.errors.ConfigError` when it cannot be used (a file, not writable),
    so ``bench`` can say so before it runs any trial.
    """
    out = Path(out_dir).expanduser() if out_dir is not None else default_report_dir()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"The report folder {out} is a file; pass --out a folder.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the report folder {out}: {exc.strerror or exc}."
        ) from None
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _latest_run(store: ResultsStore) -> dict[str, Any] | None:
    finished = [r for r in store.runs("bench") if r["summary"] is not None]
    return finished[-1] if finished else None


def _spec_from_dict(data: dict[str, Any]) -> ExperimentSpec | None:
    from littledata.datasets.source import DataSource

    try:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        values["datasets"] = tuple(
            DataSource.parse(d) if isinstance(d, dict) else d for d in values.get("datasets", ())
        )
        values["report"] = ReportSettings.parse(values.get("report", {}))
        return ExperimentSpec(**values)
    except (TypeError, LittleDataError):
        return None


def write_report(
    store: ResultsStore | None = None,
    out_dir: str | Path | None = None,
    *,
    keys: Collection[str] | None = None,
    all_trials: bool = False,
    metrics: Sequence[str] | None = None,
    primary_metric: str | None = None,
    active: Mapping[str, Sequence[Any]] | bool | None = None,
    examples: bool = True,
) -> Path:
    """Write the benchmark report and return the path of its HTML page.

    Parameters
    ----------
    store: the results store (default: the one in the data home).
    out_dir: the folder to write into (default :func:`default_report_dir`).
    keys: report exactly these trials. By default the trials of the latest finished run of
        ``littledata bench`` (or every stored trial when there is no run record).
    all_trials: report every benchmark trial in the store.
    metrics: the metrics to show beside the primary one (default: the run's spec ``metrics``).
    primary_metric: the metric that ranks (default: the run's spec ``primary_metric``, else
        :data:`~littledata.experiments.spec.DEFAULT_PRIMARY_METRIC`); accuracy is always shown
        beside it.
    active: the active-learning runs to show, as filters on their configuration (``{}``: every
        run in the store; ``{"dataset": ["trec"]}``: those on trec; see
        :func:`~littledata.experiments.spec.active_filters`); ``False``: none. ``None`` (the
        default): those the latest run's spec asks for in its ``[report] active``, and none
        when it asks for none, so a benchmark's report never mixes in unrelated simulations.
    examples: per dataset, recompute the recommended method's predictions on one trial for
        per-class scores, a confusion matrix and misclassified texts
        (:mod:`littledata.report.mistakes`; needs the datasets at hand).

    Raises
    ------
    LittleDataError: the store holds no benchmark or active-learning results.
    """
    store = store or ResultsStore()
    out = report_dir(out_dir)
    from littledata.io import remove_abandoned_temps_in

    remove_abandoned_temps_in(out, (".html", ".png", ".svg"))  # what killed reports left
    run = _latest_run(store)
    spec = _spec_from_dict(run["spec"]) if run else None
    if keys is None and not all_trials and run is not None:
        keys = run["summary"].get("keys")
    frame = store.frame("bench")
    if keys is not None and not frame.empty:
        frame = frame[frame["key"].isin(set(keys))]
    frame = newest_protocol(frame)
    frame, _older = latest_content(frame)  # a changed file: its latest content only
    about = datasets_info(store.runs("bench"))
    metrics = list(metrics or (spec.metrics if spec else DEFAULT_METRICS))
    primary = primary_metric or (spec.primary_metric if spec else DEFAULT_PRIMARY_METRIC)
    metrics = list(dict.fromkeys([primary, "accuracy", *metrics]))
    filters = _active_choice(active, spec)
    active_runs = _active_frame(store, filters) if filters is not None else None
    if frame.empty and (active_runs is None or active_runs.empty):
        raise LittleDataError(
            f"The results store {store.url} holds no benchmark results to report. Run "
            "`littledata bench` (or `littledata bench --quick`) first, or pass --db for another "
            "store."
        )

    parts: list[str] = []
    toc: list[tuple[str, str]] = []
    figures: list[Path] = []
    if not frame.empty:
        mistakes = mistakes_maker(store, spec) if examples else None
        parts += _bench_sections(frame, metrics, run, out, toc, figures, about, mistakes)
    if active_runs is not None and filters is not None:
        parts.append(_active_section(active_runs, out, filters))
        toc.append(("active", "Active learning"))
    parts.append(_problems_section(store, run, keys))
    toc.append(("problems", "Skipped and failed"))
    parts.append(_provenance_section(store, frame, run, spec))
    toc.append(("provenance", "Spec, caps and versions"))

    n_trials = frame["key"].nunique() if not frame.empty else 0
    header = (
        f"<p class='meta'>Generated {html.escape(_now())} from <code>{html.escape(store.url)}"
        f"</code>: {n_trials} benchmark trials"
        + (f", {frame['dataset'].nunique()} datasets" if n_trials else "")
        + (f" (spec <b>{html.escape(spec.name)}</b>)" if spec else "")
        + ".</p>"
    )
    nav = "<nav><b>Contents</b><ul>" + "".join(
        f"<li><a href='#{a}'>{html.escape(t)}</a></li>" for a, t in toc
    )
    nav += "</ul></nav>"
    page = _PAGE.format(
        style=_STYLE, body=header + nav + "\n".join(parts), title="littledata benchmark report"
    )
    from littledata.io import atomic_write_text

    path = out / REPORT_FILE
    atomic_write_text(path, page)
    log.info("report written to %s (%d figures)", path, len(figures))
    return path


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _active_choice(
    active: Mapping[str, Sequence[Any]] | bool | None, spec: ExperimentSpec | None
) -> dict[str, list[Any]] | None:
    """The active-learning filters to apply (``{}``: every run), or ``None`` for no section."""
    if active is None:  # as the run's spec says ([report] active)
        return spec.report.active_filters() if spec else None
    if isinstance(active, bool):
        return {} if active else None
    return {k: list(v) for k, v in active.items()}


def _active_frame(store: ResultsStore, filters: Mapping[str, Sequence[Any]]) -> pd.DataFrame | None:
    try:
        return store.frame("active", **{k: list(v) for k, v in filters.items()})
    except Exception as exc:  # the active-learning rows are optional; never lose the report
        log.warning("could not read active-learning results: %s", exc)
        return None


def _active_section(active: pd.DataFrame, out: Path, filters: Mapping[str, list[Any]]) -> str:
    if active.empty:
        which = ", ".join(
            f"{k} = {' or '.join(str(v) for v in values)}" for k, values in filters.items()
        )
        body = (
            "<p>No active-learning run in the store "
            + (f"matches {html.escape(which)}" if which else "yet")
            + " (<code>littledata active simulate</code> stores them).</p>"
        )
        return f"<section id='active'><h2>Active learning</h2>{body}</section>"
    try:
        from littledata.report.active import render_active_section
    except ImportError:
        body = "<p>The store holds active-learning runs, but this littledata has no renderer.</p>"
    else:
        try:
            body = render_active_section(active, out)
        except Exception as exc:
            log.warning("the active-learning section failed: %s", exc)
            body = f"<p>The active-learning section could not be drawn: {html.escape(str(exc))}</p>"
    return f"<section id='active'><h2>Active learning</h2>{body}</section>"


def _bench_sections(
    frame: pd.DataFrame,
    metrics: list[str],
    run: dict[str, Any] | None,
    out: Path,
    toc: list[tuple[str, str]],
    figures: list[Path],
    about: dict[str, dict[str, Any]] | None = None,
    mistakes: Any = None,
) -> list[str]:
    about = about or {}
    agg = aggregate(with_task_primary(frame, metrics[0]))  # each task ranked by its own primary
    counts = collapse_counts(frame)
    primary = metrics[0]
    featurizers = sorted(agg["featurizer"].unique())
    heads = sorted(agg["head"].unique())
    styles = style_for(featurizers, heads)
    caps = (run or {}).get("summary", {}).get("caps", {}) if run else {}
    baseline_resampling = _baseline_resampling(agg)
    sections = []

    # overall ranking: one per family of tasks that share their heads (docs/tasks.md), each with
    # its own recommendation, by-size sentences and critical-difference diagrams from its own
    # datasets, by its tasks' primary metric (entity F1 for entity tags)
    rank_html = []
    chosen: dict[str, str | None] = {}  # dataset -> the method recommended for its family
    metric_of: dict[str, str] = {}  # dataset -> the metric its family ranks by
    families = head_families(frame)
    for family, family_datasets in families.items():
        metric = family_metric(frame, family_datasets, primary)
        rows_unit = _rows_unit(frame, family_datasets)
        if len(families) > 1:
            by = "" if metric == primary else f", ranked by {METRIC_NAMES.get(metric, metric)}"
            rank_html.append(
                f"<h3>{html.escape(family)} heads: {html.escape(', '.join(family_datasets))}"
                f"{html.escape(by)}</h3>"
            )
        in_family = agg[agg["dataset"].isin(family_datasets)]
        family_frame = with_task_primary(frame[frame["dataset"].isin(family_datasets)], primary)
        family_counts = counts[counts["dataset"].isin(family_datasets)]
        suffix = "" if family == next(iter(families)) else f"_{_slug(family)}"
        family_choice = None
        tasks = _tasks_of(frame, family_datasets)
        for mode in sorted(in_family["size_mode"].unique()):
            part = in_family[in_family["size_mode"] == mode]
            ranks = mean_ranks(part, metric)
            collapses = method_collapses(family_counts[family_counts["size_mode"] == mode])
            table = rank_table(ranks, collapses)
            if table.empty:
                continue
            by_accuracy, accuracy_note = None, ""
            if metric != "accuracy":
                acc = rank_table(mean_ranks(part, "accuracy"))
                if not acc.empty:
                    by_accuracy = acc["overall"]
                    measured = part.loc[part["metric"] == "accuracy", "dataset"].nunique()
                    if measured < len(family_datasets):
                        accuracy_note = f"{measured} of {len(family_datasets)} datasets measure it"
            stem = ("ranks" if mode == "total" else f"ranks_{mode}") + suffix
            fig = rank_figure(table, metric, per_class=mode == "per_class", rows=rows_unit)
            png_path, svg_path, png = save_figure(fig, out, stem)
            figures += [png_path, svg_path]
            n_ds = ranks.groupby("size")["n_datasets"].max()
            family_choice = family_choice or recommended(table, collapses)
            rank_html.append(recommendation_html(table, collapses, metric, mode))
            rank_html.append(by_task_html(in_family, family_counts, tasks, metric, mode))
            rank_html.append(
                rank_table_html(
                    table, n_ds, mode, collapses, by_accuracy, accuracy_note, rows=rows_unit
                )
            )
            rank_html.append(figure_html(png, [svg_path, png_path], f"mean rank by {metric}"))
            rank_html.append(
                by_size_html(family_frame, in_family, collapses, metric, mode, out, figures,
                             stem_suffix=suffix, rows=rows_unit)
            )  # fmt: skip
        for dataset in family_datasets:
            chosen[dataset], metric_of[dataset] = family_choice, metric
    name = html.escape(METRIC_NAMES.get(primary, primary))
    sections.append(
        "<section id='ranking'><h2>Overall ranking</h2>"
        f"<p>Each featurizer × head is ranked within every dataset and training size by its mean "
        f"{name} over seeds (1 = best, ties share the average rank); the table shows the mean of "
        "those ranks across datasets, and the mean rank by accuracy beside it. Rows are sorted by "
        f"the mean over sizes. {COLLAPSE_MARK}<i>k</i> marks a method whose predictions "
        "<b>collapsed</b> onto one class (one class for at least 95% of the test rows while at "
        "least 10% of them are of other classes) in some trial on <i>k</i> datasets at that "
        "size: such a method is listed after the others and never recommended.</p>"
        + "".join(rank_html)
        + "</section>"
    )
    toc.append(("ranking", "Overall ranking"))

    # learning curves per dataset
    items = []
    datasets = sorted(agg["dataset"].unique())
    jobs = []
    for dataset in datasets:
        sub = agg[agg["dataset"] == dataset]
        flags = counts[counts["dataset"] == dataset]
        subtitle = _subtitle(frame[frame["dataset"] == dataset], caps.get(dataset))
        jobs.append(
            (sub, dataset, dataset_metrics(frame, dataset, metrics)[:3], styles, subtitle, out,
             f"curves_{_slug(dataset)}", flags, baseline_resampling, _rows_unit(frame, [dataset]))
        )  # fmt: skip
    from littledata import progress

    shown = progress.track(datasets, desc="report", unit="dataset")
    for dataset, (png_path, svg_path, png) in zip(
        shown, (_render_curves(job) for job in jobs), strict=True
    ):
        sub = agg[agg["dataset"] == dataset]
        flags = counts[counts["dataset"] == dataset]
        figures += [png_path, svg_path]
        anchor = f"ds-{_slug(dataset)}"
        items.append(
            f"<article id='{anchor}'><h3>{html.escape(dataset)}</h3>"
            + _data_note(about.get(dataset, {}))
            + figure_html(png, [svg_path, png_path], f"learning curves of {dataset}")
            + "<details><summary>mean ± std table</summary>"
            + mean_std_html(sub, dataset_metrics(frame, dataset, metrics)[0], flags)
            + "</details>"
            + (
                mistakes(frame, dataset, chosen[dataset], metric_of[dataset])
                if mistakes and chosen.get(dataset)
                else ""
            )
            + "</article>"
        )
    links = " · ".join(f"<a href='#ds-{_slug(d)}'>{html.escape(d)}</a>" for d in datasets)
    sections.append(
        "<section id='curves'><h2>Learning curves</h2>"
        "<p>Mean over seeds (line) ± one standard deviation (band); the tf-idf + logistic "
        "regression baseline is the thick black dashed line. A red cross marks a point where the "
        "predictions of at least one seed collapsed onto one class. Training rows are drawn from "
        f"the capped train pool only; scores are on the capped test split.</p><p>{links}</p>"
        + "".join(items)
        + "</section>"
    )
    toc.append(("curves", "Learning curves"))
    return sections


def _tasks_of(frame: pd.DataFrame, datasets: list[str]) -> dict[str, list[str]]:
    """Task type → its datasets among ``datasets`` (one entry when the frame has no tasks)."""
    if "task" not in frame:
        return {"": list(datasets)}
    task = frame[frame["dataset"].isin(datasets)].groupby("dataset")["task"].first()
    out: dict[str, list[str]] = {}
    for dataset in datasets:
        out.setdefault(str(task.get(dataset, "")), []).append(dataset)
    return out


def _rows_unit(frame: pd.DataFrame, datasets: list[str]) -> str:
    """What the training sizes of ``datasets`` count (their task type's unit: rows, sentences)."""
    from littledata.tasks import TASK_TYPES

    if "task" not in frame:
        return "rows"
    tasks = set(frame.loc[frame["dataset"].isin(datasets), "task"].dropna().astype(str))
    units = {TASK_TYPES[t].unit for t in tasks if t in TASK_TYPES}
    return units.pop() if len(units) == 1 else "rows"


def _baseline_resampling(agg: pd.DataFrame) -> str:
    """The resampling of the baseline line: the baseline head's default when it ran, else
    ``none``, else the first one present."""
    rows = agg[(agg["featurizer"] == BASELINE[0]) & (agg["head"] == BASELINE[1])]
    present = list(dict.fromkeys(rows["resampling"]))
    from littledata.heads import HEADS

    preferred = getattr(HEADS.get(BASELINE[1], None), "resampling", "none")
    for option in (preferred, "none"):
        if option in present:
            return option
    return present[0] if present else "none"


def _data_note(about: dict[str, Any]) -> str:
    """A user's data: its files, rows, classes and how its test split was made."""
    if not about.get("files"):
        return ""
    files = ", ".join(f"<code>{html.escape(str(f))}</code>" for f in about["files"])
    return f"<p class='meta'>Your data ({files}): {html.escape(describe_data(about))}.</p>"


def _render_curves(job: tuple[Any, ...]) -> tuple[Path, Path, bytes]:
    """Draw and save one dataset's learning curves."""
    sub, dataset, metrics, styles, subtitle, out, stem, flags, baseline_resampling, rows = job
    fig = learning_curve_figure(
        sub, dataset, metrics, styles, baseline=BASELINE, subtitle=subtitle, collapses=flags,
        baseline_resampling=baseline_resampling, size_unit=rows,
    )  # fmt: skip
    return save_figure(fig, out, stem)


def _subtitle(rows: pd.DataFrame, caps: dict[str, int] | None) -> str:
    parts = []
    if "n_classes" in rows and rows["n_classes"].notna().any():
        parts.append(f"{int(rows['n_classes'].dropna().iloc[0])} classes")
    if caps:
        parts.append(f"train pool {caps['pool']} rows, test {caps['test']} rows")
    elif "train_pool_cap" in rows:
        pool, test = rows["train_pool_cap"].iloc[0], rows["test_cap"].iloc[0]
        parts.append(f"train pool cap {pool or 'none'}, test cap {test or 'none'}")
    if "seed" in rows:
        parts.append(f"{rows['seed'].nunique()} seeds")
    return " · ".join(parts)


def _problems_section(
    store: ResultsStore, run: dict[str, Any] | None, keys: Collection[str] | None
) -> str:
    parts = ["<section id='problems'><h2>Skipped and failed</h2>"]
    skipped = (run or {}).get("summary", {}).get("skipped", []) if run else []
    if skipped:
        parts.append(
            "<p>Combinations the latest run explained and skipped:</p><table><tr><th>dataset</th>"
            "<th>featurizer + head</th><th>size</th><th>reason</th></tr>"
        )
        for s in skipped:
            size = "all" if s.get("size") is None else s["size"]
            parts.append(
                f"<tr><td>{html.escape(s['dataset'])}</td>"
                f"<td>{html.escape(s['featurizer'])} + {html.escape(s['head'])}</td>"
                f"<td>{size}</td><td>{html.escape(s['reason'])}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No combination was skipped.</p>")
    failures = store.failures("bench")
    if keys is not None and not failures.empty:
        failures = failures[failures["key"].isin(set(keys))]
    if failures.empty:
        parts.append("<p>No trial failed.</p>")
    else:
        parts.append(
            f"<p>{len(failures)} trials failed (they are retried by the next run):</p>"
            "<table><tr><th>dataset</th><th>featurizer + head</th><th>size</th><th>seed</th>"
            "<th>error</th></tr>"
        )
        for _, f in failures.head(100).iterrows():
            parts.append(
                f"<tr><td>{html.escape(str(f.get('dataset', '')))}</td>"
                f"<td>{html.escape(str(f.get('featurizer', '')))} + "
                f"{html.escape(str(f.get('head', '')))}</td><td>{f.get('size', '')}</td>"
                f"<td>{f.get('seed', '')}</td><td><code>{html.escape(str(f['message']))}</code>"
                "</td></tr>"
            )
        parts.append("</table>")
    parts.append("</section>")
    return "".join(parts)


def _provenance_section(
    store: ResultsStore,
    frame: pd.DataFrame,
    run: dict[str, Any] | None,
    spec: ExperimentSpec | None,
) -> str:
    parts = ["<section id='provenance'><h2>Spec, caps and versions</h2>"]
    if spec is not None and run is not None:
        parts.append(
            f"<h3>Spec</h3><p>Run {run['id']} (source <code>{html.escape(spec.source or '?')}"
            f"</code>), started {run['started']:%Y-%m-%d %H:%M} UTC.</p>"
            f"<pre>{html.escape(spec_to_toml(spec))}</pre>"
        )
        summary = run["summary"] or {}
        if summary:
            parts.append(
                "<p>That run: "
                f"{summary.get('planned', 0)} trials planned, {summary.get('run', 0)} run, "
                f"{summary.get('already_stored', 0)} already stored, {summary.get('failed', 0)} "
                f"failed; features {summary.get('feature_seconds', 0):.0f} s, trials "
                f"{summary.get('trial_seconds', 0):.0f} s on {summary.get('workers', '?')} "
                f"worker(s), total {summary.get('total_seconds', 0):.0f} s.</p>"
            )
        caps = summary.get("caps", {})
        if caps:
            parts.append(
                "<h3>Caps</h3><p>Training rows are drawn from a seeded, stratified train pool of "
                f"at most {spec.train_pool_cap or 'all'} rows of each train split; every trial "
                f"is scored on a seeded, stratified sample of at most {spec.test_cap or 'all'} "
                f"rows of the test split (cap seed {spec.cap_seed}).</p>"
                "<table><tr><th>dataset</th><th>train pool rows</th><th>test rows</th></tr>"
            )
            for name, c in sorted(caps.items()):
                parts.append(
                    f"<tr><td>{html.escape(name)}</td><td>{c['pool']}</td><td>{c['test']}</td></tr>"
                )
            parts.append("</table>")
    else:
        parts.append("<p>No run record in the store (trials were stored without a spec).</p>")
    if not frame.empty:
        trials = store.trials("bench")
        trials = trials[trials["key"].isin(set(frame["key"]))]
        counts: dict[str, int] = {}
        for versions in trials["versions"]:
            text = json.dumps(versions, sort_keys=True)
            counts[text] = counts.get(text, 0) + 1
        parts.append("<h3>Library versions</h3>")
        for text, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            versions = json.loads(text)
            cells = "".join(
                f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
                for k, v in sorted(versions.items())
            )
            parts.append(f"<table><caption>{n} trials</caption>{cells}</table>")
    parts.append("</section>")
    return "".join(parts)


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
  max-width: 1200px; padding: 1em 2em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em;
  margin-top: 2em; } h3 { margin-bottom: 0.3em; }
.meta { color: #555; } nav ul { columns: 2; } code, pre { font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.55em; text-align: right; }
th.row, td:first-child { text-align: left; } caption { text-align: left; color: #555; }
td.best { font-weight: bold; background: #e7f5e7; }
.collapsed { color: #c00000; font-weight: bold; } p.recommend { font-size: 1.05em; }
figure { margin: 0.5em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.8em; color: #666; } details { margin-bottom: 1.5em; }
article { margin-bottom: 1.2em; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""
