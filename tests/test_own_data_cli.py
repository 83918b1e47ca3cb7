"""A user's file in every format through every command, as a newcomer runs them: ``bench`` (a dry
run, then a small real grid and its report), ``results``, ``featurize --out`` and ``active
simulate``; and a file of texts alone through ``featurize`` and ``datasets show``.

The commands run in-process through the console script's entry point; features are glove50
(small, fast), the grid tiny.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run_main
from test_own_data import made_up_rows

pytestmark = pytest.mark.integration


def _write(folder: Path, fmt: str) -> tuple[Path, list[str], bool]:
    """A file of 60 made-up labeled rows in ``fmt``; the options that read it; whether it has
    a test split of its own."""
    rows = made_up_rows(60)
    if fmt == "csv":  # its own column names, no split column
        path = folder / "questions.csv"
        frame = pd.DataFrame(rows, columns=["id", "question", "topic"])
        frame.to_csv(path, index=False)
        return path, ["--text-column", "question", "--label-column", "topic"], False
    if fmt == "tsv":  # the default names, and a split column
        path = folder / "questions.tsv"
        split = ["test" if i % 5 == 0 else "train" for i in range(len(rows))]
        frame = pd.DataFrame(
            {"text": [r[1] for r in rows], "label": [r[2] for r in rows], "split": split}
        )
        frame.to_csv(path, sep="\t", index=False)
        return path, [], True
    if fmt == "jsonl":
        path = folder / "questions.jsonl"
        path.write_text(
            "".join(json.dumps({"id": i, "text": t, "label": y}) + "\n" for i, t, y in rows),
            "utf-8",
        )
        return path, [], False
    path = folder / "reviews.parquet"
    pd.DataFrame({"review": [r[1] for r in rows], "stars": [r[2] for r in rows]}).to_parquet(path)
    return path, ["--label-column", "stars"], False


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_a_users_file_runs_through_every_command(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path, options, has_test = _write(tmp_path, fmt)
    db = f"sqlite:///{tmp_path / 'results.sqlite'}"
    grid = ["featurizers=glove50", "heads=centroid", "sizes=6,12", "seeds=2", "baseline=false"]
    bench = ["bench", "--datasets", str(path), *options, *grid, "--db", db]

    code, out, err = run_main([*bench, "--dry-run"], capsys)
    assert code == 0, err
    assert "4 trials planned" in out
    held_out = "20% of each label held out" in out
    assert held_out is not has_test, out  # said when the file has no test split, only then
    assert f"{path.name}: 60 rows" in out and "3 classes (food, sport, tech)" in out

    report = tmp_path / "report"
    code, out, err = run_main([*bench, "-j", "1", "--out", str(report)], capsys)
    assert code == 0, err
    assert "ran 4," in out and "failed 0" in out
    page = (report / "report.html").read_text("utf-8")
    assert f"<h3>{path.name}</h3>" in page and "Your data" in page
    assert ("held out as the test split" in page) is not has_test

    code, out, err = run_main(["results", "--db", db], capsys)
    assert code == 0, err
    assert f"{path.name}: 60 rows" in out and f"{path.name}: macro_f1 (accuracy below)" in out
    # a second run stores nothing new; a changed file gets new trials of its own
    code, out, err = run_main([*bench, "--dry-run"], capsys)
    assert "4 already stored" in out, out

    exported = tmp_path / "features.parquet"
    code, out, err = run_main(
        ["featurize", str(path), *options, "-f", "glove50", "--out", str(exported)], capsys
    )
    assert code == 0, err
    frame = pd.read_parquet(exported)
    assert len(frame) == 60 and "f49" in frame.columns
    assert frame["label"].tolist()[:3] == ["sport", "food", "tech"]  # the file's order
    if fmt in ("csv", "jsonl"):
        assert frame["id"].tolist()[:2] == ["r0", "r1"]

    code, out, err = run_main(
        [
            "active", "simulate", "-d", str(path), *options, "-f", "glove50",
            "--head", "centroid", "--init", "6", "--batch", "6", "--budget", "18",
            "--seeds", "1", "--db", db,
        ],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert f"{path.name} · glove50 + centroid" in out and "2 run(s) simulated" in out
    assert ("held out as the test split" in out) is not has_test


def test_a_changed_file_never_reuses_the_trials_of_its_old_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path, options, _ = _write(tmp_path, "csv")
    db = f"sqlite:///{tmp_path / 'results.sqlite'}"
    bench = [
        "bench", "--datasets", str(path), *options, "featurizers=glove50", "heads=centroid",
        "sizes=6", "seeds=1", "baseline=false", "--db", db, "-j", "1", "--no-report",
    ]  # fmt: skip
    assert run_main(bench, capsys)[0] == 0
    frame = pd.read_csv(path)
    frame.loc[0, "question"] = "a question that was edited"
    frame.to_csv(path, index=False)
    code, out, err = run_main([*bench, "--dry-run"], capsys)
    assert code == 0 and "0 already stored" in out, out + err
    assert run_main(bench, capsys)[0] == 0
    code, out, _ = run_main(["results", "--db", db], capsys)
    assert "the file changed since earlier runs" in out, out
    # one trial (no spread): the old content's trial is not averaged in
    assert re.search(r"glove50 \+ centroid │ \d\.\d{3} ± – │", out), out


def test_a_file_of_texts_alone_is_featurized_and_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "texts.csv"
    path.write_text("id,text\n" + "".join(f"t{i},{t}\n" for i, (_, t, _) in enumerate(
        made_up_rows(12))), "utf-8")  # fmt: skip
    out_path = tmp_path / "texts.npy"
    code, out, err = run_main(
        ["featurize", str(path), "-f", "glove50", "--out", str(out_path)], capsys
    )
    assert code == 0, err
    assert "texts.csv/unlabeled · glove50: 12 x 50" in out
    assert np.load(out_path).shape == (12, 50)
    rows = pd.read_csv(tmp_path / "texts.rows.csv", keep_default_na=False)
    assert rows["id"].tolist()[:2] == ["t0", "t1"] and set(rows["split"]) == {"unlabeled"}
    code, out, err = run_main(["datasets", "show", str(path)], capsys)
    assert code == 0, err
    assert "no labels yet" in out and "(no label)" in out
    # the benchmark needs labels: it says so, naming the option that reads them
    code, out, err = run_main(["bench", "--datasets", str(path), "--dry-run"], capsys)
    assert code == 2 and "--label-column" in err, err
