"""The labeling app on a real PostgreSQL server (its own cluster, started and stopped here).

Skipped only when PostgreSQL's binaries are absent (``apt-get install postgresql``; CI installs
them, see .ci/run).
"""

from __future__ import annotations

import time

import pytest

from littledata.label_app.store import AnswerConflictError, LabelStore, StaleItemError
from tests.pg_server import new_database, pg_bin, postgres_server
from tests.test_label_store import Clock, run_annotators

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        pg_bin() is None,
        reason="PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb is absent); "
        "apt-get install postgresql",
    ),
]


@pytest.fixture(scope="module")
def server() -> str:
    pytest.importorskip("psycopg")
    with postgres_server() as url:
        yield url


@pytest.fixture
def url(server: str) -> str:
    return new_database(server)


def test_leases_answers_and_undo_on_postgres(url):
    clock = Clock()
    store = LabelStore(url, lease_seconds=60, clock=clock)
    assert store.engine.dialect.name == "postgresql"
    store.add_items([f"t{i}" for i in range(4)], required=[2, 1, 1, 1], labeled={3: "neg"})
    a, b = store.lease_next("alice"), store.lease_next("bob")
    assert a.id == b.id == 0  # a two-annotator item: both slots
    c = store.lease_next("carol")
    assert c.id != 0
    store.answer(0, "alice", "label", "pos")
    with pytest.raises(AnswerConflictError):
        store.answer(0, "alice", "label", "pos")
    clock.now += 61  # bob's and carol's leases expire
    d = store.lease_next("dave")
    assert d.id == 0  # bob's expired slot
    with pytest.raises(StaleItemError):
        store.answer(0, "bob", "label", "pos")
    store.answer(0, "dave", "label", "neg")
    assert store.stats(["pos", "neg"])["double"] == {"items": 1, "agree": 0, "agreement": 0.0}
    assert store.undo("dave") == 0
    store.answer(0, "dave", "label", "pos")
    assert store.training_labels() == {0: "pos", 3: "neg"}
    store.close()
    again = LabelStore(url)  # a new connection sees everything
    assert len(again.answers()) == 3
    again.close()


def test_concurrent_annotators_on_postgres(url):
    store = LabelStore(url, lease_seconds=60)
    n = 150
    store.add_items(
        [f"t{i}" for i in range(n)], required=[2 if i % 5 == 0 else 1 for i in range(n)]
    )
    start = time.perf_counter()
    counts = run_annotators(store, 10)
    assert time.perf_counter() - start < 120
    assert set(counts) == set(range(n))
    assert all(counts[i] == (2 if i % 5 == 0 else 1) for i in range(n))
    assert store.stats(["pos", "neg"])["open"] == 0
    store.close()


def test_the_app_labels_into_postgres(url):
    from fastapi.testclient import TestClient

    from littledata.label_app.api import create_app
    from littledata.label_app.session import LabelSession
    from tests.label_helpers import HashFeaturizer, pool, truth

    store = LabelStore(url)
    texts = pool(40)
    store.add_items(texts)
    session = LabelSession(store, ["pos", "neg"], texts=texts, featurizer=HashFeaturizer(),
                           batch_size=3)  # fmt: skip
    with TestClient(create_app(session)) as client:
        item = client.post("/api/next", json={"annotator": "ann"}).json()["item"]
        for _ in range(8):
            body = {"annotator": "ann", "item_id": item["id"], "label": truth(item["text"])}
            item = client.post("/api/answer", json=body).json()["item"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            r["cv_accuracy"] is not None for r in session.store.rounds()
        ):
            time.sleep(0.1)
        stats = client.get("/api/stats").json()
    assert sum(stats["per_class"].values()) == 8
    assert stats["curve"], "a round on PostgreSQL recorded its accuracy"
    store.close()
