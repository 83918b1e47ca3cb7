"""The active-learning benchmark's timing helpers run on a small synthetic pool."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "active.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("benchmark_active", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_time_low_budget_reports_first_and_next_round_for_each_strategy() -> None:
    bench = _module()
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(3.0 * c, 0.5, size=(40, 3)) for c in range(8)])
    y = np.repeat(np.arange(8), 40)
    out = bench.time_low_budget(X, y, ["typiclust-margin", "typiclust"], "logreg", 12, 4, 1)
    assert set(out) == {"typiclust-margin", "typiclust"}
    for v in out.values():
        assert set(v) == {"first", "next"} and v["first"] > 0 and v["next"] > 0
    args = bench.parse_args(["--quick"])
    assert args.low_budget_labeled == 100
    assert bench.parse_args(["--low-budget-labeled", "0"]).low_budget_labeled == 0
