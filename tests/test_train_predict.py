"""Training for use (cross-validated metrics in the manifest), ``littledata train`` and
``littledata predict`` on a user's file, and the active learner's export as the same artifact.

Features are tf-idf (raw texts, no encoder) or the made-up hashing encoder of test_models, so
everything here runs in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli import run_main as _run
from test_models import HashFeaturizer, corpus

from littledata.active import ActiveLearner
from littledata.errors import ConfigError, DataFormatError
from littledata.models import TextClassifier, load_model
from littledata.models.artifact import read_manifest
from littledata.models.predict_file import PREDICTION_COLUMN, predict_file
from littledata.models.training import confused_pairs, cross_validate_head, train_text_classifier


def noisy_rows(n_per_class: int = 30, seed: int = 0) -> tuple[list[str], list[str]]:
    """Three classes; ``alpha`` and ``beta`` share half their words, so they get confused."""
    rng = np.random.default_rng(seed)
    vocab = {
        "alpha": ["red", "green", "blue", "shared1", "shared2", "shared3"],
        "beta": ["one", "two", "three", "shared1", "shared2", "shared3"],
        "gamma": ["cat", "dog", "cow", "pig", "hen", "fox"],
    }
    texts, labels = [], []
    for label, words in vocab.items():
        for _ in range(n_per_class):
            texts.append(" ".join(rng.choice(words, size=2)))
            labels.append(label)
    return texts, labels


def test_confused_pairs_count_both_ways_and_sort() -> None:
    y = ["a", "a", "a", "b", "b", "c", "c"]
    p = ["b", "b", "a", "a", "b", "a", "c"]
    assert confused_pairs(y, p, ["a", "b", "c"]) == [
        {"a": "a", "b": "b", "a_as_b": 2, "b_as_a": 1},
        {"a": "a", "b": "c", "a_as_b": 0, "b_as_a": 1},
    ]
    assert confused_pairs(y, p, ["a", "b", "c"], top=1)[0]["a_as_b"] == 2
    assert confused_pairs(["a", "b"], ["a", "b"], ["a", "b"]) == []


def test_cross_validation_folds_are_capped_and_need_two_rows_per_class() -> None:
    from littledata.models import HeadClassifier

    X = np.random.default_rng(0).normal(size=(9, 4))
    y = np.array(["a"] * 6 + ["b"] * 3)
    out = cross_validate_head(HeadClassifier("centroid"), X, y, folds=5)
    assert out is not None and out["folds"] == 3 and out["rows"] == 9
    assert cross_validate_head(HeadClassifier("centroid"), X, np.array(["a"] * 8 + ["b"])) is None
    with pytest.raises(ConfigError, match="folds"):
        cross_validate_head(HeadClassifier("centroid"), X, y, folds=1)


def test_trained_metrics_are_measured_saved_and_loaded(tmp_path: Path) -> None:
    texts, labels = noisy_rows()
    model = train_text_classifier(texts, labels, featurizer="tfidf", folds=4, seed=1)
    cv = model.metrics_["cv"]
    assert cv["folds"] == 4 and cv["rows"] == 90
    # gamma is easy, alpha and beta overlap: accuracy below 1 and the worst pair is alpha/beta
    assert 0.5 < cv["accuracy_mean"] < 1.0 and cv["accuracy_std"] > 0
    assert {cv["confused_pairs"][0]["a"], cv["confused_pairs"][0]["b"]} == {"alpha", "beta"}
    # the folds are the seed's: the same seed gives the same figures
    again = train_text_classifier(texts, labels, featurizer="tfidf", folds=4, seed=1)
    assert again.metrics_ == model.metrics_
    folder = model.save(tmp_path / "m")
    manifest = read_manifest(folder)
    assert manifest["metrics"]["cv"] == cv
    assert (
        manifest["training_data"]["rows"] == 90 and len(manifest["training_data"]["sha256"]) == 64
    )
    assert load_model(folder).metrics_ == model.metrics_
    # a plain fit has no metrics, and saves none
    plain = TextClassifier("tfidf").fit(texts, labels)
    assert plain.metrics_ == {} and read_manifest(plain.save(tmp_path / "p"))["metrics"] == {}


def test_train_and_predict_commands_on_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts, labels = noisy_rows()
    split = ["test" if i % 6 == 0 else "train" for i in range(len(texts))]
    data = tmp_path / "tickets.csv"
    pd.DataFrame({"body": texts, "topic": labels, "split": split}).to_csv(data, index=False)
    out = tmp_path / "model"
    code, stdout, err = _run(
        ["train", str(data), "--text-column", "body", "--label-column", "topic",
         "--featurizer", "tfidf", "--out", str(out)], capsys,
    )  # fmt: skip
    assert code == 0, err
    manifest = read_manifest(out)
    cv = manifest["metrics"]["cv"]
    assert f"accuracy {cv['accuracy_mean']:.3f} ± {cv['accuracy_std']:.3f}" in stdout
    assert f"macro-F1 {cv['macro_f1_mean']:.3f}" in stdout
    assert "alpha <-> beta" in stdout and "Held-out test (15 rows)" in stdout
    assert manifest["metrics"]["test"]["rows"] == 15 and manifest["training_data"]["rows"] == 75
    assert manifest["training_data"]["source"]["text_column"] == "body"
    # a second train to the same folder is refused unless --overwrite
    code, _, err = _run(["train", str(data), "--text-column", "body", "--label-column", "topic",
                         "--featurizer", "tfidf", "--out", str(out)], capsys)  # fmt: skip
    assert code == 2 and "already exists" in err

    new = pd.DataFrame({"id": [7, 8, 9], "text": ["cat dog", "red one", "fox hen"]})
    for ext in ("csv", "tsv", "jsonl", "parquet"):
        src = tmp_path / f"new.{ext}"
        if ext == "parquet":
            new.to_parquet(src)
        elif ext == "jsonl":
            new.to_json(src, orient="records", lines=True)
        else:
            new.to_csv(src, index=False, sep="\t" if ext == "tsv" else ",")
        dest = tmp_path / f"pred.{ext}"
        code, _, err = _run(["predict", str(out), str(src), "--out", str(dest)], capsys)
        assert code == 0, err
        got = (
            pd.read_parquet(dest) if ext == "parquet"
            else pd.read_json(dest, lines=True) if ext == "jsonl"
            else pd.read_csv(dest, sep="\t" if ext == "tsv" else ",")
        )  # fmt: skip
        model = load_model(out)
        proba = model.predict_proba(new["text"].tolist())
        assert list(got.columns) == ["id", "text", PREDICTION_COLUMN] + [
            f"probability_{c}" for c in model.classes_
        ]
        assert got["id"].astype(str).tolist() == ["7", "8", "9"]
        assert got[PREDICTION_COLUMN].tolist() == model.predict(new["text"].tolist()).tolist()
        np.testing.assert_allclose(got.iloc[:, 3:].to_numpy(dtype=float), proba, rtol=1e-9)
    # no --out: CSV on standard output
    code, stdout, _ = _run(["predict", str(out), str(tmp_path / "new.csv")], capsys)
    assert code == 0 and stdout.splitlines()[0].startswith("id,text,predicted_label,")
    assert len(stdout.splitlines()) == 4


def test_predict_file_errors_are_clear(tmp_path: Path) -> None:
    texts, labels = noisy_rows(10)
    model = TextClassifier("tfidf").fit(texts, labels)
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "cat"}\n{"text": null}\n{"other": 1}\n')
    with pytest.raises(DataFormatError, match=r"2 rows have no text in column 'text' \(rows 2, 3"):
        predict_file(model, src, tmp_path / "o.csv")
    src.write_text('{"body": "cat"}\n')
    with pytest.raises(DataFormatError, match="Available columns: 'body'"):
        predict_file(model, src, tmp_path / "o.csv")
    with pytest.raises(ConfigError, match="xlsx"):
        predict_file(model, src, tmp_path / "o.xlsx", text_column="body")
    assert not (tmp_path / "o.csv").exists()
    # a second run over its own output replaces the prediction columns
    done = predict_file(model, src, tmp_path / "o.csv", text_column="body")
    again = predict_file(model, tmp_path / "o.csv", tmp_path / "o2.csv", text_column="body")
    assert done.rows == again.rows == 1
    assert list(pd.read_csv(tmp_path / "o2.csv").columns) == list(
        pd.read_csv(tmp_path / "o.csv").columns
    )


def test_the_active_learner_exports_the_same_artifact(tmp_path: Path) -> None:
    texts, labels = corpus(12)
    fz = HashFeaturizer()
    learner = ActiveLearner(fz, "logreg", "margin", texts=texts, classes=sorted(set(labels)))
    learner.teach([0], [labels[0]])
    with pytest.raises(ConfigError, match="at least two classes"):
        learner.export(tmp_path / "none")
    rows = list(range(0, len(texts), 2))
    learner.teach([r for r in rows if r != 0], [labels[r] for r in rows if r != 0])
    folder = learner.export(tmp_path / "exported")
    model = load_model(folder, featurizer=fz)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["training_data"]["rows"] == learner.n_labeled
    assert manifest["metrics"]["cv"]["rows"] == learner.n_labeled
    assert manifest["featurizer"]["fingerprint"] == fz.fingerprint
    # the exported model predicts as the learner's own model does
    np.testing.assert_allclose(model.predict_proba(texts), learner.predict_proba(texts), atol=1e-6)
    assert model.predict(texts).tolist() == learner.predict(texts)
    with pytest.raises(ConfigError, match="already exists"):
        learner.export(tmp_path / "exported")
    bare = ActiveLearner(None, "logreg", "margin", features=fz.transform(texts), classes=["a", "b"])
    bare.teach([0, 1], ["a", "b"])
    with pytest.raises(ConfigError, match="without a featurizer"):
        bare.export(tmp_path / "bare")


def test_predict_command_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts, labels = noisy_rows(10)
    folder = TextClassifier("tfidf").fit(texts, labels).save(tmp_path / "m")
    (tmp_path / "latin1.csv").write_bytes("text\ncafé\n".encode("latin-1"))
    cases = [
        ([str(tmp_path / "missing.csv")], "File not found"),
        ([str(tmp_path / "latin1.csv")], "UTF-8"),
        ([str(tmp_path / "latin1.csv"), "--encoding", "latin-1", "--out-format", "xls"], "xls"),
        ([str(tmp_path / "latin1.csv"), "--encoding", "latin-1", "--text-column", "t"], "'t'"),
    ]
    for args, needle in cases:
        code, _, err = _run(["predict", str(folder), *args], capsys)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), err
        assert needle in lines[0], lines[0]
