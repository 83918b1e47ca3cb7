"""The active-learning report section and the ``littledata active`` commands."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from littledata.active.simulate import ActiveTask, simulate
from littledata.cli import app
from littledata.errors import ConfigError, UnknownNameError
from littledata.report.active import render_active_section


@pytest.fixture(scope="module")
def frame():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 2.0, size=(3, 6))
    y = rng.integers(0, 3, 700)
    X = centres[y] + rng.normal(0, 1.5, size=(700, 6))
    task = ActiveTask.from_arrays(X[:500], y[:500], X[500:], y[500:], dataset="toy")
    res = simulate(
        task,
        ["random", "margin", "badge"],
        head=LogisticRegression(max_iter=300),
        init=10,
        batch=10,
        budget=60,
        seeds=2,
        stop_threshold=0.9,
        stop_window=2,
    )
    return res.frame


def test_section_writes_png_and_svg_and_embeds_them(frame, tmp_path) -> None:  # type: ignore[no-untyped-def]
    html = render_active_section(frame, tmp_path)
    pngs, svgs = list(tmp_path.glob("active_*.png")), list(tmp_path.glob("active_*.svg"))
    assert len(pngs) == 1 and len(svgs) == 1
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svgs[0].read_text()
    assert "data:image/png;base64," in html and svgs[0].name in html
    assert "href=" not in html  # the files beside the page are named, never linked
    # one table row per strategy, random first (the baseline), numbers formatted
    rows = re.findall(r"<tr><td>([a-z-]+)</td>", html)
    assert rows[0] == "random" and sorted(rows) == ["badge", "margin", "random"]
    assert "AULC" in html and "labels to 95%" in html and "accuracy at 60 labels" in html
    assert "Bloodgood" in html
    assert html.count("class='best'") >= 2


def test_section_without_runs_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    html = render_active_section(pd.DataFrame(columns=["key", "metric", "x", "value"]), tmp_path)
    assert "No active-learning runs" in html
    assert not list(tmp_path.iterdir())


def test_cli_lists_strategies() -> None:
    result = CliRunner().invoke(app, ["active", "strategies"])
    assert result.exit_code == 0, result.output
    for name in ("random", "margin", "badge", "active-transfer", "cold-start", "kcenter"):
        assert name in result.output


def test_cli_rejects_bad_settings_before_any_work() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["active", "simulate", "-d", "sst2", "-s", "margn"])
    assert isinstance(result.exception, UnknownNameError)
    assert "Did you mean: margin" in str(result.exception)
    result = runner.invoke(app, ["active", "simulate", "-d", "sst2", "-s", ","])
    assert isinstance(result.exception, ConfigError)
