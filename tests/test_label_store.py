"""The labeling app's database: leases, answers, undo, double annotation, concurrency."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from littledata.errors import ConfigError
from littledata.label_app.store import (
    BASE_PRIORITY,
    AnswerConflictError,
    LabelStore,
    StaleItemError,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_store(tmp_path, clock=None, n=20, **kwargs) -> LabelStore:
    store = LabelStore(
        f"sqlite:///{tmp_path / 'labels.sqlite'}", lease_seconds=60, clock=clock or Clock()
    )
    store.add_items([f"text {i}" for i in range(n)], **kwargs)
    return store


def test_each_annotator_gets_a_different_item_and_keeps_it(tmp_path, clock):
    store = make_store(tmp_path, clock)
    a, b = store.lease_next("alice"), store.lease_next("bob")
    assert a is not None and b is not None and a.id != b.id
    assert store.lease_next("alice").id == a.id  # asking again: the same item, not a new one


def test_an_expired_lease_returns_to_the_queue(tmp_path, clock):
    store = make_store(tmp_path, clock, n=2)
    a = store.lease_next("alice")
    b = store.lease_next("bob")
    assert store.lease_next("carol") is None  # both leased
    clock.now += 61
    c = store.lease_next("carol")
    assert c is not None and c.id == a.id  # alice's lease expired; first in queue order
    with pytest.raises(StaleItemError, match="not leased to alice"):
        store.answer(a.id, "alice", "label", "x")
    store.answer(c.id, "carol", "label", "x")
    assert b is not None


def test_double_submit_and_stale_ids_are_refused(tmp_path, clock):
    store = make_store(tmp_path, clock)
    a = store.lease_next("alice")
    store.answer(a.id, "alice", "label", "pos")
    with pytest.raises(AnswerConflictError, match="answered already"):
        store.answer(a.id, "alice", "label", "pos")
    with pytest.raises(StaleItemError):
        store.answer(7, "alice", "label", "pos")  # never handed out
    assert store.training_labels() == {a.id: "pos"}


def test_undo_takes_back_the_last_answer_and_hands_the_item_back(tmp_path, clock):
    store = make_store(tmp_path, clock)
    first = store.lease_next("alice")
    store.answer(first.id, "alice", "label", "pos")
    second = store.lease_next("alice")
    assert store.undo("alice") == first.id
    assert store.current("alice").id == first.id
    assert store.training_labels() == {}
    # the item alice held went back to the queue
    assert store.lease_next("bob").id == second.id
    store.answer(first.id, "alice", "label", "neg")
    assert store.training_labels() == {first.id: "neg"}
    assert store.undo("nobody") is None


def test_skip_and_unsure_leave_the_item_to_others(tmp_path, clock):
    store = make_store(tmp_path, clock, n=2)
    a = store.lease_next("alice")
    store.answer(a.id, "alice", "skip")
    b = store.lease_next("alice")
    assert b.id != a.id
    store.answer(b.id, "alice", "unsure")
    assert store.lease_next("alice") is None  # alice answered both
    assert store.lease_next("bob").id == a.id  # bob still gets them
    assert store.undo("alice") == b.id  # undo the "not sure": the item is alice's again
    assert store.current("alice").id == b.id
    kinds = sorted(r["kind"] for r in store.answers())
    assert kinds == ["skip"]


def test_two_annotator_items_record_agreement(tmp_path, clock):
    store = make_store(tmp_path, clock, n=1, required=2)
    a, b = store.lease_next("alice"), store.lease_next("bob")
    assert a.id == b.id == 0
    assert store.lease_next("carol") is None  # both slots taken
    store.answer(0, "alice", "label", "pos")
    store.answer(0, "bob", "label", "neg")
    stats = store.stats(["pos", "neg"])
    assert stats["complete"] == 1
    assert stats["double"] == {"items": 1, "agree": 0, "agreement": 0.0}
    assert store.training_labels() == {}  # a disagreement is not trained on


def test_items_can_be_set_to_need_two_annotators_while_work_goes_on(tmp_path, clock):
    store = make_store(tmp_path, clock, n=3, sources=["train:5", "train:6", "train:7"])
    a = store.lease_next("alice")
    assert a is not None and a.id == 0  # file order: train:5 first
    store.answer(a.id, "alice", "label", "pos")  # complete with one annotator
    assert store.set_required([str(a.id), "train:7"], 2) == 2  # by id and by source
    b = store.lease_next("bob")
    assert b is not None and b.id == a.id and b.required == 2  # back in the queue for another
    store.answer(b.id, "bob", "label", "pos")
    assert store.stats(["pos", "neg"])["double"] == {"items": 1, "agree": 1, "agreement": 1.0}
    with pytest.raises(ConfigError, match="No item train:99, 42 in this session"):
        store.set_required(["train:99", "42", "train:5"], 2)
    with pytest.raises(ConfigError, match="one or two annotators"):
        store.set_required(["train:5"], 3)
    with store.engine.connect() as conn:  # a refused call changed nothing
        rows = conn.exec_driver_sql("select source, required from label_items order by id")
        assert dict(rows.all()) == {"train:5": 2, "train:6": 1, "train:7": 2}


def test_file_labels_start_the_session_and_ranking_orders_the_queue(tmp_path, clock):
    store = make_store(tmp_path, clock, n=5, labeled={0: "pos"}, order=[4, 3, 2, 1, 0])
    assert store.training_labels() == {0: "pos"}
    assert store.lease_next("alice").id == 4  # the seeded base order
    store.release("alice")
    store.set_ranking([2, 1], base_order=[4, 3, 2, 1, 0])
    assert store.lease_next("alice").id == 2
    store.release("alice")
    store.set_ranking([3], base_order=[4, 3, 2, 1, 0])  # 2 and 1 go back to their places
    assert store.lease_next("alice").id == 3
    with store.engine.connect() as conn:
        prios = dict(conn.exec_driver_sql("select id, priority from label_items").all())
    assert prios[2] == BASE_PRIORITY + 2 and prios[3] == 0.0


def test_the_session_survives_a_new_store_object(tmp_path, clock):
    store = make_store(tmp_path, clock)
    store.set_meta({"labels": ["pos", "neg"]})
    item = store.lease_next("alice")
    store.answer(item.id, "alice", "label", "pos")
    store.close()
    again = LabelStore(f"sqlite:///{tmp_path / 'labels.sqlite'}", clock=clock)
    assert again.get_meta() == {"labels": ["pos", "neg"]}
    assert again.training_labels() == {item.id: "pos"}
    assert again.n_items() == 20


def run_annotators(store: LabelStore, n_threads: int) -> Counter:
    got: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        while (item := store.lease_next(name)) is not None:
            store.answer(item.id, name, "label", "pos")
            with lock:
                got.append(item.id)

    threads = [threading.Thread(target=work, args=(f"w{k}",)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(got)


def test_concurrent_annotators_label_every_item_exactly_as_often_as_required(tmp_path):
    store = LabelStore(f"sqlite:///{tmp_path / 'c.sqlite'}", lease_seconds=60)
    store.add_items(
        [f"t{i}" for i in range(120)], required=[2 if i % 10 == 0 else 1 for i in range(120)]
    )
    counts = run_annotators(store, 8)
    assert set(counts) == set(range(120))
    assert all(counts[i] == (2 if i % 10 == 0 else 1) for i in range(120))
    stats = store.stats(["pos", "neg"])
    assert stats["open"] == 0 and stats["complete"] == 120


def test_the_default_database_is_sqlite_in_the_data_home(tmp_path, monkeypatch):
    home = tmp_path / "fresh-home"  # not there yet: a first session creates it
    monkeypatch.setenv("LITTLEDATA_HOME", str(home))
    store = LabelStore()
    store.add_items(["a", "b"])
    assert store.engine.dialect.name == "sqlite"
    assert store.url == f"sqlite:///{home / 'labels.sqlite'}"
    store.close()
    assert LabelStore(f"sqlite:///{home / 'labels.sqlite'}").n_items() == 2


def double_submit_at_once(store: LabelStore, n_threads: int = 8) -> Counter:
    """``n_threads`` submits of one annotator's answer to one item, released together: what
    each got (``ok`` or the error's name)."""
    item = store.lease_next("alice")
    assert item is not None
    barrier = threading.Barrier(n_threads)
    outcomes: list[str] = []

    def submit() -> None:
        barrier.wait()
        try:
            store.answer(item.id, "alice", "label", "pos")
            outcomes.append("ok")
        except (AnswerConflictError, StaleItemError) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=submit) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r["item_id"] for r in store.answers()] == [item.id]
    assert store.stats(["pos", "neg"])["complete"] == 1
    return Counter(outcomes)


def test_a_double_submit_at_once_stores_one_answer(tmp_path):
    store = LabelStore(f"sqlite:///{tmp_path / 'd.sqlite'}", lease_seconds=60)
    store.add_items([f"t{i}" for i in range(5)])
    assert double_submit_at_once(store) == Counter({"ok": 1, "AnswerConflictError": 7})
