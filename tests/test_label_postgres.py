"""The labeling app on a real PostgreSQL server (its own cluster, started and stopped here).

Skipped only when PostgreSQL's binaries are absent (``apt-get install postgresql``); CI installs
them (see .ci/run) and sets ``LITTLEDATA_REQUIRE_SERVICES=1``, which turns that skip into a
failure (tests/services.py).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from littledata.label_app.store import AnswerConflictError, LabelStore, StaleItemError
from tests.pg_server import new_database, pg_bin, postgres_server
from tests.services import require_module, unavailable
from tests.test_label_store import Clock, double_submit_at_once, run_annotators

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server() -> str:
    if pg_bin() is None:
        unavailable(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb is absent); "
            "apt-get install postgresql"
        )
    require_module("psycopg", 'pip install -e ".[test]"')
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


def test_a_double_submit_at_once_stores_one_answer_on_postgres(url):
    store = LabelStore(url, lease_seconds=60)
    store.add_items([f"t{i}" for i in range(5)])
    # the submits run truly at once here (no process lock as for SQLite): the row locks decide
    assert double_submit_at_once(store) == Counter({"ok": 1, "AnswerConflictError": 7})
    store.close()


def test_the_command_exports_a_postgres_session(url, tmp_path, capsys):
    import pandas as pd

    from tests._cli import run_main

    store = LabelStore(url)
    store.add_items(["a <b>", "c, d", "e"], labeled={0: "pos"})
    store.set_meta({"labels": ["pos", "neg"], "featurizer": "glove50", "head": "logreg"})
    item = store.lease_next("ann")
    store.answer(item.id, "ann", "label", "neg")
    store.close()
    out = tmp_path / "labels.parquet"
    code, stdout, stderr = run_main(["label", "export", "--db", url, "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "Wrote 2 answers" in stdout
    frame = pd.read_parquet(out)
    assert list(zip(frame["annotator"], frame["label"], strict=True)) == [
        ("file", "pos"),
        ("ann", "neg"),
    ]


def test_a_plain_postgresql_url_works(url):
    plain = url.replace("postgresql+psycopg://", "postgresql://")  # libpq's form, no driver
    store = LabelStore(plain)
    store.add_items(["a", "b"])
    assert store.engine.dialect.name == "postgresql" and store.engine.dialect.driver == "psycopg"
    assert store.url == plain
    store.close()
    assert LabelStore(url).n_items() == 2


def test_kill_9_of_the_server_loses_no_acknowledged_label_on_postgres(url, tmp_path):
    from tests.test_label_cli import kill_9_midway

    kill_9_midway(tmp_path, url).close()


def open_at_once(url: str, n: int) -> list[str]:
    """``n`` threads open a LabelStore on ``url`` at the same moment; their errors."""
    barrier, errors = threading.Barrier(n), []

    def open_store() -> None:
        barrier.wait()
        try:
            LabelStore(url).close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=open_store) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_servers_starting_at_once_on_an_empty_database_all_open_it(server):
    for _ in range(3):  # some of them lose the race to create the tables in nearly every try
        url = new_database(server)
        assert open_at_once(url, 4) == []
        assert LabelStore(url).n_items() == 0


def test_servers_sharing_a_database_write_its_meta_at_once(url):
    stores = [LabelStore(url) for _ in range(4)]  # as four servers' stopping checks would
    errors: list[str] = []

    def write(store: LabelStore, k: int) -> None:
        for j in range(40):
            try:
                store.set_meta({"stopping": {"server": k, "n": j}, f"own{k}": j})
            except Exception as exc:  # a lost insert race was an IntegrityError
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=write, args=(s, k)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    meta = stores[0].get_meta()
    assert meta["stopping"]["n"] == 39 and all(meta[f"own{k}"] == 39 for k in range(4))
    for store in stores:
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
