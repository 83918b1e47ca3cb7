"""The HTTP server with models of every task: a sentence-pair model answers ``{"pairs": ...}``, a
multi-label model answers a list of labels per text, both as offline; texts for a pair model, pairs
for a text model and malformed pairs get 4xx JSON errors; the two texts of a pair share one
encoder call with the other models on that encoder. Also ``littledata serve --max-body-bytes``.

The server runs for real on a loopback port (uvicorn in a thread, see test_serve) and is called
with httpx; the models use the made-up hashing encoder, so this runs in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from _cli import run_main
from test_models import HashFeaturizer, corpus
from test_serve import running
from test_task_models import LABEL_SETS, NEW_PAIRS, NEW_TEXTS, PAIR_LABELS, PAIRS, TEXTS

from littledata.models import MultiLabelClassifier, PairClassifier, TextClassifier, load_model
from littledata.serve import ModelSet
from littledata.serve.app import Limits, create_app


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A pair model, a multi-label model and a single-label model, all on the hashing encoder,
    and a pair model on tf-idf."""
    root = tmp_path_factory.mktemp("tasks")
    fz = HashFeaturizer()
    texts, labels = corpus(12)
    return {
        "para": PairClassifier(fz, "logreg").fit(PAIRS, PAIR_LABELS).save(root / "para"),
        "feel": MultiLabelClassifier(fz, "logreg").fit(TEXTS, LABEL_SETS).save(root / "feel"),
        "topics": TextClassifier(fz, "logreg").fit(texts, labels).save(root / "topics"),
        "para-words": PairClassifier("tfidf", "logreg")
        .fit(PAIRS, PAIR_LABELS)
        .save(root / "para-words"),
    }


@pytest.fixture(scope="module")
def server(folders: dict[str, Path]) -> Iterator[str]:
    models = ModelSet.load(
        list(folders.values()), featurizers={"test-hash-dense": HashFeaturizer()}
    )
    app = create_app(models, limits=Limits(max_texts=20, max_chars=2000), max_wait=0.02)
    with running(app) as url:
        yield url


def offline(folders: dict[str, Path], name: str) -> Any:
    return load_model(folders[name], featurizer=None if "words" in name else HashFeaturizer())


def test_a_pair_model_answers_pairs_as_offline(server: str, folders: dict[str, Path]) -> None:
    body = {"pairs": [list(p) for p in NEW_PAIRS]}
    with httpx.Client(base_url=server) as client:
        before = client.get("/healthz").json()["encoders"]
        for name in ("para", "para-words"):
            r = client.post(f"/v1/models/{name}/predict", json=body)
            assert r.status_code == 200, r.text
            got = r.json()
            model = offline(folders, name)
            assert got["task"] == "sentence-pair" and got["classes"] == ["other", "same"]
            np.testing.assert_allclose(got["probabilities"], model.predict_proba(NEW_PAIRS))
            assert got["labels"] == model.predict(NEW_PAIRS).tolist()
        after = client.get("/healthz").json()["encoders"]
    hashing = [
        (b, a) for b, a in zip(before, after, strict=True) if a["featurizer"] == "test-hash-dense"
    ]
    ((b, a),) = hashing
    # the pairs' first and second texts: one request, one submission to the encoder
    assert a["requests"] - b["requests"] == 1
    assert a["texts"] - b["texts"] == 2 * len(NEW_PAIRS)


def test_a_multilabel_model_answers_label_lists_as_offline(
    server: str, folders: dict[str, Path]
) -> None:
    r = httpx.post(f"{server}/v1/models/feel/predict", json={"texts": NEW_TEXTS})
    assert r.status_code == 200, r.text
    got = r.json()
    model = offline(folders, "feel")
    assert got["task"] == "multi-label" and got["classes"] == ["anger", "fear", "joy"]
    assert got["labels"] == model.predict_labels(NEW_TEXTS)
    np.testing.assert_allclose(got["probabilities"], model.predict_proba(NEW_TEXTS))
    listed = {m["name"]: m for m in httpx.get(f"{server}/v1/models").json()["models"]}
    assert listed["feel"]["task"] == "multi-label" and listed["para"]["inputs"] == "pairs"
    assert listed["topics"]["inputs"] == "texts"
    assert listed["feel"]["manifest"]["head"]["thresholds"] == model.thresholds_.tolist()


def test_several_models_answer_what_they_take(server: str, folders: dict[str, Path]) -> None:
    with httpx.Client(base_url=server) as client:
        r = client.post("/v1/predict", json={"texts": NEW_TEXTS})
        assert r.status_code == 200, r.text
        assert [a["model"] for a in r.json()["results"]] == ["feel", "topics"]
        r = client.post("/v1/predict", json={"pairs": [list(p) for p in NEW_PAIRS[:2]]})
        assert [a["model"] for a in r.json()["results"]] == ["para", "para-words"]
        r = client.post("/v1/predict", json={"texts": NEW_TEXTS, "models": ["topics", "feel"]})
        results = r.json()["results"]
        assert results[1]["labels"] == offline(folders, "feel").predict_labels(NEW_TEXTS)


BAD = [
    # (path, body, status, error type, words in the message)
    ("/v1/models/para/predict", {"texts": ["a b"]}, 422, "wrong_input",
     ["'para'", "sentence-pair", "pairs", '"pairs": [['], ),
    ("/v1/models/feel/predict", {"pairs": [["a", "b"]]}, 422, "wrong_input",
     ["'feel'", "takes texts", '"texts"']),
    ("/v1/predict", {"texts": ["a"], "models": ["topics", "para"]}, 422, "wrong_input",
     ["'para'"]),
    ("/v1/models/para/predict", {"texts": ["a"], "pairs": [["a", "b"]]}, 422,
     "invalid_request", ["not both"]),
    ("/v1/models/para/predict", {}, 422, "invalid_request", ["texts", "pairs"]),
    ("/v1/models/para/predict", {"pairs": []}, 422, "invalid_request", ["pairs is empty"]),
    ("/v1/models/para/predict", {"pairs": [["a", "b"], ["c", " "]]}, 422, "invalid_request",
     ["pairs[1][1]"]),
    ("/v1/models/para/predict", {"pairs": [["a", "b", "c"]]}, 422, "invalid_request",
     ["pairs[0]"]),
    ("/v1/models/para/predict", {"pairs": [["a", 3]]}, 422, "invalid_request", ["pairs[0][1]"]),
    ("/v1/models/para/predict", {"pairs": ["a b"]}, 422, "invalid_request", ["pairs[0]"]),
    ("/v1/models/para/predict", {"pairs": [["a", "b"]] * 11}, 413, "too_many_texts",
     ["11 pairs (22 texts)", "20"]),
    ("/v1/models/para/predict", {"pairs": [["a" * 1500, "b" * 600]]}, 413,
     "too_many_characters", ["2100"]),
]  # fmt: skip


@pytest.mark.parametrize("path, body, status, kind, words", BAD, ids=[str(b[1])[:30] for b in BAD])
def test_bad_pair_and_text_requests_get_a_4xx_json_error(
    server: str, path: str, body: dict[str, Any], status: int, kind: str, words: list[str]
) -> None:
    with httpx.Client(base_url=server) as client:
        r = client.post(path, content=json.dumps(body))
        assert r.status_code == status, r.text
        error = r.json()["error"]
        assert error["type"] == kind, error
        for word in words:
            assert word in error["message"], error["message"]
        assert client.get("/healthz").status_code == 200


def test_serve_takes_max_body_bytes(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    code, _, err = run_main(
        ["serve", f"w={folders['para-words']}", "--max-body-bytes", "300", "--port", "8123"], capsys
    )
    assert code == 0, err
    assert started["port"] == 8123
    with running(started["app"]) as url:
        small = {"pairs": [["a cat", "a dog"]]}
        assert httpx.post(f"{url}/v1/models/w/predict", json=small).status_code == 200
        big = {"pairs": [["a cat " * 60, "a dog"]]}
        r = httpx.post(f"{url}/v1/models/w/predict", json=big)
        assert r.status_code == 413 and r.json()["error"]["type"] == "body_too_large"
        assert "the limit is 300" in r.json()["error"]["message"]
    code, _, err = run_main(["serve", str(folders["para-words"]), "--max-body-bytes", "0"], capsys)
    assert code == 2 and "--max-body-bytes" in err and "Traceback" not in err
