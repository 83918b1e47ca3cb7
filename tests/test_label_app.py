"""The labeling app's JSON API: next item, answers, skip / not sure / undo, errors, retraining."""

from __future__ import annotations

import os
import threading
import time

import pytest
from fastapi.testclient import TestClient

from littledata.label_app.api import create_app
from littledata.label_app.session import LabelSession
from littledata.label_app.store import LabelStore
from littledata.serve.run import check_address
from tests.label_helpers import HashFeaturizer, pool, truth

LABELS = ["pos", "neg"]


@pytest.fixture
def session(tmp_path):
    store = LabelStore(f"sqlite:///{tmp_path / 'l.sqlite'}", lease_seconds=60)
    texts = pool(60)
    store.add_items(texts)
    return LabelSession(
        store, LABELS, texts=texts, featurizer=HashFeaturizer(), batch_size=4, use_process=False
    )


@pytest.fixture
def client(session):
    with TestClient(create_app(session)) as c:
        yield c


def wait_for(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert "innerHTML" not in client.get("/static/app.js").text
    assert client.get("/api/config").json()["labels"] == LABELS


def test_labeling_through_the_api_trains_a_model_that_suggests(client, session):
    item = client.post("/api/next", json={"annotator": "ann"}).json()["item"]
    assert item["suggestion"] is None  # no model before any label
    for _ in range(12):
        body = {"annotator": "ann", "item_id": item["id"], "label": truth(item["text"])}
        r = client.post("/api/answer", json=body)
        assert r.status_code == 200, r.text
        item = r.json()["item"]
    assert wait_for(lambda: session.suggest(0) is not None)
    assert wait_for(lambda: client.get("/api/stats").json()["curve"])
    item = client.post("/api/next", json={"annotator": "ann"}).json()["item"]
    assert item["suggestion"] in LABELS and 0.0 <= item["confidence"] <= 1.0
    stats = client.get("/api/stats").json()
    assert sum(stats["per_class"].values()) == 12
    assert stats["annotators"] == {"ann": {"label": 12}}
    assert 0.0 <= stats["curve"][-1]["cv_accuracy"] <= 1.0
    assert stats["stopping"]["text"]


def test_answers_never_wait_for_a_round_in_progress(session, monkeypatch):
    import littledata.label_app.session as session_module

    started, release = threading.Event(), threading.Event()
    real_round = session_module.compute_round

    def held_round(*args, **kwargs):
        started.set()
        release.wait(120)  # the round holds until the answers below are in
        return real_round(*args, **kwargs)

    monkeypatch.setattr(session_module, "compute_round", held_round)
    try:
        with TestClient(create_app(session)) as client:
            assert started.wait(20)  # the round every start runs is in progress
            item = client.post("/api/next", json={"annotator": "ann"}).json()["item"]
            for _ in range(6):  # more than a batch: each answer is served, none waits
                body = {"annotator": "ann", "item_id": item["id"], "label": truth(item["text"])}
                r = client.post("/api/answer", json=body)
                assert r.status_code == 200, r.text
                item = r.json()["item"]
                assert item is not None
            assert client.get("/api/stats").json()["training"] is True
            assert session.rounds_done == 0  # every answer came back while the round held
            release.set()
            assert wait_for(lambda: session.rounds_done >= 2)  # the batch's round follows
    finally:
        release.set()


def test_errors_are_clear_4xx(client):
    item = client.post("/api/next", json={"annotator": "ann"}).json()["item"]
    unknown = client.post(
        "/api/answer", json={"annotator": "ann", "item_id": item["id"], "label": "maybe"}
    )
    assert unknown.status_code == 422 and "Unknown label 'maybe'" in unknown.json()["error"]
    stale = client.post(
        "/api/answer",
        json={"annotator": "ann", "item_id": 59 if item["id"] != 59 else 58, "label": "pos"},
    )
    assert stale.status_code == 409 and "not leased" in stale.json()["error"]
    outside = client.post("/api/answer", json={"annotator": "ann", "item_id": 999, "label": "pos"})
    assert outside.status_code == 404
    ok = client.post(
        "/api/answer", json={"annotator": "ann", "item_id": item["id"], "label": "pos"}
    )
    assert ok.status_code == 200
    twice = client.post(
        "/api/answer", json={"annotator": "ann", "item_id": item["id"], "label": "pos"}
    )
    assert twice.status_code == 409 and "answered already" in twice.json()["error"]
    for bad in (
        {"annotator": "ann"},
        {"annotator": "", "item_id": 1, "label": "pos"},
        {"annotator": "<b>", "item_id": 1, "label": "pos"},
        {"item_id": "x"},
    ):
        r = client.post("/api/answer", json=bad)
        assert r.status_code == 422 and r.json()["error"].startswith("Malformed request"), bad
    r = client.post(
        "/api/answer", content=b"not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    for odd in (True, 1.0, "1"):  # only a JSON integer is an item id
        body = {"annotator": "ann", "item_id": odd, "label": "pos"}
        r = client.post("/api/answer", json=body)
        assert r.status_code == 422 and "item_id" in r.json()["error"], odd
    for method, path, status in (("get", "/api/answer", 405), ("post", "/api/nope", 404)):
        r = getattr(client, method)(path)
        assert r.status_code == status and path in r.json()["error"], (path, r.text)
    assert client.post("/api/undo", json={"annotator": "nobody"}).status_code == 409
    assert client.get("/api/export?format=xml").status_code == 422


def test_a_database_that_fails_while_serving_is_a_503_not_the_requests_fault(session, tmp_path):
    with TestClient(create_app(session)) as c:
        item = c.post("/api/next", json={"annotator": "ann"}).json()["item"]
        # the database goes away under the server: the next connection cannot open it (moved,
        # not overwritten: a file other connections have mapped must never be truncated)
        session.store.engine.dispose()
        (tmp_path / "l.sqlite").rename(tmp_path / "moved.sqlite")
        (tmp_path / "l.sqlite").mkdir()
        r = c.post("/api/answer", json={"annotator": "ann", "item_id": item["id"], "label": "pos"})
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    error = r.json()["error"]
    assert error.startswith("The labeling database failed; try again")
    assert "labeling database" in error and "results store" not in error


def test_skip_unsure_undo_and_export(client):
    first = client.post("/api/next", json={"annotator": "ann"}).json()["item"]
    second = client.post("/api/skip", json={"annotator": "ann", "item_id": first["id"]}).json()[
        "item"
    ]
    third = client.post("/api/unsure", json={"annotator": "ann", "item_id": second["id"]}).json()[
        "item"
    ]
    client.post("/api/answer", json={"annotator": "ann", "item_id": third["id"], "label": "neg"})
    back = client.post("/api/undo", json={"annotator": "ann"}).json()["item"]
    assert back["id"] == third["id"]
    client.post("/api/answer", json={"annotator": "ann", "item_id": third["id"], "label": "pos"})
    lines = client.get("/api/export?format=jsonl").text.strip().splitlines()
    import json

    rows = [json.loads(x) for x in lines]
    assert [(r["item_id"], r["kind"], r["label"]) for r in rows] == [
        (first["id"], "skip", None),
        (second["id"], "unsure", None),
        (third["id"], "label", "pos"),
    ]
    assert all(r["annotator"] == "ann" and r["created_at"].endswith("+00:00") for r in rows)
    csv = client.get("/api/export?format=csv").text
    assert csv.splitlines()[0] == "item_id,text,label,kind,annotator,created_at,source"


def test_two_annotators_never_get_the_same_item(client):
    a = client.post("/api/next", json={"annotator": "a"}).json()["item"]
    b = client.post("/api/next", json={"annotator": "b"}).json()["item"]
    assert a["id"] != b["id"]
    stolen = client.post("/api/answer", json={"annotator": "b", "item_id": a["id"], "label": "pos"})
    assert stolen.status_code == 409


def test_a_token_is_required_when_set(session):
    with TestClient(create_app(session, token="s3cret")) as c:
        assert c.get("/api/stats").status_code == 401
        assert c.get("/api/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/stats", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/").status_code == 200  # the page itself loads, its calls carry the token


def test_binding_beyond_loopback_needs_a_token():
    from littledata.errors import ConfigError

    check_address("127.0.0.1", 8000, None)
    check_address("0.0.0.0", 8000, "tok")
    with pytest.raises(ConfigError, match="--token"):
        check_address("0.0.0.0", 8000, None)
    with pytest.raises(ConfigError, match="empty"):
        check_address("127.0.0.1", 8000, " ")


def test_cold_start_ranks_the_queue_before_any_label(session):
    record = session.retrain()
    assert record["n_labels"] == 0 and record["strategy"] == "cold-start"
    first = session.store.lease_next("ann")
    rounds = session.store.rounds()
    assert len(rounds) == 1 and first is not None
    with session.store.engine.connect() as conn:
        prio = conn.exec_driver_sql(
            f"select priority from label_items where id={first.id}"
        ).scalar()
    assert prio == 0.0  # the cold-start batch's first row leads the queue


@pytest.mark.integration
def test_rounds_run_in_a_worker_process_that_stops_with_the_session(tmp_path):
    store = LabelStore(f"sqlite:///{tmp_path / 'p.sqlite'}")
    texts = pool(40)
    store.add_items(texts, labeled={i: truth(t) for i, t in enumerate(texts[:6])})
    session = LabelSession(store, LABELS, texts=texts, featurizer=HashFeaturizer())
    record = session.retrain()
    assert record["n_labels"] == 6 and record["strategy"] == "margin"
    assert session.suggest(10) is not None
    worker = next(iter(session._executor._processes.values()))
    assert worker.pid != os.getpid() and worker.is_alive()
    session.stop()
    worker.join(10)
    assert not worker.is_alive()
