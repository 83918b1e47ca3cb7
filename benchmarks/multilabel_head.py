"""The one-vs-rest multi-label head's threshold folds: searched again, or fitted at the chosen C.

``MultiLabelHead`` tunes each label's decision threshold on out-of-fold scores of the training
rows (3 folds). Before, each fold's head searched its own settings again (``logreg``: C by an
inner 3-fold cross-validation in each of the 3 folds); now each fold is fitted at the C the
label's head chose on all rows (``searched_params``). This script fits both, side by side in one
run, on goemotions-ekman (the default benchmark's multi-label dataset, its caps: pool 2000,
test 1000) and reports macro-F1 over labels and fit + predict seconds per trial, at 20, 100,
500 and 1000 training rows, 3 seeds, for each featurizer and head asked for.

Usage (repository root, project venv active; features come from the feature cache of the data
home, computed there on a first run)::

    python benchmarks/multilabel_head.py --mirror ../shared/datasets
    python benchmarks/multilabel_head.py --featurizers minilm --heads logreg --seeds 3

Writes ``benchmarks/results/multilabel_head.md`` and prints it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from littledata.models.multilabel import MultiLabelHead

OUT = Path(__file__).resolve().parent / "results" / "multilabel_head.md"
DATASET = "goemotions-ekman"


class NestedSearchHead(MultiLabelHead):
    """The earlier head: each threshold fold searches the head's settings again."""

    def _fold_head(self, fitted: Any) -> Any:
        return self._label_head()


def _fit_score(model: Any, task: Any, x_train: Any, y_train: Any, x_test: Any, y_test: Any):
    start = time.perf_counter()
    model.fit(x_train, y_train)
    proba = model.predict_proba(x_test)
    seconds = time.perf_counter() - start
    return task.score_model(model, y_test, proba)["macro_f1"], seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--featurizers", default="minilm,glove50,tfidf")
    parser.add_argument("--heads", default="logreg,knn,centroid")
    parser.add_argument("--sizes", default="20,100,500,1000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mirror", default=os.environ.get("LITTLEDATA_MIRROR"))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    from littledata.datasets import load_dataset
    from littledata.experiments.execution import resolve
    from littledata.experiments.prepare import (
        features_refs,
        featurizer_by_name,
        prepare_dataset,
    )
    from littledata.experiments.spec import load_spec
    from littledata.experiments.trials import _input_kind
    from littledata.tasks import get_task_type

    spec = load_spec(packaged="default")
    prep = prepare_dataset(DATASET, spec, lambda n: load_dataset(n, mirror=args.mirror))
    task = get_task_type(prep.info.task)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[tuple[str, str, int, float, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as held:
        for fname in args.featurizers.split(","):
            fz = featurizer_by_name(fname)
            refs = features_refs(fz, prep, Path(tmp), held)
            x_pool, x_test = (resolve(refs[k]) for k in ("x_pool", "x_test"))
            kind = _input_kind(str(fz.kind), x_pool)
            for head in args.heads.split(","):
                for size in sizes:
                    for seed in range(args.seeds):
                        idx = task.sample(prep.y_pool, size, seed, per_class=False)
                        x_train = task.take(x_pool, prep.y_pool, idx)
                        y_train = prep.y_pool[idx]
                        out = []
                        for cls in (NestedSearchHead, MultiLabelHead):
                            model = cls(head, input_kind=kind, random_state=seed)
                            out += _fit_score(model, task, x_train, y_train, x_test, prep.y_test)
                        rows.append((fname, head, size, *out))  # type: ignore[arg-type]
                        print(fname, head, size, seed, [round(v, 3) for v in out], flush=True)
    text = _table(rows, args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


def _table(rows: list[Any], args: argparse.Namespace) -> str:
    lines = [
        f"# Multi-label head: threshold folds searched again vs fitted at the chosen C "
        f"({dt.date.today():%Y-%m-%d})",
        "",
        f"`python benchmarks/multilabel_head.py` on {DATASET} (pool 2000, test 1000, the default "
        f"spec's caps), {args.seeds} seeds; {platform.machine()}, {os.cpu_count()} cores, "
        "measured while other jobs shared the 2 cores. macro-F1 over labels (mean ± std over "
        "seeds) and fit + predict seconds per trial (mean), old (folds search again) and new "
        "(folds fitted at the label head's chosen settings) side by side in one run.",
        "",
        "| featurizer | head | rows | macro-F1 old | macro-F1 new | new − old (paired) "
        "| s old | s new | time new / old |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    by: dict[tuple[str, str, int], list[Any]] = {}
    for fname, head, size, f_old, s_old, f_new, s_new in rows:
        by.setdefault((fname, head, size), []).append((f_old, s_old, f_new, s_new))
    total_old = total_new = 0.0
    for (fname, head, size), vals in by.items():
        a = np.asarray(vals)
        diff = a[:, 2] - a[:, 0]
        total_old += a[:, 1].sum()
        total_new += a[:, 3].sum()
        lines.append(
            f"| {fname} | {head} | {size} | {a[:, 0].mean():.3f} ± {a[:, 0].std():.3f} | "
            f"{a[:, 2].mean():.3f} ± {a[:, 2].std():.3f} | {diff.mean():+.3f} | "
            f"{a[:, 1].mean():.2f} | {a[:, 3].mean():.2f} | {a[:, 3].sum() / a[:, 1].sum():.2f} |"
        )
    lines += [
        "",
        f"All trials: {total_old:.0f} s old, {total_new:.0f} s new "
        f"({total_new / max(total_old, 1e-9):.2f}).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
