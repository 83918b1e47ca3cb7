"""Opening a labeling session from data (littledata.label_app.start): a registered dataset's
train split with its labels hidden, a file's labels as the start, and a resume that refuses
other data or another label set."""

from __future__ import annotations

import csv

import pytest

from littledata.errors import ConfigError
from littledata.label_app.start import open_session
from tests.label_helpers import HashFeaturizer, truth, write_reviews


def test_a_registered_dataset_s_train_split_is_the_pool_with_its_labels_hidden(
    shared_datasets, tmp_path
):
    from littledata import load_dataset

    ds = load_dataset("trec", mirror=str(shared_datasets))
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    session = open_session("trec", db=db, featurizer=HashFeaturizer(), mirror=str(shared_datasets))
    train = ds[ds.train_split]
    assert session.classes == [str(n) for n in ds.label_names]  # the data's labels
    assert session.texts == [str(t) for t in train.texts]
    stats = session.store.stats(session.classes)
    assert stats["items"] == len(train) and stats["complete"] == 0  # nothing answered yet
    assert session.store.answers() == []
    session.store.close()


def test_a_file_s_labels_start_the_session_and_a_resume_takes_it_up(tmp_path):
    data = tmp_path / "reviews.csv"
    texts = write_reviews(data, n=30, labeled=4)
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    first = open_session(str(data), classes=["pos", "neg"], db=db, featurizer=HashFeaturizer())
    assert first.store.training_labels() == {i: truth(t) for i, t in enumerate(texts[:4])}
    assert {r["annotator"] for r in first.store.answers()} == {"file"}
    first.store.close()
    again = open_session(None, db=db, featurizer=HashFeaturizer())  # the session's own texts
    assert again.classes == ["pos", "neg"] and again.texts == texts
    assert len(again.store.answers()) == 4
    again.store.close()


def test_a_resume_refuses_other_data_and_another_label_set(tmp_path):
    data, other = tmp_path / "reviews.csv", tmp_path / "other.csv"
    write_reviews(data, n=30, labeled=4)
    write_reviews(other, n=31, labeled=4)
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    open_session(str(data), classes=["pos", "neg"], db=db, featurizer=HashFeaturizer())
    with pytest.raises(ConfigError, match="other data"):
        open_session(str(other), db=db, featurizer=HashFeaturizer())
    with pytest.raises(ConfigError, match="--labels must be the same"):
        open_session(str(data), classes=["neg", "pos"], db=db, featurizer=HashFeaturizer())


def test_file_labels_outside_the_label_set_are_refused(tmp_path):
    data = tmp_path / "reviews.csv"
    write_reviews(data, n=30, labeled=4)
    db = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with pytest.raises(ConfigError, match="not among --labels: neg"):
        open_session(str(data), classes=["pos", "meh"], db=db, featurizer=HashFeaturizer())
    unlabeled = tmp_path / "bare.csv"
    with open(unlabeled, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["text"], ["a film"], ["another film"]])
    with pytest.raises(ConfigError, match="no labels yet"):
        open_session(str(unlabeled), db=db, featurizer=HashFeaturizer())
