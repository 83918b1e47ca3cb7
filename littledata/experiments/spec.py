"""The experiment spec: which datasets, featurizers, heads, sizes and seeds a benchmark runs.

A spec is a TOML file (every key optional; missing keys take the defaults below)::

    name = "my-bench"
    datasets = ["sst2", "trec"]          # names, selectors ("all", "task:single-label", ...),
                                         # your files ("questions.csv"), or tables (below)
    exclude_datasets = []                # names removed after the selectors are expanded
    featurizers = ["minilm", "glove50", "tfidf"]
    heads = ["logreg", "knn", "centroid"]
    sizes = [20, 50, 100, 200, 500, 1000] # total training rows ...
    # per_class_sizes = [8, 16, 32, 64]   # ... or rows per class (not both)
    seeds = 5                            # a count (seeds 0..4) or a list of seeds
    resampling = ["default"]             # default (per head) | none | oversample | class_weight
    train_pool_cap = 3000                # rows of the train split sizes are drawn from (0: all)
    test_cap = 1000                      # rows of the test split evaluated on (0: all)
    cap_seed = 0                         # seed of the stratified caps
    n_jobs = 0                           # worker processes (0: all cores)
    primary_metric = "macro_f1"          # ranks the methods (report, `results`)
    metrics = ["accuracy", "macro_f1"]   # shown beside it by `results` and the report
    baseline = true                      # add tfidf + logreg to every dataset and size

    [report]                             # what the report shows besides the benchmark
    active = {strategy = ["margin", "random"], dataset = "trec"}
                                         # active-learning runs to add: a table of filters,
                                         # "all", or ["dataset=trec", ...] as `report --active`

A user's file with reading options is a table among the datasets (the keys of
:class:`~littledata.datasets.source.DataSource`; relative paths are read from the spec file's
folder)::

    datasets = ["sst2", {path = "questions.csv", text_column = "question", label_column = "topic"}]

    # or, as an array of tables (then every entry is a table):
    [[datasets]]
    path = "questions.csv"
    text_column = "question"

    [[datasets]]
    train = "tickets-train.csv"
    test = "tickets-test.csv"
    name = "tickets"

:func:`load_spec` reads a file (or the packaged ``default``/``quick`` specs), applies command-line
overrides and validates every key: an error names the key, says what is allowed and suggests the
closest key for a misspelled one. Names (datasets, featurizers, heads) are checked against their
registries when the runner plans the grid (:func:`resolve_datasets` here for datasets; a user's
files are checked when they are loaded).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from littledata.datasets.source import DataSource
from littledata.errors import ConfigError
from littledata.experiments.metrics import KNOWN_METRICS, LOWER_IS_BETTER
from littledata.experiments.report_settings import (
    ACTIVE_FILTER_KEYS,
    ReportSettings,
    active_filters,
    parse_value,
)

__all__ = [
    "ACTIVE_FILTER_KEYS",
    "BASELINE",
    "DEFAULT_PRIMARY_METRIC",
    "KNOWN_METRICS",
    "LOWER_IS_BETTER",
    "RESAMPLING",
    "ExperimentSpec",
    "ReportSettings",
    "active_filters",
    "entry_name",
    "load_spec",
    "parse_overrides",
    "resolve_datasets",
    "spec_to_toml",
]

RESAMPLING = ("default", "none", "oversample", "class_weight")
"""Ways to handle class imbalance in the training sample; ``default`` is each head's own
(:attr:`littledata.heads.HeadInfo.resampling`), stored with a trial as the option it stands for."""

DEFAULT_PRIMARY_METRIC = "macro_f1"
"""The metric that ranks methods unless a spec names another (``primary_metric``): one that a
model predicting only the majority class cannot win on imbalanced data (docs/benchmark.md)."""

BASELINE = ("tfidf", "logreg")
"""The featurizer and head of the baseline added to every dataset and size (``baseline = true``)."""

PACKAGED_SPECS = ("default", "quick")

DATASET_SELECTORS = {
    "all": None,
    "task:single-label": "single-label",
    "task:multi-label": "multi-label",
    "task:sentence-pair": "sentence-pair",
    "task:sequence-labeling": "sequence-labeling",
}


@dataclass(frozen=True)
class ExperimentSpec:
    """A validated experiment spec (see the module docstring for each key).

    ``sizes`` and ``per_class_sizes``: exactly one is non-empty. ``train_pool_cap`` and
    ``test_cap`` are ``None`` for no cap. ``n_jobs`` is ``0`` for all cores (and never more than
    the usable cores: see :meth:`workers`).
    """

    name: str = "custom"
    description: str = ""
    datasets: tuple[str | DataSource, ...] = ("task:single-label",)
    """Registered names and selectors (strings) and a user's files (:class:`DataSource`)."""
    exclude_datasets: tuple[str, ...] = ()
    featurizers: tuple[str, ...] = ("minilm", "glove50", "tfidf")
    heads: tuple[str, ...] = ("logreg", "knn", "centroid")
    sizes: tuple[int, ...] = (20, 50, 100, 200, 500, 1000)
    per_class_sizes: tuple[int, ...] = ()
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    resampling: tuple[str, ...] = ("default",)
    train_pool_cap: int | None = 3000
    test_cap: int | None = 1000
    cap_seed: int = 0
    n_jobs: int = 0
    primary_metric: str = DEFAULT_PRIMARY_METRIC
    metrics: tuple[str, ...] = ("accuracy", "macro_f1")
    baseline: bool = True
    report: ReportSettings = field(default_factory=ReportSettings)
    """The ``[report]`` table: which active-learning runs the report adds."""
    source: str = field(default="", compare=False)
    """Where the spec came from (a path or ``packaged:<name>``); not part of the experiment."""

    def workers(self) -> int:
        """The number of worker processes to use: ``n_jobs``, or all usable cores for 0.

        More workers than usable cores (``os.sched_getaffinity``) only add memory (each holds
        its own copy of the libraries) and contention: ``n_jobs`` is capped there, with a
        warning.
        """
        from littledata.experiments.execution import worker_count

        return worker_count(self.n_jobs)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as plain JSON-able data (the form recorded with a run)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        out["datasets"] = [d.to_value() if isinstance(d, DataSource) else d for d in self.datasets]
        out["report"] = self.report.to_value()
        return out


SPEC_KEYS = tuple(f.name for f in fields(ExperimentSpec) if f.name != "source")

_KEY_HELP = {
    "name": "a string",
    "description": "a string",
    "datasets": "a dataset name, a selector (all, task:single-label, task:multi-label, "
    "task:sentence-pair, task:sequence-labeling), a data file, a table such as "
    '{path = "my.csv", text_column = "question"}, or a list of them',
    "exclude_datasets": "a list of dataset names",
    "featurizers": "a featurizer name (minilm, glove50, tfidf, ...) or a list of them",
    "heads": "a head name (logreg, knn, centroid, ...) or a list of them",
    "sizes": "a list of positive integers (total training rows), e.g. [20, 50, 100]",
    "per_class_sizes": "a list of positive integers (training rows per class), e.g. [8, 16, 32]",
    "seeds": "a positive integer N (seeds 0..N-1) or a list of distinct non-negative integers",
    "resampling": f"one of {', '.join(RESAMPLING)} or a list of them",
    "train_pool_cap": 'a positive integer, or 0 / false / "none" for no cap',
    "test_cap": 'a positive integer, or 0 / false / "none" for no cap',
    "cap_seed": "a non-negative integer",
    "n_jobs": "a positive integer, or 0 (or -1) for all cores",
    "primary_metric": f"one metric name from: {', '.join(KNOWN_METRICS)}",
    "metrics": f"a list of metric names from: {', '.join(KNOWN_METRICS)}",
    "baseline": "true or false",
    "report": "a table (see littledata.experiments.report_settings)",
}


def _bad(key: str, value: Any, why: str = "") -> ConfigError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    msg = f"Spec key {key!r} has an invalid value {shown}"
    msg += f": {why}" if why else ""
    msg += "" if msg.endswith(("?", ".")) else "."
    return ConfigError(f"{msg} Allowed: {_KEY_HELP[key]}.")


def _suggest(item: str, choices: Sequence[str]) -> str:
    starts = [c for c in choices if c.startswith(item.lower())]
    close = starts[:1] or difflib.get_close_matches(item, choices, n=1)
    return f"did you mean {close[0]!r}?" if close else f"{item!r} is not one of them"


def _unknown_key(key: str) -> ConfigError:
    close = difflib.get_close_matches(key, SPEC_KEYS, n=3, cutoff=0.5)
    msg = f"Unknown spec key {key!r}."
    if close:
        msg += f" Did you mean: {', '.join(close)}?"
    return ConfigError(f"{msg} Valid keys: {', '.join(SPEC_KEYS)}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_list(key: str, value: Any, allow_empty: bool = False) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise _bad(key, value)
    items = [v.strip() for v in items]
    if any(not v for v in items):
        raise _bad(key, value, "names cannot be empty")
    if not items and not allow_empty:
        raise _bad(key, value, "the list is empty")
    return tuple(dict.fromkeys(items))  # de-duplicated, order kept


def _dataset_list(value: Any) -> tuple[str | DataSource, ...]:
    """Names and selectors stay strings; files and tables become :class:`DataSource`."""
    from littledata.datasets.source import is_file_name

    items = [value] if isinstance(value, (str, dict, DataSource)) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise _bad("datasets", value, "the list is empty" if items == [] else "")
    out: list[str | DataSource] = []
    for item in items:
        if isinstance(item, str):
            item = item.strip()
            if not item:
                raise _bad("datasets", value, "names cannot be empty")
            if item not in DATASET_SELECTORS and is_file_name(item):
                out.append(DataSource.parse(item))
            else:
                out.append(item)
        elif isinstance(item, (dict, DataSource)):
            out.append(DataSource.parse(item, where="Spec key 'datasets'"))
        else:
            raise _bad("datasets", value)
    return tuple(dict.fromkeys(out))  # de-duplicated, order kept


def _int_list(key: str, value: Any, minimum: int) -> tuple[int, ...]:
    if _is_int(value):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise _bad(key, value)
    if not all(_is_int(v) for v in value):
        raise _bad(key, value, "every entry must be an integer")
    low = [v for v in value if v < minimum]
    if low:
        raise _bad(key, value, f"{low[0]} is below {minimum}")
    return tuple(sorted(set(value)))


def _cap(key: str, value: Any) -> int | None:
    if value is False or value is None or (isinstance(value, str) and value.lower() == "none"):
        return None
    if not _is_int(value) or value < 0:
        raise _bad(key, value)
    return value or None


def _validate(raw: Mapping[str, Any], source: str) -> ExperimentSpec:
    for key in raw:
        if key not in SPEC_KEYS:
            raise _unknown_key(key)
    values: dict[str, Any] = {"source": source}
    for key, value in raw.items():
        if key in ("name", "description"):
            if not isinstance(value, str):
                raise _bad(key, value)
            values[key] = value
        elif key == "datasets":
            values[key] = _dataset_list(value)
        elif key in ("featurizers", "heads"):
            values[key] = _str_list(key, value)
        elif key == "exclude_datasets":
            values[key] = _str_list(key, value, allow_empty=True)
        elif key in ("sizes", "per_class_sizes"):
            values[key] = _int_list(key, value, minimum=1)
        elif key == "seeds":
            if _is_int(value):
                if value < 1:
                    raise _bad(key, value, "at least one seed is needed")
                values[key] = tuple(range(value))
            else:
                if isinstance(value, (list, tuple)) and len(set(value)) != len(value):
                    raise _bad(key, value, "seeds repeat")
                values[key] = _int_list(key, value, minimum=0)
        elif key == "resampling":
            items = _str_list(key, value)
            for item in items:
                if item not in RESAMPLING:
                    raise _bad(key, value, _suggest(item, RESAMPLING))
            values[key] = items
        elif key in ("train_pool_cap", "test_cap"):
            values[key] = _cap(key, value)
        elif key == "cap_seed":
            if not _is_int(value) or value < 0:
                raise _bad(key, value)
            values[key] = value
        elif key == "n_jobs":
            if not _is_int(value) or value < -1:
                raise _bad(key, value)
            values[key] = max(value, 0)
        elif key == "primary_metric":
            if not isinstance(value, str):
                raise _bad(key, value)
            if value not in KNOWN_METRICS:
                raise _bad(key, value, _suggest(value, KNOWN_METRICS))
            values[key] = value
        elif key == "metrics":
            items = _str_list(key, value)
            for item in items:
                if item not in KNOWN_METRICS:
                    raise _bad(key, value, _suggest(item, KNOWN_METRICS))
            values[key] = items
        elif key == "baseline":
            if not isinstance(value, bool):
                raise _bad(key, value)
            values[key] = value
        elif key == "report":
            values[key] = ReportSettings.parse(value)
    if "sizes" in raw and "per_class_sizes" in raw:
        raise ConfigError(
            "Spec keys 'sizes' and 'per_class_sizes' are both set; give one: 'sizes' for total "
            "training rows or 'per_class_sizes' for rows per class."
        )
    if "per_class_sizes" in raw:
        values["sizes"] = ()
    return ExperimentSpec(**values)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Parse command-line ``KEY=VALUE`` overrides into spec values.

    A value is read as TOML when it can be (``seeds=3``, ``baseline=false``,
    ``sizes=[20, 50]``); otherwise a comma-separated value becomes a list (``sizes=20,50``,
    ``datasets=sst2,trec``) and anything else a string. Dashes in keys count as underscores.

    >>> parse_overrides(["sizes=20,50", "datasets=sst2", "seeds=3", "test-cap=none"])
    {'sizes': [20, 50], 'datasets': 'sst2', 'seeds': 3, 'test_cap': 'none'}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(
                f"Override {item!r} is not KEY=VALUE (e.g. sizes=20,50 or datasets=sst2,trec). "
                f"Valid keys: {', '.join(SPEC_KEYS)}."
            )
        out[key] = parse_value(text.strip())
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"Spec file {str(path)!r} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Spec file {str(path)!r} is not UTF-8 text ({exc}); TOML files are UTF-8: save it "
            "with that encoding."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Spec file {str(path)!r} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the spec file {str(path)!r}: {exc.strerror}.") from None


def packaged_spec_text(name: str) -> str:
    """Return the TOML text of a packaged spec (``default`` or ``quick``)."""
    if name not in PACKAGED_SPECS:
        from littledata.errors import unknown_name

        raise unknown_name("packaged spec", name, PACKAGED_SPECS)
    return resources.files("littledata.experiments").joinpath(f"{name}.toml").read_text("utf-8")


def load_spec(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    packaged: str = "default",
) -> ExperimentSpec:
    """Read, override and validate an experiment spec.

    Parameters
    ----------
    path: a TOML spec file; ``None`` reads the packaged spec named by ``packaged``.
    overrides: key → value pairs that replace the file's values (e.g. from the command line;
        see :func:`parse_overrides`). Setting ``sizes`` drops the file's ``per_class_sizes`` and
        the other way round.
    packaged: ``"default"`` (the full benchmark) or ``"quick"``.

    Raises
    ------
    ConfigError: a key is unknown or a value is not allowed (the message names the key).

    Examples
    --------
    >>> spec = load_spec(overrides={"datasets": "sst2", "seeds": 2})
    >>> spec.datasets, spec.seeds
    (('sst2',), (0, 1))
    """
    if path is None:
        raw = tomllib.loads(packaged_spec_text(packaged))
        source = f"packaged:{packaged}"
    else:
        raw = _read_toml(Path(path))
        source = str(path)
        if "datasets" in raw:  # files named in a spec file are read from its folder
            raw["datasets"] = _files_under(raw["datasets"], Path(path).expanduser().parent)
    raw = dict(raw)
    for key, value in (overrides or {}).items():
        key = key.replace("-", "_")
        if key == "sizes":
            raw.pop("per_class_sizes", None)
        elif key == "per_class_sizes":
            raw.pop("sizes", None)
        raw[key] = value
    return _validate(raw, source)


def _files_under(value: Any, folder: Path) -> Any:
    """The spec file's ``datasets`` with its files and tables as :class:`DataSource` read from
    ``folder`` (anything else is left for validation to judge)."""
    from littledata.datasets.registry import DATASETS
    from littledata.datasets.userfiles import looks_like_file

    items = [value] if isinstance(value, (str, dict)) else value
    if not isinstance(items, list):
        return value
    out = []
    for item in items:
        if isinstance(item, dict):
            item = DataSource.parse(item, base=folder, where="Spec key 'datasets'")
        elif isinstance(item, str) and item.strip() and item.strip() not in DATASET_SELECTORS:
            name = item.strip()
            file_here = (folder / name).is_file() and name not in DATASETS
            if looks_like_file(name) or file_here:
                item = DataSource.parse(name, base=folder)
        out.append(item)
    return out


def with_overrides(spec: ExperimentSpec, overrides: Mapping[str, Any]) -> ExperimentSpec:
    """Return ``spec`` with ``overrides`` applied and validated again."""
    raw: dict[str, Any] = {k: v for k, v in spec.to_dict().items() if k != "source"}
    if not raw["per_class_sizes"]:
        raw.pop("per_class_sizes")
    else:
        raw.pop("sizes")
    for cap in ("train_pool_cap", "test_cap"):
        if raw[cap] is None:
            raw[cap] = 0
    for key, value in overrides.items():
        key = key.replace("-", "_")
        if key == "sizes":
            raw.pop("per_class_sizes", None)
        elif key == "per_class_sizes":
            raw.pop("sizes", None)
        raw[key] = value
    return replace(_validate(raw, spec.source), source=spec.source)


def spec_to_toml(spec: ExperimentSpec) -> str:
    """Return the spec as TOML text that :func:`load_spec` reads back to the same spec."""
    lines = []
    for key in SPEC_KEYS:
        value = getattr(spec, key)
        if key == "sizes" and spec.per_class_sizes:
            continue
        if key == "per_class_sizes" and not spec.per_class_sizes:
            continue
        if key in ("train_pool_cap", "test_cap") and value is None:
            value = 0
        if key == "report":
            value = value.to_value()
            if not value:
                continue
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, DataSource):
        value = value.to_value()
        if isinstance(value, str):
            return _toml_value(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def resolve_datasets(
    spec: ExperimentSpec, registry: Mapping[str, Any] | None = None
) -> list[str | DataSource]:
    """Expand the spec's dataset names and selectors into registered dataset names; a user's
    files stay :class:`~littledata.datasets.source.DataSource` entries.

    ``registry`` maps names to objects with a ``task`` attribute (default: the dataset registry).
    Selectors expand in name order; ``exclude_datasets`` (registered names, or the names files
    show) is removed afterwards.

    Raises
    ------
    ConfigError: an entry is neither a selector, a registered dataset nor a file (with
        suggestions), or two entries would show under one name.
    """
    if registry is None:
        from littledata.datasets.registry import list_specs

        registry = {s.name: s for s in list_specs()}
    entries: list[str | DataSource] = []
    for entry in spec.datasets:
        if isinstance(entry, DataSource):
            if entry.is_registered and entry.name is None:
                entries.append(str(entry.path))
            else:
                entries.append(entry)
        elif entry in DATASET_SELECTORS:
            task = DATASET_SELECTORS[entry]
            entries += [
                n for n in sorted(registry) if task is None or str(registry[n].task) == task
            ]
        elif entry in registry:
            entries.append(entry)
        else:
            raise _unknown_dataset("datasets", entry, registry)
    shown = {entry_name(e) for e in entries}
    for entry in spec.exclude_datasets:
        if entry not in registry and entry not in shown:
            raise _unknown_dataset("exclude_datasets", entry, registry)
    excluded = set(spec.exclude_datasets)
    out = [e for e in dict.fromkeys(entries) if entry_name(e) not in excluded]
    if not out:
        raise ConfigError(
            f"Spec key 'datasets' ({[entry_name(e) for e in spec.datasets]}) minus "
            "'exclude_datasets' selects no dataset. Name at least one dataset (`littledata "
            "datasets list` shows them) or one of your files."
        )
    seen: dict[str, str | DataSource] = {}
    for e in out:
        name = entry_name(e)
        if name in seen:
            raise ConfigError(
                f"Spec key 'datasets': two entries would show as {name!r} "
                f"({_describe(seen[name])} and {_describe(e)}). Give one a name of its own: "
                f'{{path = "...", name = "..."}}.'
            )
        if isinstance(e, DataSource) and name in registry:
            raise ConfigError(
                f"Spec key 'datasets': your data {_describe(e)} would show as {name!r}, the name "
                'of a registered dataset. Give it another name: {path = "...", name = "..."}.'
            )
        seen[name] = e
    return out


def entry_name(entry: str | DataSource) -> str:
    """The name a resolved dataset entry shows in results and reports."""
    return entry.display_name if isinstance(entry, DataSource) else entry


def _describe(entry: str | DataSource) -> str:
    if isinstance(entry, DataSource) and entry.files:
        return ", ".join(str(p) for p in entry.files)
    return repr(entry_name(entry))


def _unknown_dataset(key: str, entry: str, registry: Mapping[str, Any]) -> ConfigError:
    from littledata.errors import unknown_name

    choices = list(registry) + (list(DATASET_SELECTORS) if key == "datasets" else [])
    return ConfigError(f"Spec key {key!r}: {unknown_name('dataset', entry, choices)}")
