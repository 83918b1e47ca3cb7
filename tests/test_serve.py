"""The HTTP server, started for real on a free loopback port (uvicorn in a thread) and exercised
with httpx: answers equal offline ``predict_proba``, one encoder shared by many heads, bad
requests answered with 4xx JSON, 32 concurrent clients batched together, the bearer token.

The fast tests use the made-up hashing encoder of test_models and tf-idf; the integration tests
serve MiniLM heads and run the ``littledata serve`` command in a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from test_models import HashFeaturizer, corpus

from littledata.errors import ArtifactIntegrityError, ConfigError
from littledata.models import TextClassifier, load_model
from littledata.models.artifact import ARRAYS_FILE
from littledata.serve import EncoderBatcher, ModelSet
from littledata.serve.app import Limits, create_app
from littledata.serve.models import parse_model_arg
from littledata.serve.run import check_address, is_loopback


@contextlib.contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class FailingHashFeaturizer(HashFeaturizer):
    """The hashing encoder, failing on the text ``boom`` (a server error, never a crash)."""

    def _transform_into(self, texts, out, batch_size, advance) -> None:  # type: ignore[no-untyped-def]
        if "boom" in texts:
            raise RuntimeError("the encoder failed")
        super()._transform_into(texts, out, batch_size, advance)


class SlowHashFeaturizer(FailingHashFeaturizer):
    """The hashing encoder taking 20 ms a call, recording each call's size and the thread limit
    of the BLAS/OpenMP pools it ran under."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, int]] = []

    def _transform_into(self, texts, out, batch_size, advance) -> None:  # type: ignore[no-untyped-def]
        from threadpoolctl import threadpool_info

        time.sleep(0.02)
        pools = [p["num_threads"] for p in threadpool_info()]
        self.calls.append((len(texts), max(pools, default=0)))
        super()._transform_into(texts, out, batch_size, advance)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three models on the hashing encoder (logreg, centroid, a second logreg on other labels)
    and one on tf-idf."""
    root = tmp_path_factory.mktemp("served")
    texts, labels = corpus(12)
    fz = HashFeaturizer()
    out = {
        "topics": TextClassifier(fz, "logreg").fit(texts, labels).save(root / "topics"),
        "near": TextClassifier(fz, "centroid").fit(texts, labels).save(root / "near"),
        "sport": TextClassifier(fz, "logreg")
        .fit(texts, ["yes" if y == "sports" else "no" for y in labels])
        .save(root / "sport"),
        "words": TextClassifier("tfidf", "logreg").fit(texts, labels).save(root / "words"),
    }
    return out


def _models(folders: dict[str, Path], fz: Any = None) -> ModelSet:
    return ModelSet.load(
        list(folders.values()), featurizers={"test-hash-dense": fz or HashFeaturizer()}
    )


@pytest.fixture(scope="module")
def server(folders: dict[str, Path]) -> Iterator[tuple[str, ModelSet]]:
    models = _models(folders, FailingHashFeaturizer())
    app = create_app(
        models, limits=Limits(max_texts=50, max_chars=2000, max_body_bytes=20_000), max_wait=0.02
    )
    with running(app) as url:
        yield url, models


def offline(folders: dict[str, Path], name: str, texts: list[str]) -> np.ndarray:
    fz = None if name == "words" else HashFeaturizer()
    return load_model(folders[name], featurizer=fz).predict_proba(texts)


TEXTS = ["sports1 the3 and", "music2 music4 the1", "food0 and the7 food3", "unseen words"]


def test_each_distinct_featurizer_is_loaded_once(folders: dict[str, Path]) -> None:
    models = ModelSet.load(
        list(folders.values()), featurizers={"test-hash-dense": HashFeaturizer()}
    )
    assert sorted(models.models) == ["near", "sport", "topics", "words"]
    assert len(models.encoders) == 2  # the hashing encoder and tf-idf
    hashing = {id(m.model._checked_featurizer()) for m in models if m.name != "words"}
    assert len(hashing) == 1
    # built from the manifest (no object given): still one object for the three heads
    from littledata.features import get_featurizer

    plain = ModelSet.load([folders["words"], ("words2", folders["words"])])
    assert len(plain.encoders) == 1 and plain.models["words2"].model._checked_featurizer() is (
        get_featurizer("tfidf")
    )


def test_model_names_and_folders_are_checked(folders: dict[str, Path], tmp_path: Path) -> None:
    assert parse_model_arg("a/b/topics") == ("topics", Path("a/b/topics"))
    assert parse_model_arg("t1=a/b/topics") == ("t1", Path("a/b/topics"))
    with pytest.raises(ConfigError, match="NAME=FOLDER"):
        parse_model_arg("has space")
    with pytest.raises(ConfigError, match="Two models are named 'words'"):
        ModelSet.load([folders["words"], folders["words"]])
    with pytest.raises(ConfigError, match="at least one"):
        ModelSet.load([])
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(folders["words"], bad)
    data = (bad / ARRAYS_FILE).read_bytes()
    (bad / ARRAYS_FILE).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ArtifactIntegrityError, match="altered"):
        ModelSet.load([bad])


def test_answers_equal_offline_predict_proba(
    server: tuple[str, ModelSet], folders: dict[str, Path]
) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        for name in folders:
            r = client.post(f"/v1/models/{name}/predict", json={"texts": TEXTS})
            assert r.status_code == 200, r.text
            body = r.json()
            expected = offline(folders, name, TEXTS)
            np.testing.assert_allclose(body["probabilities"], expected, rtol=1e-6, atol=1e-9)
            assert body["labels"] == [body["classes"][j] for j in expected.argmax(axis=1)]
            assert body["model"] == name
        # several heads, one request: the same answers, in the order asked
        r = client.post("/v1/predict", json={"texts": TEXTS, "models": ["sport", "words"]})
        results = r.json()["results"]
        assert [x["model"] for x in results] == ["sport", "words"]
        for x in results:
            np.testing.assert_allclose(x["probabilities"], offline(folders, x["model"], TEXTS))
        everything = client.post("/v1/predict", json={"texts": TEXTS[:1]}).json()["results"]
        assert sorted(x["model"] for x in everything) == sorted(folders)
        listed = client.get("/v1/models").json()["models"]
        topics = next(m for m in listed if m["name"] == "topics")
        assert topics["classes"] == ["food", "music", "sports"]
        assert topics["featurizer"] == "test-hash-dense" and topics["head"] == "logreg"
        assert topics["manifest"]["training_data"]["rows"] == 36
        assert "state" not in topics["manifest"]["head"]
        assert client.get("/docs").status_code == 200
        assert "/v1/predict" in client.get("/openapi.json").json()["paths"]


def test_several_heads_share_one_encoding(server: tuple[str, ModelSet]) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as client:

        def hashing() -> dict[str, Any]:
            encoders = client.get("/healthz").json()["encoders"]
            return next(e for e in encoders if e["featurizer"] == "test-hash-dense")

        before = hashing()
        assert before["models"] == ["near", "sport", "topics"]
        client.post("/v1/predict", json={"texts": TEXTS, "models": ["topics", "near", "sport"]})
        after = hashing()
        assert after["requests"] - before["requests"] == 1  # three heads, one encoder call
        assert after["texts"] - before["texts"] == len(TEXTS)


BAD = [
    # (path, raw body, status, error type, words in the message)
    ("/v1/models/nope/predict", '{"texts": ["a"]}', 404, "unknown_model", ["'nope'", "topics"]),
    ("/v1/predict", '{"texts": ["a"], "models": ["topics", "zz"]}', 404, "unknown_model", ["zz"]),
    ("/v1/predict", '{"texts": ["a"], "models": []}', 422, "invalid_request", ["models"]),
    ("/v1/models/topics/predict", '{"texts": ', 400, "malformed_json", ["not valid JSON"]),
    ("/v1/models/topics/predict", "not json", 400, "malformed_json", ["JSON"]),
    ("/v1/models/topics/predict", '["a", "b"]', 422, "invalid_request", ["body"]),
    ("/v1/models/topics/predict", "{}", 422, "invalid_request", ["texts", "pairs"]),
    ("/v1/models/topics/predict", '{"texts": "a"}', 422, "invalid_request", ["texts"]),
    ("/v1/models/topics/predict", '{"texts": []}', 422, "invalid_request", ["empty"]),
    ("/v1/models/topics/predict", '{"texts": ["a", ""]}', 422, "invalid_request", ["texts[1]"]),
    ("/v1/models/topics/predict", '{"texts": ["a", 3]}', 422, "invalid_request", ["texts[1]"]),
    ("/v1/models/topics/predict", '{"texts": [null]}', 422, "invalid_request", ["texts[0]"]),
    ("/v1/models/topics/predict", '{"texts": ["a"], "x": 1}', 422, "invalid_request", ["x"]),
    ("/v1/models/topics/predict", json.dumps({"texts": ["a"] * 51}), 413, "too_many_texts",
     ["51", "50"]),
    ("/v1/models/topics/predict", json.dumps({"texts": ["a" * 2001]}), 413,
     "too_many_characters", ["2001", "2000"]),
    ("/v1/models/topics/predict", json.dumps({"texts": ["a" * 30_000]}), 413, "body_too_large",
     ["20000"]),
]  # fmt: skip


@pytest.mark.parametrize("path, body, status, kind, words", BAD, ids=[b[3] for b in BAD])
def test_bad_requests_get_a_4xx_json_error(
    server: tuple[str, ModelSet], path: str, body: str, status: int, kind: str, words: list[str]
) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as client:
        r = client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code == status, r.text
        error = r.json()["error"]
        assert error["type"] == kind
        for word in words:
            assert word in error["message"], error["message"]
        # the server still answers
        assert client.get("/healthz").status_code == 200


def test_a_chunked_body_is_counted_against_the_limit(server: tuple[str, ModelSet]) -> None:
    url, _ = server

    def chunks(body: bytes) -> Iterator[bytes]:  # no Content-Length: sent in chunks
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    with httpx.Client(base_url=url) as client:
        big = json.dumps({"texts": ["a" * 30_000]}).encode()
        r = client.post("/v1/models/topics/predict", content=chunks(big))
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert r.status_code == 413 and r.json()["error"]["type"] == "body_too_large"
        assert "20000" in r.json()["error"]["message"]
        small = json.dumps({"texts": ["music1"]}).encode()
        r = client.post("/v1/models/topics/predict", content=chunks(small))
        assert r.status_code == 200, r.text
        assert r.json()["labels"]
        assert client.get("/healthz").status_code == 200


def test_other_routes_and_server_errors_are_json_and_the_server_lives_on(
    server: tuple[str, ModelSet],
) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as client:
        r = client.get("/nowhere")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
        r = client.get("/v1/models/topics/predict")
        assert r.status_code == 405 and r.json()["error"]["type"] == "method_not_allowed"
        # a body sent without a JSON content type (curl -d) is still read as JSON
        r = client.post("/v1/models/topics/predict", content='{"texts": ["music1"]}')
        assert r.status_code == 200, r.text
        r = client.post("/v1/models/topics/predict", json={"texts": ["boom"]})
        assert r.status_code == 500 and r.json()["error"]["type"] == "internal_error"
        r = client.post("/v1/models/topics/predict", json={"texts": ["music1"]})
        assert r.status_code == 200


def test_32_concurrent_clients_get_offline_answers_in_shared_batches(
    server: tuple[str, ModelSet], folders: dict[str, Path]
) -> None:
    url, _ = server
    texts, _ = corpus(12, seed=5)
    asks = [
        (["topics", "near", "sport", "words"][i % 4], texts[i : i + 1 + i % 3]) for i in range(32)
    ]

    async def ask_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            before = (await client.get("/healthz")).json()
            answers = await asyncio.gather(
                *(client.post(f"/v1/models/{n}/predict", json={"texts": t}) for n, t in asks)
            )
            after = (await client.get("/healthz")).json()
            return [before, after, *answers]

    before, after, *answers = asyncio.run(ask_all())
    for (name, batch), r in zip(asks, answers, strict=True):
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(
            r.json()["probabilities"], offline(folders, name, batch), rtol=1e-6, atol=1e-9
        )
    hashing = next(e for e in after["encoders"] if e["featurizer"] == "test-hash-dense")
    earlier = next(e for e in before["encoders"] if e["featurizer"] == "test-hash-dense")
    requests = hashing["requests"] - earlier["requests"]
    batches = hashing["batches"] - earlier["batches"]
    assert requests == 24
    assert batches < requests  # concurrent requests shared encoder calls


def test_the_bearer_token(folders: dict[str, Path]) -> None:
    app = create_app(_models({"words": folders["words"]}), token="s3cret")
    with running(app) as url, httpx.Client(base_url=url) as client:
        body = {"texts": ["food1"]}
        assert client.post("/v1/models/words/predict", json=body).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        r = client.post("/v1/models/words/predict", json=body, headers=wrong)
        assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
        assert client.get("/v1/models", headers={"Authorization": "s3cret"}).status_code == 401
        good = {"Authorization": "Bearer s3cret"}
        assert client.post("/v1/models/words/predict", json=body, headers=good).status_code == 200
        assert client.get("/v1/models", headers=good).status_code == 200
        assert client.get("/healthz").status_code == 200  # liveness needs no token


def test_the_address_needs_a_token_off_loopback() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert is_loopback(host)
        check_address(host, 8000, None)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        assert not is_loopback(host)
        with pytest.raises(ConfigError, match="--token"):
            check_address(host, 8000, None)
        check_address(host, 8000, "t")
    with pytest.raises(ConfigError, match="--port"):
        check_address("127.0.0.1", 70000, None)
    with pytest.raises(ConfigError, match="empty"):
        check_address("0.0.0.0", 80, " ")
    with pytest.raises(ConfigError, match="max_texts"):
        Limits(max_texts=0)


def test_the_batcher_groups_concurrent_requests_and_reports_errors() -> None:
    fz = SlowHashFeaturizer()
    batcher = EncoderBatcher(fz, max_batch=16, max_wait=0.05)
    try:
        texts = [f"w{i} the{i % 3}" for i in range(40)]
        with ThreadPoolExecutor(8) as pool:
            futures = list(pool.map(lambda t: batcher.submit([t]), texts))
        rows = np.vstack([f.result(10) for f in futures])
        np.testing.assert_allclose(rows, fz.transform(texts), rtol=1e-6)
        stats = batcher.stats.as_dict()
        assert stats["requests"] == 40 and stats["texts"] == 40
        assert stats["batches"] < 40 and stats["largest_batch"] <= 16
        assert stats["waited"] > 0  # requests came together: the worker waited for more
        # a request larger than max_batch is encoded whole
        assert batcher.submit(texts).result(10).shape == (40, 12)
        # an encoder error reaches the requests of its batch; the worker lives on
        failed = batcher.submit(["boom"])
        with pytest.raises(RuntimeError, match="encoder failed"):
            failed.result(10)
        assert batcher.submit(["w1"]).result(10).shape == (1, 12)
    finally:
        batcher.close()
    with pytest.raises(RuntimeError, match="shut down"):
        batcher.submit(["w1"]).result(1)


def test_a_lone_client_never_waits_for_a_batch() -> None:
    fz = SlowHashFeaturizer()
    batcher = EncoderBatcher(fz, max_batch=16, max_wait=5.0)
    try:
        for i in range(5):  # one request at a time: no 5-second waits
            assert batcher.submit([f"w{i}"]).result(4).shape == (1, 12)
        assert batcher.stats.as_dict()["waited"] == 0
    finally:
        batcher.close()


def test_small_batches_are_encoded_on_one_thread() -> None:
    from threadpoolctl import threadpool_info

    if not threadpool_info():
        pytest.skip("no BLAS/OpenMP pool loaded to limit")
    unlimited = max(p["num_threads"] for p in threadpool_info())
    if unlimited < 2:
        pytest.skip("one core: nothing to limit")
    fz = SlowHashFeaturizer()
    batcher = EncoderBatcher(fz, max_batch=64, small_batch=4)
    try:
        batcher.submit(["a b", "c d"]).result(10)
        batcher.submit([f"w{i}" for i in range(8)]).result(10)
    finally:
        batcher.close()
    assert fz.calls == [(2, 1), (8, unlimited)]
    with pytest.raises(ValueError, match="small_batch"):
        EncoderBatcher(fz, small_batch=-1)


def test_fastapi_is_not_imported_by_the_library() -> None:
    code = (
        "import sys, littledata, littledata.serve, littledata.cli; print('fastapi' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.model
def test_minilm_heads_share_one_encoder_and_answer_as_offline(tmp_path: Path) -> None:
    texts, labels = corpus(8)
    one = TextClassifier("minilm", "logreg").fit(texts, labels).save(tmp_path / "one")
    two = TextClassifier("minilm", "centroid").fit(texts, labels).save(tmp_path / "two")
    models = ModelSet.load([one, two])
    assert len(models.encoders) == 1
    with running(create_app(models, max_wait=0.01)) as url:
        asks = [texts[i % 20 : i % 20 + 2] for i in range(32)]

        async def ask_all() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                return await asyncio.gather(
                    *(client.post("/v1/predict", json={"texts": t}) for t in asks)
                )

        answers = asyncio.run(ask_all())
    offline_models = {"one": load_model(one), "two": load_model(two)}
    for batch, r in zip(asks, answers, strict=True):
        assert r.status_code == 200, r.text
        for result in r.json()["results"]:
            expected = offline_models[result["model"]].predict_proba(batch)
            np.testing.assert_allclose(result["probabilities"], expected, atol=1e-4)


@pytest.mark.integration
def test_the_serve_command_serves_until_stopped(folders: dict[str, Path], tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LITTLEDATA_TOKEN": "tok"}
    cmd = [sys.executable, "-c", "from littledata.cli import main; main()", "serve",
           f"w={folders['words']}", "--port", str(port), "--max-texts", "2"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "no server"
            time.sleep(0.2)
        auth = {"Authorization": "Bearer tok"}
        r = httpx.post(f"{url}/v1/models/w/predict", json={"texts": ["food1"]}, headers=auth)
        expected = load_model(folders["words"]).predict_proba(["food1"])
        np.testing.assert_allclose(r.json()["probabilities"], expected)
        r = httpx.post(f"{url}/v1/models/w/predict", json={"texts": ["a"] * 3}, headers=auth)
        assert r.status_code == 413
    finally:
        proc.terminate()
        proc.wait(20)
