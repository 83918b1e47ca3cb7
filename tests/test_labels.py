"""Label vocabularies across files: one vocabulary for files loaded together, and names (never
bare integers) compared wherever labels meet (metrics, heads, the active learner)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from typer.testing import CliRunner

import littledata
from littledata.errors import ConfigError
from littledata.experiments.metrics import compute_metrics
from littledata.heads import make_head
from littledata.labels import LabelArray, LabelVocabularyError, align

ALL = ["cat", "dog", "emu"]


def _write(path, rows, header="text,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def train_test_files(tmp_path):
    train = _write(tmp_path / "train.csv", [f"{a} number {i},{a}" for a in ALL for i in range(6)])
    test = _write(
        tmp_path / "test.csv", [f"{a} sample {i},{a}" for a in ("dog", "emu") for i in range(5)]
    )
    return train, test


def _features(split):
    """Features that identify each row's true label name exactly (so a right answer is 1.0)."""
    rng = np.random.default_rng(0)
    names = split.labels.names()
    X = np.stack([np.eye(3)[ALL.index(n)] * 4 for n in names]) + rng.normal(0, 0.1, (len(names), 3))
    return X.astype(np.float32)


@pytest.mark.parametrize("head", ["logreg", "centroid", "svm", "knn"])
def test_a_test_file_missing_a_class_is_scored_right(train_test_files, head):
    # train cat, dog, emu -> 0, 1, 2; a test file with only dog, emu, loaded apart -> 0, 1.
    train_path, test_path = train_test_files
    train = littledata.load_dataset(train_path).train
    test = littledata.load_dataset(test_path).train
    assert np.asarray(test.labels).tolist()[:1] == [0]  # its own indices: dog is 0 here
    model = make_head(head).fit(_features(train), train.labels)
    assert model.classes_.tolist() == ALL  # learned as names
    proba = model.predict_proba(_features(test))
    # comparing the integers scored dog rows against "cat" (accuracy 0.0); names give 1.0
    assert compute_metrics(test.labels, proba, model.classes_)["accuracy"] == 1.0
    assert np.mean(model.predict(_features(test)) == test.labels) == 1.0


def test_a_head_that_learns_bare_integers_cannot_be_scored_against_names(train_test_files):
    # logreg-default is scikit-learn's own LogisticRegression: it turns the labels into bare
    # integers, so scoring it against another file's named labels is refused, not guessed
    train_path, test_path = train_test_files
    train = littledata.load_dataset(train_path).train
    test = littledata.load_dataset(test_path).train
    model = make_head("logreg-default").fit(_features(train), train.labels)
    assert model.classes_.tolist() == [0, 1, 2]
    with pytest.raises(LabelVocabularyError, match="names are unknown"):
        compute_metrics(test.labels, model.predict_proba(_features(test)), model.classes_)


def test_train_and_test_files_loaded_together_share_one_vocabulary(train_test_files):
    train_path, test_path = train_test_files
    ds = littledata.load_dataset(train=train_path, test=test_path)
    assert ds.label_names == ALL and list(ds.splits) == ["train", "test"]
    assert ds.test.labels.label_names == tuple(ALL)
    assert sorted(set(np.asarray(ds.test.labels).tolist())) == [1, 2]  # dog, emu: train's indices
    assert ds.test.meta["file"][0] == "test.csv" and ds.test.meta["row"][0] == 2
    X_train, X_test = _features(ds.train), _features(ds.test)
    # plain integers are safe here: one vocabulary
    model = make_head("logreg").fit(X_train, np.asarray(ds.train.labels))
    pred = model.predict(X_test)
    assert np.mean(pred == np.asarray(ds.test.labels)) == 1.0


def test_a_list_of_files_and_label_names(tmp_path):
    a = _write(tmp_path / "a.csv", ["x one,10", "x two,2"])
    b = _write(tmp_path / "b.jsonl", [], header="")
    b.write_text('{"text": "y", "label": "1"}\n{"text": "z", "label": "2"}\n', encoding="utf-8")
    ds = littledata.load_dataset([a, b])
    assert ds.name == "a+b" and ds.label_names == ["1", "2", "10"]  # numerically, as one file
    assert ds.train.labels.names().tolist() == ["10", "2", "1", "2"]
    assert ds.train.meta["file"] == ["a.csv", "a.csv", "b.jsonl", "b.jsonl"]
    ds = littledata.load_dataset([a, b], label_names=["10", "2", "1", "7"])
    assert np.asarray(ds.train.labels).tolist() == [0, 1, 2, 1]


def test_split_columns_still_work_across_files(tmp_path):
    a = _write(tmp_path / "a.csv", ["t1,cat,train", "t2,dog,test"], header="text,label,split")
    b = _write(tmp_path / "b.csv", ["t3,emu,train"], header="text,label,split")
    ds = littledata.load_dataset([a, b])
    assert ds.label_names == ALL
    assert ds.train.labels.names().tolist() == ["cat", "emu"]
    assert ds.test.labels.names().tolist() == ["dog"]
    with pytest.raises(ConfigError, match="given as test="):
        littledata.load_dataset(train=b, test=a)


def test_conll_files_share_one_tag_vocabulary(tmp_path):
    a = tmp_path / "a.conll"
    a.write_text("Paris B-LOC\nis O\n\nBob B-PER\n", encoding="utf-8")
    b = tmp_path / "b.conll"
    b.write_text("Bob B-PER\nsat O\n", encoding="utf-8")
    ds = littledata.load_dataset(train=a, test=b)
    assert ds.label_names == ["O", "B-LOC", "B-PER"]
    assert np.asarray(ds.test.labels[0]).tolist() == [2, 0]


def test_registered_names_do_not_take_files():
    with pytest.raises(ConfigError, match="registered dataset"):
        littledata.load_dataset("trec", test="x.csv")
    with pytest.raises(ConfigError, match="Give at least one file"):
        littledata.load_dataset([])


# ---------------------------------------------------------------- names at every boundary


def test_metrics_refuse_names_against_bare_integers():
    y = LabelArray([1, 2], ALL)
    with pytest.raises(LabelVocabularyError, match="integers"):
        compute_metrics(y, [[0.9, 0.1], [0.2, 0.8]], [0, 1])  # classes of another vocabulary?
    with pytest.raises(LabelVocabularyError, match="names are unknown"):
        compute_metrics([0, 1], [[0.9, 0.1], [0.2, 0.8]], ["dog", "emu"])
    # integers against integers: compared as they are; names against names: by name
    assert compute_metrics([0, 1], [[0.9, 0.1], [0.2, 0.8]], [0, 1])["accuracy"] == 1.0
    classes = LabelArray([1, 2], ["x", "dog", "emu"])
    assert compute_metrics(y, [[0.9, 0.1], [0.2, 0.8]], classes)["accuracy"] == 1.0
    assert align(y, ["dog", "emu"])[0].tolist() == ["dog", "emu"]


def test_label_array_behaves_like_its_integers_and_keeps_its_names():
    y = LabelArray([2, 0, 1, 1], ALL)
    assert y[1:].label_names == tuple(ALL) and y[[0, 3]].names().tolist() == ["emu", "dog"]
    assert np.bincount(y).tolist() == [1, 2, 1] and int(y.max()) == 2
    assert type(y + 1) is np.ndarray and type(np.asarray(y)) is np.ndarray
    back = pickle.loads(pickle.dumps(y))
    assert back.label_names == tuple(ALL) and back.tolist() == y.tolist()
    other = LabelArray([1, 0, 0, 0], ["cat", "emu"])  # emu, cat, cat, cat
    assert (y == other).tolist() == [True, True, False, False]  # by name
    assert (y == "dog").tolist() == [False, False, True, True]
    assert (y == 1).tolist() == [False, False, True, True]  # an integer has no names to check
    assert np.concatenate([y, y[:1]]).label_names == tuple(ALL)
    with pytest.raises(LabelVocabularyError, match="different label names"):
        np.concatenate([y, other])
    with pytest.raises(littledata.LittleDataError, match=r"0\.\.2"):
        LabelArray([3], ALL)


def test_active_learner_is_taught_names_not_integers(train_test_files):
    from littledata.active import ActiveLearner

    test = littledata.load_dataset(train_test_files[1]).train  # dog, emu -> 0, 1
    X = np.random.default_rng(0).normal(size=(len(test), 4))
    learner = ActiveLearner(None, "centroid", "random", features=X, classes=ALL)
    learner.teach([0, 9], test.labels[[0, 9]])
    assert learner.labels == ["dog", "emu"]  # not cat, dog
    by_index = ActiveLearner(None, "centroid", "random", features=X, classes=[0, 1, 2])
    with pytest.raises(littledata.LittleDataError, match="'dog' is not in the label set"):
        by_index.teach([0], test.labels[[0]])


def test_cli_shows_a_train_and_a_test_file(train_test_files):
    from littledata.cli import app

    train_path, test_path = train_test_files
    result = CliRunner().invoke(
        app, ["datasets", "show", str(train_path), "--test", str(test_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    splits = json.loads(result.output)["splits"]
    assert [s["name"] for s in splits] == ["train", "test"]
    test = splits[1]
    assert test["label_counts"] == {"cat": 0, "dog": 5, "emu": 5}


def test_cli_simulates_active_learning_on_a_train_and_a_test_file(tmp_path):
    import re

    from littledata.cli import app

    fillers = ["sat here", "ran away", "ate food", "slept well", "looked around", "was seen"]
    rows = [f"the {a} {f} today {i}" for a in ALL for f in fillers for i in range(3)]
    train = _write(tmp_path / "animals.csv", [f"{r},{r.split()[1]}" for r in rows])
    test = _write(
        tmp_path / "held_out.csv",
        [f"a {a} {f},{a}" for a in ("dog", "emu") for f in fillers],
    )
    args = ["active", "simulate", "--dataset", str(train), "--test", str(test), "-f", "glove50"]
    args += ["--strategy", "random", "--init", "6", "--batch", "6", "--budget", "18"]
    args += ["--seeds", "1", "--head", "centroid", "--db", f"sqlite:///{tmp_path / 'r.db'}"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "1 run(s) simulated" in result.output
    # scored on the test file in the train file's vocabulary (the word names the class); in the
    # test file's own indices (dog, emu = 0, 1) nearly every row would count as wrong
    reference = float(re.search(r"whole training split.*?accuracy ([0-9.]+)", result.output)[1])
    assert reference > 0.8, result.output


def test_a_saved_model_keeps_the_names_and_scores_another_file_right(train_test_files, tmp_path):
    from littledata.models.classifier import TextClassifier, load_model

    train_path, test_path = train_test_files
    train = littledata.load_dataset(train_path).train
    test = littledata.load_dataset(test_path).train  # its own indices: dog, emu = 0, 1
    model = TextClassifier("tfidf", "centroid").fit(train.texts, train.labels)
    assert model.classes_.tolist() == ALL
    loaded = load_model(model.save(tmp_path / "model"))
    assert loaded.classes_.tolist() == ALL
    proba = loaded.predict_proba(test.texts)
    assert compute_metrics(test.labels, proba, loaded.classes_)["accuracy"] == 1.0
