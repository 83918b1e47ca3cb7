"""Paired head comparison (littledata.experiments.results.compare_heads), checked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from littledata.experiments.results import compare_heads


def _frame(rows: list[tuple[str, int, int, float]], metric: str = "accuracy") -> pd.DataFrame:
    """Rows of (head, size, seed, value) on one dataset and featurizer."""
    frame = pd.DataFrame(rows, columns=["head", "size", "seed", "value"])
    return frame.assign(dataset="d", featurizer="f", metric=metric)


def test_paired_differences_mean_sem_and_verdicts() -> None:
    rows = [
        # size 20: diffs 0.1, 0.0, 0.2 -> mean 0.1, sd 0.1, sem 0.0577 -> win
        ("a", 20, 0, 0.6), ("b", 20, 0, 0.5),
        ("a", 20, 1, 0.5), ("b", 20, 1, 0.5),
        ("a", 20, 2, 0.9), ("b", 20, 2, 0.7),
        # size 50: diffs -0.02, 0.02, -0.03 -> mean -0.01, sd 0.0265, sem 0.0153 -> tie
        ("a", 50, 0, 0.78), ("b", 50, 0, 0.80),
        ("a", 50, 1, 0.82), ("b", 50, 1, 0.80),
        ("a", 50, 2, 0.77), ("b", 50, 2, 0.80),
        # size 100: diffs -0.1, -0.12, -0.08 -> mean -0.1, sem 0.0115 -> loss
        ("a", 100, 0, 0.7), ("b", 100, 0, 0.8),
        ("a", 100, 1, 0.68), ("b", 100, 1, 0.8),
        ("a", 100, 2, 0.72), ("b", 100, 2, 0.8),
        ("a", 100, 3, 0.99),  # no partner for seed 3: left out
    ]  # fmt: skip
    out = compare_heads(_frame(rows), "a", "b").set_index("size")
    assert out.loc[20, "diff"] == pytest.approx(0.1)
    assert out.loc[20, "sem"] == pytest.approx(0.1 / math.sqrt(3))
    assert out.loc[20, "mean_head"] == pytest.approx(2.0 / 3)
    assert out.loc[50, "diff"] == pytest.approx(-0.01)
    assert out.loc[100, "n"] == 3 and out.loc[100, "mean_head"] == pytest.approx(0.7)
    assert out["verdict"].to_dict() == {20: "win", 50: "tie", 100: "loss"}


def test_lower_is_better_metrics_are_signed_so_positive_is_better() -> None:
    rows = [("a", 20, s, 0.3) for s in range(3)] + [("b", 20, s, 0.5) for s in range(3)]
    out = compare_heads(_frame(rows, metric="log_loss"), "a", "b", metric="log_loss")
    assert out["diff"].iloc[0] == pytest.approx(0.2)
    assert out["verdict"].iloc[0] == "win"


def test_missing_head_gives_an_empty_table() -> None:
    rows = [("a", 20, 0, 0.3)]
    assert compare_heads(_frame(rows), "a", "b").empty
