"""Models for use beyond single labels: sentence pairs (``PairClassifier``) and several labels per
text (``MultiLabelClassifier``): fit, save -> load -> identical probabilities, the refusals of
loading, training with cross-validated metrics, and ``littledata train`` / ``predict`` on small
made-up CSV files.

Features are the made-up hashing encoder of test_models or tf-idf, so everything runs in seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from _cli import run_main
from sklearn.model_selection import cross_val_score
from test_models import HashFeaturizer

from littledata.errors import (
    ArtifactError,
    ArtifactIntegrityError,
    DataFormatError,
    FeaturizerMismatchError,
)
from littledata.features import featurize
from littledata.models import (
    MultiLabelClassifier,
    PairClassifier,
    TextClassifier,
    load_model,
)
from littledata.models.artifact import ARRAYS_FILE, MANIFEST_FILE, read_manifest
from littledata.models.pairs import as_pairs
from littledata.models.predict_file import LABELS_COLUMN, PREDICTION_COLUMN, predict_file
from littledata.models.training import cross_validate_multilabel, train_model
from littledata.tasks.sentence_pair import pair_features

WORDS = ["cat", "dog", "sun", "rain", "tea", "map", "car", "pen", "box", "cup", "hat", "key"]


def made_up_pairs(n: int = 40, seed: int = 0) -> tuple[list[tuple[str, str]], list[str]]:
    """Pairs whose second text repeats the first's words in another order ("same") or has
    other words ("other")."""
    rng = np.random.default_rng(seed)
    pairs, labels = [], []
    for i in range(n):
        words = list(rng.choice(WORDS, size=3, replace=False))
        if i % 2 == 0:
            pairs.append((" ".join(words), " ".join(rng.permutation(words))))
            labels.append("same")
        else:
            others = [w for w in WORDS if w not in words]
            pairs.append((" ".join(words), " ".join(rng.choice(others, size=3, replace=False))))
            labels.append("other")
    return pairs, labels


def made_up_label_sets(n: int = 48, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """Texts with a word for each of their labels (joy, anger, fear) among filler words."""
    rng = np.random.default_rng(seed)
    cue = {"joy": "happy", "anger": "furious", "fear": "scared"}
    texts, labels = [], []
    for i in range(n):
        chosen = [name for j, name in enumerate(cue) if (i >> j) & 1] or ["joy"]
        if i % 7 == 0:
            chosen = []
        words = [cue[name] for name in chosen] + list(rng.choice(WORDS, size=3))
        texts.append(" ".join(rng.permutation(words)))
        labels.append(chosen)
    return texts, labels


PAIRS, PAIR_LABELS = made_up_pairs()
NEW_PAIRS, _ = made_up_pairs(10, seed=1)
TEXTS, LABEL_SETS = made_up_label_sets()
NEW_TEXTS, _ = made_up_label_sets(12, seed=1)


# -- sentence pairs ------------------------------------------------------------------------------


def test_pairs_are_read_from_tuples_arrays_and_frames() -> None:
    expected = [["a b", "c"], ["d", "e f"]]
    assert as_pairs([("a b", "d"), ("c", "e f")]) == expected
    assert as_pairs(np.array([["a b", "d"], ["c", "e f"]], dtype=object)) == expected
    assert as_pairs(pd.DataFrame({"x": ["a b", "c"], "y": ["d", "e f"]})) == expected
    with pytest.raises(DataFormatError, match="pair 1"):
        as_pairs([("a", "b"), "c d"])
    with pytest.raises(DataFormatError, match=r"\(n, 2\)"):
        as_pairs(np.array(["a", "b"]))
    with pytest.raises(DataFormatError, match="two columns"):
        as_pairs(pd.DataFrame({"x": ["a"], "y": ["b"], "z": ["c"]}))
    with pytest.raises(DataFormatError, match="row 1"):
        as_pairs([("a", "b"), ("c", None)])


def test_pair_features_are_the_formula_of_both_sides_encoded_apart() -> None:
    fz = HashFeaturizer()
    model = PairClassifier(fz, "logreg", cache=False).fit(PAIRS, PAIR_LABELS)
    u = featurize([a for a, _ in NEW_PAIRS], fz, cache=False)
    v = featurize([b for _, b in NEW_PAIRS], fz, cache=False)
    assert np.array_equal(model.featurize(NEW_PAIRS), pair_features(u, v))
    assert model.featurize(NEW_PAIRS).shape == (len(NEW_PAIRS), 4 * fz.dim)
    # |u - v| tells a reordered copy from other words: the held-out pairs are all right
    truth = ["same" if sorted(a.split()) == sorted(b.split()) else "other" for a, b in NEW_PAIRS]
    assert model.predict(NEW_PAIRS).tolist() == truth


PAIR_CASES = [
    ("dense", "logreg"),
    ("layers", "layermix"),
    ("sparse", "logreg"),
    ("dense", "centroid"),
]


@pytest.mark.parametrize(("kind", "head"), PAIR_CASES)
def test_a_pair_model_saves_and_loads_to_identical_probabilities(kind, head, tmp_path) -> None:
    fz = "tfidf" if kind == "sparse" else HashFeaturizer(kind)
    params = {"max_epochs": 20, "lr": 0.02} if head == "layermix" else None
    model = PairClassifier(fz, head, head_params=params).fit(PAIRS, PAIR_LABELS)
    folder = model.save(tmp_path / "pairs")
    assert read_manifest(folder)["task"] == "sentence-pair"
    loaded = load_model(folder, featurizer=None if kind == "sparse" else HashFeaturizer(kind))
    assert type(loaded) is PairClassifier
    assert np.array_equal(loaded.predict_proba(NEW_PAIRS), model.predict_proba(NEW_PAIRS))
    assert loaded.classes_.tolist() == ["other", "same"]


def test_loading_refuses_another_task_a_tampered_folder_and_another_encoder(tmp_path) -> None:
    pairs = PairClassifier(HashFeaturizer(), "logreg").fit(PAIRS, PAIR_LABELS)
    single = TextClassifier(HashFeaturizer(), "logreg").fit(TEXTS, ["a", "b"] * 24)
    pair_dir, single_dir = pairs.save(tmp_path / "p"), single.save(tmp_path / "s")
    with pytest.raises(ArtifactError, match=r"sentence-pair.*PairClassifier"):
        TextClassifier.load(pair_dir, featurizer=HashFeaturizer())
    with pytest.raises(ArtifactError, match="single-label"):
        PairClassifier.load(single_dir, featurizer=HashFeaturizer())
    assert type(load_model(single_dir, featurizer=HashFeaturizer())) is TextClassifier
    with pytest.raises(FeaturizerMismatchError):
        load_model(pair_dir, featurizer=HashFeaturizer(seed=1))
    manifest = json.loads((pair_dir / MANIFEST_FILE).read_text())
    manifest["task"] = "telepathy"
    (pair_dir / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="telepathy"):
        load_model(pair_dir, featurizer=HashFeaturizer())
    data = bytearray((single_dir / ARRAYS_FILE).read_bytes())
    data[-1] ^= 1
    (single_dir / ARRAYS_FILE).write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="altered"):
        load_model(single_dir, featurizer=HashFeaturizer())


# -- several labels per text ---------------------------------------------------------------------


def test_label_sets_lists_frames_and_matrices_give_the_same_model() -> None:
    fz = HashFeaturizer()
    from_lists = MultiLabelClassifier(fz, "logreg").fit(TEXTS, LABEL_SETS)
    names = from_lists.classes_.tolist()
    assert names == ["anger", "fear", "joy"]
    matrix = np.array([[int(n in s) for n in names] for s in LABEL_SETS])
    from_frame = MultiLabelClassifier(fz, "logreg").fit(TEXTS, pd.DataFrame(matrix, columns=names))
    from_matrix = MultiLabelClassifier(fz, "logreg", label_names=names).fit(TEXTS, matrix)
    for other in (from_frame, from_matrix):
        assert other.classes_.tolist() == names
        assert np.array_equal(other.predict_proba(NEW_TEXTS), from_lists.predict_proba(NEW_TEXTS))
    unnamed = MultiLabelClassifier(fz, "logreg").fit(TEXTS, matrix)
    assert unnamed.classes_.tolist() == [0, 1, 2]
    # predict is the 0/1 matrix of the thresholds; predict_labels names its ones
    proba = from_lists.predict_proba(NEW_TEXTS)
    pred = from_lists.predict(NEW_TEXTS)
    assert np.array_equal(pred, (proba >= from_lists.thresholds_).astype(np.uint8))
    assert from_lists.predict_labels(NEW_TEXTS) == [
        [n for n, bit in zip(names, row, strict=True) if bit] for row in pred
    ]
    with pytest.raises(DataFormatError, match="not among label_names"):
        MultiLabelClassifier(fz, label_names=["joy"]).fit(TEXTS, LABEL_SETS)
    with pytest.raises(DataFormatError, match="list of labels per text"):
        MultiLabelClassifier(fz).fit(TEXTS, ["joy"] * len(TEXTS))
    with pytest.raises(DataFormatError, match="only 0 and 1"):
        MultiLabelClassifier(fz).fit(TEXTS, matrix * 2)


@pytest.mark.parametrize(("fz_kind", "head"), [("dense", "logreg"), ("sparse", "logreg"),
                                               ("dense", "knn")])  # fmt: skip
def test_a_multilabel_model_saves_and_loads_to_identical_probabilities(
    fz_kind, head, tmp_path
) -> None:
    fz = "tfidf" if fz_kind == "sparse" else HashFeaturizer()
    # "fear" never appears: a constant label, saved without a head
    sets = [[n for n in s if n != "fear"] + (["calm"] if not s else []) for s in LABEL_SETS]
    model = MultiLabelClassifier(fz, head, label_names=["anger", "calm", "fear", "joy"])
    model.fit(TEXTS, sets)
    assert model.head_.estimators_[2] is None
    folder = model.save(tmp_path / "ml")
    manifest = read_manifest(folder)
    assert manifest["task"] == "multi-label"
    assert manifest["labels"] == ["anger", "calm", "fear", "joy"]
    assert manifest["head"]["thresholds"] == model.thresholds_.tolist()
    loaded = load_model(folder, featurizer=None if fz_kind == "sparse" else HashFeaturizer())
    assert type(loaded) is MultiLabelClassifier
    assert np.array_equal(loaded.predict_proba(NEW_TEXTS), model.predict_proba(NEW_TEXTS))
    assert np.array_equal(loaded.thresholds_, model.thresholds_)
    assert loaded.predict_labels(NEW_TEXTS) == model.predict_labels(NEW_TEXTS)
    assert loaded.get_params()["threshold_cv"] == 3


def test_a_multilabel_manifest_that_disagrees_with_its_arrays_is_refused(tmp_path) -> None:
    model = MultiLabelClassifier(HashFeaturizer(), "logreg").fit(TEXTS, LABEL_SETS)
    folder = model.save(tmp_path / "ml")
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["head"]["thresholds"][0] = 0.01
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="thresholds differ"):
        load_model(folder, featurizer=HashFeaturizer())
    manifest["head"]["thresholds"][0] = model.thresholds_[0]
    manifest["head"]["labels"][1]["name"] = "svm"
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="label 1"):
        load_model(folder, featurizer=HashFeaturizer())
    manifest["head"]["labels"][1]["name"] = "logreg"
    manifest["labels"] = ["anger", "joy"]
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="2 labels"):
        load_model(folder, featurizer=HashFeaturizer())


def test_the_models_work_with_scikit_learn_cross_validation() -> None:
    pair_scores = cross_val_score(PairClassifier("tfidf", "logreg"), PAIRS, PAIR_LABELS, cv=3)
    assert pair_scores.shape == (3,)
    matrix = np.array([[int(n in s) for n in ("anger", "fear", "joy")] for s in LABEL_SETS])
    scores = cross_val_score(
        MultiLabelClassifier("tfidf", "logreg"), TEXTS, matrix, cv=3, scoring="f1_micro"
    )
    assert scores.shape == (3,) and np.all(scores > 0.5)


def test_multilabel_training_reports_cross_validated_f1(tmp_path) -> None:
    model = train_model(TEXTS, LABEL_SETS, task="multi-label", featurizer="tfidf", folds=4, seed=2)
    cv = model.metrics_["cv"]
    assert cv["folds"] == 4 and cv["rows"] == len(TEXTS)
    for metric in ("micro_f1", "macro_f1", "subset_accuracy"):
        assert 0.0 <= cv[f"{metric}_mean"] <= 1.0 and cv[f"{metric}_std"] >= 0.0
    assert set(cv["label_f1"]) == {"anger", "fear", "joy"}
    # the same folds by hand: each fold's model tunes its own thresholds
    X = featurize(TEXTS, model._checked_featurizer())
    again = cross_validate_multilabel(
        model.head_, X, model._targets(LABEL_SETS, len(TEXTS))[0], folds=4, seed=2,
        names=model.classes_,
    )  # fmt: skip
    assert again == cv
    assert read_manifest(model.save(tmp_path / "m"))["metrics"]["cv"] == cv


def test_pair_training_and_a_test_split(tmp_path) -> None:
    fz = HashFeaturizer()
    model = train_model(
        PAIRS, PAIR_LABELS, task="sentence-pair", featurizer=fz, folds=3,
        test=(NEW_PAIRS, ["other"] * len(NEW_PAIRS)),
    )  # fmt: skip
    assert type(model) is PairClassifier
    assert model.metrics_["cv"]["accuracy_mean"] > 0.9
    assert model.metrics_["test"]["rows"] == len(NEW_PAIRS)


# -- the command line on made-up files -----------------------------------------------------------


def test_train_and_predict_a_pair_csv(tmp_path, capsys) -> None:
    train = tmp_path / "pairs.csv"
    pd.DataFrame(
        {"q1": [a for a, _ in PAIRS], "q2": [b for _, b in PAIRS], "dup": PAIR_LABELS}
    ).to_csv(train, index=False)
    out = tmp_path / "model"
    code, stdout, stderr = run_main(
        ["train", str(train), "--text-column", "q1", "--text-pair-column", "q2",
         "--label-column", "dup", "--featurizer", "tfidf", "--folds", "3", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, stderr
    assert "(sentence-pair)" in stdout and "40 pairs" in stdout and "Cross-validated" in stdout
    assert read_manifest(out)["task"] == "sentence-pair"
    new = tmp_path / "new.csv"
    pd.DataFrame({"q1": [a for a, _ in NEW_PAIRS], "q2": [b for _, b in NEW_PAIRS]}).to_csv(
        new, index=False
    )
    code, stdout, stderr = run_main(["predict", str(out), str(new), "-o", str(tmp_path / "p.csv")],
                                    capsys)  # fmt: skip
    assert code == 0, stderr
    assert "'q1' and 'q2'" in stderr  # the columns the model was trained on
    got = pd.read_csv(tmp_path / "p.csv")
    proba = load_model(out).predict_proba(NEW_PAIRS)
    assert np.allclose(got[["probability_other", "probability_same"]].to_numpy(), proba)
    assert got[PREDICTION_COLUMN].tolist() == load_model(out).predict(NEW_PAIRS).tolist()
    # other column names: named with the options; a missing second column is a clear error
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(new).rename(columns={"q1": "a", "q2": "b"}).to_csv(renamed, index=False)
    done = predict_file(load_model(out), renamed, text_column="a", text_pair_column="b")
    assert done.text_pair_column == "b" and done.rows == len(NEW_PAIRS)
    code, _, stderr = run_main(["predict", str(out), str(renamed), "--text-column", "a"], capsys)
    assert code == 2 and "text_pair" in stderr and "Traceback" not in stderr


def test_train_and_predict_a_multilabel_csv(tmp_path, capsys) -> None:
    train = tmp_path / "emotions.csv"
    pd.DataFrame({"text": TEXTS, "labels": [json.dumps(s) for s in LABEL_SETS]}).to_csv(
        train, index=False
    )
    out = tmp_path / "model"
    code, stdout, stderr = run_main(
        ["train", str(train), "--featurizer", "tfidf", "--folds", "3", "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert "(multi-label)" in stdout and "3 labels" in stdout
    assert "micro-F1" in stdout and "Weakest labels" in stdout and "rows): accuracy" not in stdout
    manifest = read_manifest(out)
    assert manifest["task"] == "multi-label" and manifest["labels"] == ["anger", "fear", "joy"]
    new = tmp_path / "new.jsonl"
    pd.DataFrame({"text": NEW_TEXTS}).to_json(new, orient="records", lines=True)
    model = load_model(out)
    for suffix in ("csv", "jsonl"):
        target = tmp_path / f"p.{suffix}"
        code, _, stderr = run_main(["predict", str(out), str(new), "-o", str(target)], capsys)
        assert code == 0, stderr
        got = pd.read_csv(target) if suffix == "csv" else pd.read_json(target, lines=True)
        sets = got[LABELS_COLUMN].map(json.loads) if suffix == "csv" else got[LABELS_COLUMN]
        assert [list(s) for s in sets] == model.predict_labels(NEW_TEXTS)
        columns = [f"probability_{n}" for n in ("anger", "fear", "joy")]
        assert np.allclose(got[columns].to_numpy(), model.predict_proba(NEW_TEXTS))
    # one 0/1 column per label trains the same labels
    wide = tmp_path / "wide.csv"
    frame = pd.DataFrame({"text": TEXTS})
    for name in ("anger", "fear", "joy"):
        frame[name] = [int(name in s) for s in LABEL_SETS]
    frame.to_csv(wide, index=False)
    code, _, stderr = run_main(
        ["train", str(wide), "--label-columns", "joy,anger,fear", "--featurizer", "tfidf",
         "--out", str(tmp_path / "wide-model")], capsys,
    )  # fmt: skip
    assert code == 0, stderr
    assert read_manifest(tmp_path / "wide-model")["labels"] == ["joy", "anger", "fear"]


def test_a_pair_column_for_a_one_text_model_is_refused(tmp_path) -> None:
    model = MultiLabelClassifier("tfidf").fit(TEXTS, LABEL_SETS)
    new = tmp_path / "new.csv"
    pd.DataFrame({"text": NEW_TEXTS}).to_csv(new, index=False)
    from littledata.errors import ConfigError

    with pytest.raises(ConfigError, match="sentence-pair models"):
        predict_file(model, new, text_pair_column="text")
