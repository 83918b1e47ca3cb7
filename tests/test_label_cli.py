"""`littledata label` and `littledata label export`: serve, stop, resume, export labels + model."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from typer.testing import CliRunner

from littledata.cli import app
from littledata.label_app.store import LabelStore
from tests.label_helpers import free_port, start_server, stop_server, truth, write_reviews


def test_export_writes_every_answer_in_each_format(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    store = LabelStore(url)
    store.add_items(["a <b>", "c, d", "e\nf"], labeled={0: "pos"})
    store.set_meta({"labels": ["pos", "neg"], "featurizer": "glove50", "head": "logreg"})
    item = store.lease_next("ann")
    store.answer(item.id, "ann", "label", "neg")
    item = store.lease_next("ann")
    store.answer(item.id, "ann", "unsure")
    runner = CliRunner()
    for suffix in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"labels.{suffix}"
        result = runner.invoke(app, ["label", "export", "--db", url, "--out", str(out)])
        assert result.exit_code == 0, result.output
        import pandas as pd

        frame = {
            "csv": lambda p: pd.read_csv(p, keep_default_na=False),
            "jsonl": lambda p: pd.read_json(p, lines=True),
            "parquet": pd.read_parquet,
        }[suffix](out)
        assert list(frame["kind"]) == ["label", "label", "unsure"]
        assert list(frame["annotator"]) == ["file", "ann", "ann"]
        assert frame["text"].tolist() == ["a <b>", "c, d", "e\nf"]


def test_require_sets_items_to_need_two_annotators(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    store = LabelStore(url)
    store.add_items(["a", "b", "c"], sources=["train:2", "train:3", "train:4"])
    store.set_meta({"labels": ["pos", "neg"], "featurizer": "glove50", "head": "logreg"})
    runner = CliRunner()
    result = runner.invoke(app, ["label", "require", "train:3", "2", "--db", url])
    assert result.exit_code == 0 and "2 item(s) now need 2 annotator(s)" in result.output
    with store.engine.connect() as conn:
        required = conn.exec_driver_sql("select id, required from label_items order by id").all()
    assert [tuple(r) for r in required] == [(0, 1), (1, 2), (2, 2)]
    bad = runner.invoke(app, ["label", "require", "train:9", "--db", url])
    assert bad.exit_code != 0 and "No item train:9" in str(bad.exception)


def test_export_refuses_a_database_without_a_session(tmp_path):
    result = CliRunner().invoke(
        app, ["label", "export", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}", "--out", "x.csv"]
    )
    assert result.exit_code != 0
    assert "no labeling session" in str(result.exception)


@pytest.mark.integration
def test_serve_label_stop_resume_and_export_a_model(tmp_path):
    data = tmp_path / "reviews.csv"
    write_reviews(data, n=80, labeled=4)
    db = f"sqlite:///{tmp_path / 'labels.sqlite'}"
    port = free_port()
    args = [str(data), "--labels", "pos,neg", "--featurizer", "glove50", "--db", db, "--batch", "5"]
    proc = start_server(args, port)
    base = f"http://127.0.0.1:{port}"
    try:
        item = httpx.post(f"{base}/api/next", json={"annotator": "ann"}).json()["item"]
        labeled = []
        for _ in range(16):
            body = {"annotator": "ann", "item_id": item["id"], "label": truth(item["text"])}
            labeled.append(item["id"])
            item = httpx.post(f"{base}/api/answer", json=body).json()["item"]
        held = item["id"]
    finally:
        stop_server(proc)
    last = [r for r in LabelStore(db).rounds() if r["message"]][-1]  # the last with a model
    said = last["message"]
    # the same --db resumes: the labels, the item the annotator held, the stopping message
    proc = start_server(["--db", db], port)  # no data: the session's own texts and settings
    try:
        stats = httpx.get(f"{base}/api/stats").json()
        assert stats["stopping"]["text"] == said
        assert stats["annotators"]["ann"] == {"label": 16}
        assert stats["complete"] == 20  # 4 from the file + 16
        deadline = time.monotonic() + 120  # the first round after the restart trains a model
        while httpx.get(f"{base}/api/stats").json()["rounds"] < 1:
            assert time.monotonic() < deadline, "no round after the restart"
            time.sleep(0.2)
        again = httpx.post(f"{base}/api/next", json={"annotator": "ann"}).json()["item"]
        stopping = httpx.get(f"{base}/api/stats").json()["stopping"]
        if last["n_labels"] < 20:  # the round after the restart compared with the last model
            assert stopping["kappa"] is not None, stopping
        else:  # trained on the same labels: the criterion did not move
            assert stopping["text"] == said
        assert again["id"] == held and again["suggestion"] in ("pos", "neg")
        live = tmp_path / "live.csv"  # export at any time: while the server runs, too
        result = CliRunner().invoke(app, ["label", "export", "--db", db, "--out", str(live)])
        assert result.exit_code == 0, result.output
        assert len(live.read_text().splitlines()) == 1 + 20  # header, 4 file labels + 16
    finally:
        stop_server(proc)
    out, model = tmp_path / "labels.jsonl", tmp_path / "model"
    result = CliRunner().invoke(
        app, ["label", "export", "--db", db, "--out", str(out), "--model", str(model)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["item_id"] for r in rows if r["annotator"] == "ann"] == labeled
    from littledata.models import TextClassifier

    clf = TextClassifier.load(model)
    assert list(clf.classes_) == ["neg", "pos"]
    assert list(clf.predict(["great lovely superb film", "awful dreadful poor film"])) == [
        "pos",
        "neg",
    ]


def kill_9_midway(tmp_path, db: str) -> LabelStore:
    """Four annotators label over HTTP; the server is killed with SIGKILL after 60 acknowledged
    labels. Checks that nothing acknowledged was lost, that the database holds beyond that only
    labels in flight, and no item twice; returns the store (for the backend's own checks)."""
    import signal
    import threading

    from tests.label_helpers import pool

    data = tmp_path / "reviews.csv"
    write_reviews(data, n=200, labeled=0)
    texts = pool(200)
    port = free_port()
    args = [str(data), "--labels", "pos,neg", "--featurizer", "glove50", "--db", db]
    proc = start_server(args, port)
    base = f"http://127.0.0.1:{port}"
    acked: list[tuple[str, int]] = []
    in_flight: dict[str, int] = {}
    lock = threading.Lock()

    def annotate(name: str) -> None:
        try:
            with httpx.Client(base_url=base, timeout=30) as c:
                item = c.post("/api/next", json={"annotator": name}).json()["item"]
                while item is not None:
                    in_flight[name] = item["id"]
                    body = {"annotator": name, "item_id": item["id"],
                            "label": truth(texts[item["id"]])}  # fmt: skip
                    r = c.post("/api/answer", json=body)
                    assert r.status_code == 200, r.text
                    with lock:
                        acked.append((name, item["id"]))
                    del in_flight[name]
                    item = r.json()["item"]
        except httpx.HTTPError:
            pass  # the server was killed

    threads = [threading.Thread(target=annotate, args=(f"a{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(acked) < 60 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(acked) >= 60, "the annotators did not get going"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    for t in threads:
        t.join(30)
    store = LabelStore(db)
    stored = {(r["annotator"], r["item_id"]) for r in store.answers()}
    assert set(acked) <= stored  # nothing acknowledged was lost
    assert stored - set(acked) <= set(in_flight.items())  # beyond that, only labels in flight
    assert len(stored) == len({i for _, i in stored})  # no item labeled twice
    with store._connect() as conn:  # every item's count agrees with its answers
        assert not conn.exec_driver_sql(
            "select count(*) from label_items i where i.n_done != (select count(*) from "
            "label_answers a where a.item_id = i.id and a.kind = 'label')"
        ).scalar()
    return store


@pytest.mark.integration
def test_kill_9_loses_no_acknowledged_label(tmp_path):
    store = kill_9_midway(tmp_path, f"sqlite:///{tmp_path / 'labels.sqlite'}")
    with store._connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
