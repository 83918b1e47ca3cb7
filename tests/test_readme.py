"""The README's two set-up commands are what CI and users run: keep them true."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import REPO_ROOT


def _readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert first_block, "README.md must open with a code block holding the two set-up commands"
    lines = [ln.strip() for ln in first_block.group(1).splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def test_readme_opens_with_exactly_two_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    main_job, tests = commands
    assert "littledata bench" in main_job
    assert "pytest" in tests
    for command in commands:  # torch first, pinned to the CPU build
        assert command.startswith("python -m pip install torch==2.13.0 && ")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in ci.splitlines()


def test_readme_dataset_table_lists_every_registered_dataset() -> None:
    from littledata.datasets import list_specs

    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|", text, re.M)
    assert rows == [spec.name for spec in list_specs()]


def test_prose_dataset_counts_match_the_registry() -> None:
    """README and docs may say how many datasets there are; the number must be the registry's."""
    from littledata.datasets import list_specs

    n = len(list_specs())
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    docs = (REPO_ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
    counts = re.findall(r"registry of (\d+) real", readme) + re.findall(
        r"registry of (\d+) real", docs
    )
    assert len(counts) == 2, counts
    assert [int(c) for c in counts] == [n, n]


@pytest.mark.integration
def test_the_fast_run_leaves_out_the_slow_tests_and_the_readme_says_how() -> None:
    files = ["test_runner.py", "test_features_model.py", "test_catalog.py", "test_saved_files.py"]
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "-m", "not integration", *(f"tests/{f}" for f in files)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    fast = {line.split("[")[0] for line in result.stdout.splitlines() if "::" in line}
    assert result.returncode == 0, result.stdout + result.stderr
    slow = [
        "tests/test_runner.py::test_resume_after_sigkill_mid_run",  # a benchmark grid
        "tests/test_features_model.py::test_fp32_equals_sentence_transformers",  # marked model
        "tests/test_catalog.py::test_official_splits_match_readme",  # reads the mirror
        "tests/test_saved_files.py::test_a_model_folder_naming_custom_code_is_loaded_without_running_it",
    ]
    assert not fast & set(slow)
    assert "tests/test_runner.py::test_samples_come_from_the_pool_and_are_reproducible" in fast
    assert "tests/test_catalog.py::test_windows_1252_lines" in fast
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert 'python -m pytest -q -m "not integration"' in readme
