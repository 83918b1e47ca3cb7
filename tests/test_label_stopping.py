"""The stopping criterion of a labeling session survives a restart: the side panel's stopping
message after a resume is the one it showed before, and the next round compares with the last
model before the restart."""

from __future__ import annotations

import numpy as np
import pytest

from littledata.active.stopping import StabilizingPredictions
from littledata.label_app.session import LabelSession
from littledata.label_app.store import LabelStore
from tests.label_helpers import HashFeaturizer, pool, truth

LABELS = ["pos", "neg"]
TEXTS = pool(60)


def open_session(url: str, **stop) -> LabelSession:
    return LabelSession(
        LabelStore(url, lease_seconds=60), LABELS, texts=TEXTS, featurizer=HashFeaturizer(),
        batch_size=100, use_process=False, **stop,
    )  # fmt: skip


def label(session: LabelSession, n: int, who: str = "ann") -> None:
    for _ in range(n):
        item = session.store.lease_next(who)
        assert item is not None
        session.store.answer(item.id, who, "label", truth(item.text))


@pytest.fixture
def url(tmp_path):
    store = LabelStore(f"sqlite:///{tmp_path / 'l.sqlite'}")
    store.add_items(TEXTS, labeled={i: truth(t) for i, t in enumerate(TEXTS[:4])})
    store.close()
    return f"sqlite:///{tmp_path / 'l.sqlite'}"


def test_a_resumed_session_says_what_it_said_before_and_compares_with_the_last_model(url):
    before = open_session(url, stop_threshold=0.99, stop_window=3)
    before.retrain()  # round 1: a model, nothing to compare with yet
    for n in (1, 2, 3):
        label(before, n)
        before.retrain()
    said = before.stopping_message()
    kappas = list(before.stopper.kappas)
    assert len(kappas) == 3 and not said["text"].startswith("Not enough rounds")

    after = open_session(url, stop_threshold=0.99, stop_window=3)  # the server started again
    assert after.stopping_message() == said
    assert after.stopper.kappas == kappas
    n_rounds = len(after.store.rounds())
    after.retrain()  # every start trains once on the labels the database holds: the same ones
    assert after.stopping_message() == said and after.stopper.kappas == kappas
    assert len(after.store.rounds()) == n_rounds + 1  # recorded, without an agreement
    assert after.store.rounds()[-1]["kappa"] is None

    label(after, 2)  # new labels: the next round compares with the last model before the stop
    resumed = after.retrain()["kappa"]
    uninterrupted = before.retrain()["kappa"]  # the same labels, never restarted
    assert resumed is not None and resumed == pytest.approx(uninterrupted)
    assert after.stopper.kappas == pytest.approx(before.stopper.kappas)
    assert after.stopping_message() == before.stopping_message()


def test_a_session_that_said_stop_still_says_stop_after_a_restart(url):
    before = open_session(url, stop_threshold=0.05, stop_window=1)
    before.retrain()
    for _ in range(3):
        label(before, 2)
        before.retrain()
    assert before.stopper.stopped, before.stopper.kappas
    after = open_session(url, stop_threshold=0.05, stop_window=1)
    assert after.stopper.stopped and after.stopper.stopped_at == before.stopper.stopped_at
    assert after.stopping_message() == before.stopping_message()
    assert "You can stop here" in after.status()["stopping"]["text"]


def test_without_kept_predictions_the_agreements_so_far_still_count(url):
    before = open_session(url, stop_threshold=0.99, stop_window=3)
    before.retrain()
    label(before, 2)
    before.retrain()
    before.store.set_meta({"stopping": None})  # a database from before they were kept
    after = open_session(url, stop_threshold=0.99, stop_window=3)
    assert after.stopper.kappas == before.stopper.kappas and after.stopping_message() == (
        before.stopping_message()
    )
    record = after.retrain()  # no model to compare with: a new comparison starts
    assert record["kappa"] is None and after.stopper.kappas == before.stopper.kappas
    label(after, 2)
    assert after.retrain()["kappa"] is not None
    assert len(after.stopper.kappas) == len(before.stopper.kappas) + 1


def test_restore_takes_up_the_criterion_where_it_was():
    a = StabilizingPredictions(0.9, 2)
    preds = [np.array([0, 1, 1, 0]), np.array([0, 1, 1, 1]), np.array([0, 1, 1, 1])]
    for p in preds:
        a.update(p)
    b = StabilizingPredictions(0.9, 2)
    b.restore(a.kappas, rounds=3, stopped_at=a.stopped_at, previous=preds[-1])
    assert b.update(preds[-1]) == a.update(preds[-1]) == 1.0
    assert b.kappas == a.kappas and b.stopped_at == a.stopped_at == 3
