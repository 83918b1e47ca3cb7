"""``SequenceTagger``, the sequence-labeling model for use: fit on sentences and tags, save ->
load -> identical probabilities, refusals, cross-validated entity F1, ``littledata train`` on a
CoNLL file, ``predict`` writing a tag per word, and the server's ``{"tokens": ...}`` requests.

Features: the made-up hashing encoder of test_models (registered under its name for the command
line), embedding each word on its own; the tags follow from cue words, so a tagger learns them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from _cli import run_main
from test_models import HashFeaturizer
from test_serve import running

from littledata.errors import ArtifactError, ArtifactIntegrityError, ConfigError, DataFormatError
from littledata.models import SequenceTagger, load_model
from littledata.models.artifact import ARRAYS_FILE, MANIFEST_FILE, read_manifest
from littledata.models.predict_file import TAGS_COLUMN, predict_file
from littledata.models.training import cross_validate_tagger, train_model
from littledata.serve import ModelSet
from littledata.serve.app import Limits, create_app

NAMES = ["Ada", "Alan", "Grace", "Edsger"]
PLACES = ["Paris", "London", "Rome", "Oslo"]
FILLER = ["lives", "in", "likes", "visited", "near", "the", "city", "and"]


def made_up_sentences(n: int = 30, seed: int = 0) -> tuple[list[list[str]], list[list[str]]]:
    """Sentences of filler words, names (B-PER) and places (B-LOC)."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        words, labels = [], []
        for _ in range(int(rng.integers(3, 7))):
            kind = rng.choice(["name", "place", "filler", "filler"])
            if kind == "name":
                words.append(str(rng.choice(NAMES)))
                labels.append("B-PER")
            elif kind == "place":
                words.append(str(rng.choice(PLACES)))
                labels.append("B-LOC")
            else:
                words.append(str(rng.choice(FILLER)))
                labels.append("O")
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


SENTENCES, TAGS = made_up_sentences()
NEW_SENTENCES, NEW_TAGS = made_up_sentences(8, seed=1)


def test_a_tagger_learns_tags_and_saves_to_identical_probabilities(tmp_path: Path) -> None:
    tagger = SequenceTagger(HashFeaturizer(), pooling="mean").fit(SENTENCES, TAGS)
    assert tagger.classes_.tolist() == ["B-LOC", "B-PER", "O"]
    assert tagger.predict(NEW_SENTENCES) == NEW_TAGS  # the cue words decide
    proba = tagger.predict_proba(NEW_SENTENCES)
    assert [p.shape for p in proba] == [(len(s), 3) for s in NEW_SENTENCES]
    folder = tagger.save(tmp_path / "tagger")
    manifest = read_manifest(folder)
    assert manifest["task"] == "sequence-labeling"
    assert manifest["model_params"] == {"pooling": "mean"}
    assert manifest["training_data"]["words"] == sum(len(s) for s in SENTENCES)
    loaded = load_model(folder, featurizer=HashFeaturizer())
    assert type(loaded) is SequenceTagger and loaded.pooling == "mean"
    for a, b in zip(loaded.predict_proba(NEW_SENTENCES), proba, strict=True):
        assert np.array_equal(a, b)
    assert loaded.score(NEW_SENTENCES, NEW_TAGS) == 1.0


def test_a_tagger_refuses_bad_inputs_and_bad_folders(tmp_path: Path) -> None:
    fz = HashFeaturizer()
    with pytest.raises(DataFormatError, match="sentence 1 has 2 words but 1 tags"):
        SequenceTagger(fz).fit([["a"], ["b", "c"]], [["O"], ["O"]])
    with pytest.raises(DataFormatError, match="sentence 0"):
        SequenceTagger(fz).fit(["a b"], [["O", "O"]])
    with pytest.raises(DataFormatError, match="no words"):
        SequenceTagger(fz).fit([[]], [[]])
    with pytest.raises(ConfigError, match="token features need a dense one"):
        SequenceTagger("tfidf").fit(SENTENCES, TAGS)
    with pytest.raises(ConfigError, match="does not serve sequence-labeling"):
        train_model(SENTENCES, TAGS, task="sequence-labeling", featurizer=fz, head="svm")
    folder = SequenceTagger(fz).fit(SENTENCES, TAGS).save(tmp_path / "t")
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["model_params"] = {"pooling": "max"}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="pooling 'max'"):
        load_model(folder, featurizer=fz)
    manifest["model_params"] = {"pooling": "first"}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert load_model(folder, featurizer=fz).pooling == "first"
    data = bytearray((folder / ARRAYS_FILE).read_bytes())
    data[-3] ^= 4
    (folder / ARRAYS_FILE).write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError):
        load_model(folder, featurizer=fz)


def test_tagger_training_cross_validates_entity_f1() -> None:
    fz = HashFeaturizer()
    model = train_model(
        SENTENCES, TAGS, task="sequence-labeling", featurizer=fz, folds=3, seed=1,
        test=(NEW_SENTENCES, NEW_TAGS),
    )  # fmt: skip
    cv = model.metrics_["cv"]
    assert cv["folds"] == 3 and cv["rows"] == len(SENTENCES)
    assert cv["entity_f1_mean"] == 1.0 and cv["token_accuracy_mean"] == 1.0
    assert model.metrics_["test"]["entity_f1"] == 1.0
    # a tag the folds cannot learn from cue words: entity F1 drops below 1
    noisy = [[("B-PER" if t == "B-LOC" and i % 2 else t) for t in s] for i, s in enumerate(TAGS)]
    X = model._features([SENTENCES], fz)
    out = cross_validate_tagger(model.head_, X, [len(s) for s in SENTENCES], noisy, folds=3, seed=1)
    assert out is not None and out["entity_f1_mean"] < 1.0


@pytest.fixture
def registered_hash() -> Iterator[str]:
    from littledata.features import FEATURIZERS, register

    register("test-hash-dense", description="hashed word vectors (tests)", dim=12)(HashFeaturizer)
    try:
        yield "test-hash-dense"
    finally:
        FEATURIZERS.remove("test-hash-dense")


def _conll(path: Path, sentences: list[list[str]], tags: list[list[str]]) -> Path:
    lines = []
    for words, labels in zip(sentences, tags, strict=True):
        lines += [f"{w} {t}" for w, t in zip(words, labels, strict=True)] + [""]
    path.write_text("\n".join(lines))
    return path


def test_train_a_conll_file_and_predict_tags(
    registered_hash: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = _conll(tmp_path / "ner.conll", SENTENCES, TAGS)
    out = tmp_path / "model"
    code, stdout, stderr = run_main(
        ["train", str(train), "--featurizer", registered_hash, "--folds", "3", "--out", str(out)],
        capsys,
    )
    assert code == 0, stderr
    assert "Training token-logreg" in stdout and "(sequence-labeling)" in stdout
    assert "30 sentences" in stdout and "entity F1 1.000" in stdout
    new = tmp_path / "new.jsonl"
    pd.DataFrame({"tokens": NEW_SENTENCES}).to_json(new, orient="records", lines=True)
    code, _, stderr = run_main(["predict", str(out), str(new), "-o", str(tmp_path / "p.csv")],
                               capsys)  # fmt: skip
    assert code == 0, stderr
    got = pd.read_csv(tmp_path / "p.csv")
    assert got[TAGS_COLUMN].map(json.loads).tolist() == NEW_TAGS
    # plain texts are split at whitespace
    texts = tmp_path / "texts.csv"
    pd.DataFrame({"text": [" ".join(s) for s in NEW_SENTENCES]}).to_csv(texts, index=False)
    done = predict_file(load_model(out), texts, out_format="jsonl")
    rows = [json.loads(line) for line in (done.data or b"").decode().splitlines()]
    assert [r[TAGS_COLUMN] for r in rows] == NEW_TAGS
    empty = tmp_path / "empty.csv"
    pd.DataFrame({"tokens": ['["Ada"]', "[]"]}).to_csv(empty, index=False)
    with pytest.raises(DataFormatError, match="rows 3"):
        predict_file(load_model(out), empty)


@pytest.fixture(scope="module")
def tag_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    root = tmp_path_factory.mktemp("tagger")
    first = SequenceTagger(HashFeaturizer()).fit(SENTENCES, TAGS).save(root / "ner")
    models = ModelSet.load([first], featurizers={"test-hash-dense": HashFeaturizer()})
    app = create_app(models, limits=Limits(max_texts=5, max_chars=500), max_wait=0.01)
    with running(app) as url:
        yield url, load_model(first, featurizer=HashFeaturizer())


def test_the_server_tags_tokens_as_offline(tag_server: tuple[str, Any]) -> None:
    url, model = tag_server
    body = {"tokens": NEW_SENTENCES[:5]}
    r = httpx.post(f"{url}/v1/models/ner/predict", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["task"] == "sequence-labeling" and got["labels"] == NEW_TAGS[:5]
    for a, b in zip(got["probabilities"], model.predict_proba(NEW_SENTENCES[:5]), strict=True):
        np.testing.assert_allclose(a, b)
    r = httpx.post(f"{url}/v1/predict", json=body)
    assert [a["model"] for a in r.json()["results"]] == ["ner"]
    health = httpx.get(f"{url}/healthz").json()["encoders"][0]
    assert health["requests"] >= 2 and health["texts"] >= 10


BAD = [
    ({"texts": ["Ada lives in Paris"]}, 422, "wrong_input", ['"tokens": [["word"']),
    ({"tokens": []}, 422, "invalid_request", ["tokens is empty"]),
    ({"tokens": [["Ada"], []]}, 422, "invalid_request", ["tokens[1] has no words"]),
    ({"tokens": [["Ada", " "]]}, 422, "invalid_request", ["tokens[0][1] is empty"]),
    ({"tokens": [["Ada", 3]]}, 422, "invalid_request", ["tokens[0][1]"]),
    ({"tokens": [["Ada"]] * 6}, 413, "too_many_texts", ["6 sentences", "5"]),
    ({"tokens": [["a" * 501]]}, 413, "too_many_characters", ["501"]),
    ({"tokens": [["Ada"]], "texts": ["Ada"]}, 422, "invalid_request", ["not both"]),
]


@pytest.mark.parametrize("body, status, kind, words", BAD, ids=[str(b[0])[:30] for b in BAD])
def test_bad_token_requests_get_a_4xx_json_error(
    tag_server: tuple[str, Any], body: dict[str, Any], status: int, kind: str, words: list[str]
) -> None:
    url, _ = tag_server
    r = httpx.post(f"{url}/v1/models/ner/predict", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["type"] == kind, error
    for word in words:
        assert word in error["message"], error["message"]


@pytest.mark.model
def test_minilm_pair_and_tagger_models_load_identically(tmp_path: Path) -> None:
    """The one MiniLM test of the task models: pair features and sub-word-aligned token
    features of the real encoder survive save -> load (the fingerprint checked on load)."""
    from test_task_models import NEW_PAIRS, PAIR_LABELS, PAIRS

    from littledata.models import PairClassifier

    pairs = PairClassifier("minilm", "logreg").fit(PAIRS, PAIR_LABELS)
    loaded = load_model(pairs.save(tmp_path / "pairs"))
    assert np.array_equal(loaded.predict_proba(NEW_PAIRS), pairs.predict_proba(NEW_PAIRS))
    tagger = SequenceTagger("minilm").fit(SENTENCES, TAGS)
    back = load_model(tagger.save(tmp_path / "tagger"))
    for a, b in zip(back.predict_proba(NEW_SENTENCES), tagger.predict_proba(NEW_SENTENCES),
                    strict=True):  # fmt: skip
        assert np.array_equal(a, b)
    assert tagger.score(NEW_SENTENCES, NEW_TAGS) > 0.9
