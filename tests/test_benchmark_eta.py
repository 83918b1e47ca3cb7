"""benchmarks/eta.py: a cold measurement refuses a data home that holds anything, and the ETA
shown at a share of the work is read from the run's record."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "eta.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("benchmark_eta", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cold_refuses_a_data_home_that_holds_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cost_model.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        _module().main(["--spec", "default", "--cold", "--home", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "is not empty (cost_model.json)" in capsys.readouterr().err


def test_the_eta_at_a_share_of_the_work_is_the_first_point_past_it() -> None:
    progress = [
        {"elapsed": 1.0, "fraction": 0.05, "eta": None},
        {"elapsed": 10.0, "fraction": 0.12, "eta": 90.0},
        {"elapsed": 30.0, "fraction": 0.3, "eta": 60.0},
    ]
    eta_at = _module().eta_at
    assert eta_at(progress, 0.10) == (10.0, 100.0)
    assert eta_at(progress, 0.25) == (30.0, 90.0)
    assert eta_at(progress, 0.5) is None
