"""A user's own data, the same everywhere: the data source, unlabeled rows, the held-out split,
spec files, subsets of cached features, export, the active learner on a file, and results.

Fast tests on made-up files; the end-to-end runs through every command are in
``tests/test_own_data_cli.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from littledata.datasets.base import NO_LABEL, UNLABELED
from littledata.datasets.loading import load_dataset
from littledata.datasets.source import DataSource
from littledata.datasets.splitting import with_test_split
from littledata.errors import ConfigError, DataFormatError
from littledata.features import BaseFeaturizer, featurize, featurize_dataset
from littledata.features import cache as feature_cache

WORDS = {
    "sport": ["match", "goal", "team", "score", "coach", "league"],
    "food": ["bread", "soup", "cheese", "salad", "pasta", "sauce"],
    "tech": ["laptop", "phone", "code", "chip", "server", "screen"],
}


def made_up_rows(n: int = 90, seed: int = 0) -> list[tuple[str, str, str]]:
    """``(id, text, label)`` rows: each label's texts use its own words."""
    rng = np.random.default_rng(seed)
    rows = []
    labels = list(WORDS)
    for i in range(n):
        label = labels[i % len(labels)]
        words = [*rng.choice(WORDS[label], size=4), "the", "is"]
        rng.shuffle(words)
        rows.append((f"r{i}", " ".join(words), label))
    return rows


def write_csv(path: Path, rows: list[tuple[str, str, str]], header: str = "id,text,label") -> Path:
    path.write_text(header + "\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows), "utf-8")
    return path


class Counting(BaseFeaturizer):
    """Deterministic 6-d features of each text alone; counts the texts it encodes."""

    kind = "dense"

    def __init__(self) -> None:
        super().__init__()
        self.name = "counting"
        self.rows = 0

    def _fingerprint_parts(self) -> dict[str, object]:
        return {"encoder": "counting-test", "version": 1}

    @property
    def dim(self) -> int:
        return 6

    def _transform_into(self, texts, out, batch_size, advance):  # type: ignore[no-untyped-def]
        for i, text in enumerate(texts):
            seed = sum(text.encode()) + 7 * len(text)
            out[i] = np.random.default_rng(seed).standard_normal(6)
        self.rows += len(texts)
        advance(len(texts))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("LITTLEDATA_HOME", str(home))
    feature_cache._VERIFIED.clear()
    return home


# -- the data source ------------------------------------------------------------------------


def test_a_data_source_is_a_registered_name_or_a_file(tmp_path: Path) -> None:
    assert DataSource.parse("sst2").is_registered
    q = DataSource.parse("questions.csv")
    assert q.is_file and q.path == "questions.csv" and q.display_name == "questions.csv"
    under = DataSource.parse("data/q.tsv", base=tmp_path)
    assert under.path == str(tmp_path / "data" / "q.tsv")
    table = DataSource.parse({"path": "q.jsonl", "text_column": "question"}, base=tmp_path)
    assert table.text_column == "question" and table.path == str(tmp_path / "q.jsonl")
    pair = DataSource.parse({"train": "a.csv", "test": ["b.csv"]})
    assert pair.display_name == "a.csv+b.csv" and [p.name for p in pair.files] == ["a.csv", "b.csv"]
    assert DataSource.parse({"path": "a.csv", "name": "tickets"}).display_name == "tickets"
    # a file without an extension is a file when it exists and no dataset has its name
    (tmp_path / "mydata").write_text("text,label\na,b\n")
    assert DataSource.parse(str(tmp_path / "mydata")).is_file
    # the plain form a spec records, and back
    assert DataSource.parse("sst2").to_value() == "sst2"
    assert DataSource.parse(table.to_value()) == table


def test_a_data_source_refuses_what_it_cannot_be() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'text_column'"):
        DataSource.parse({"path": "q.csv", "txt_column": "q"})
    with pytest.raises(ConfigError, match="for your own files only"):
        DataSource(path="sst2", text_column="x")
    with pytest.raises(ConfigError, match="drop_invalid"):
        DataSource.parse({"path": "q.csv", "drop_invalid": "yes"})
    with pytest.raises(ConfigError, match="Name the data"):
        DataSource()


# -- rows without a label, ids ----------------------------------------------------------------


def test_a_partly_labeled_file_loads_as_labeled_rows_plus_unlabeled_ones(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ID,text,label\n7,good day,a\n8,so so,\n9,bad day,b\n10,meh,\n", "utf-8")
    with pytest.raises(DataFormatError, match=r"missing label.*--drop-invalid"):
        load_dataset(path)  # labels are required unless asked otherwise
    ds = load_dataset(path, labels="optional")
    assert list(ds.splits) == ["train", UNLABELED] and ds.label_names == ["a", "b"]
    assert ds.train.texts == ["good day", "bad day"] and ds.train.meta["id"] == ["7", "9"]
    rest = ds.unlabeled
    assert rest is not None and rest.texts == ["so so", "meh"] and rest.meta["row"] == [3, 5]
    assert np.asarray(rest.labels).tolist() == [NO_LABEL, NO_LABEL]
    assert ds.labeled_rows == 2
    # an explicit id column; a missing one is named
    assert load_dataset(path, labels="optional", id_column="text").train.meta["id"][0] == "good day"
    with pytest.raises(DataFormatError, match="no column 'nope'"):
        load_dataset(path, labels="optional", id_column="nope")


def test_a_file_of_texts_alone_loads_as_unlabeled_rows(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    path.write_text('{"text": "one"}\n{"text": "two"}\n', "utf-8")
    ds = load_dataset(path, labels="optional")
    assert list(ds.splits) == [UNLABELED] and ds.label_names == []
    with pytest.raises(DataFormatError, match=r"has no labels.*--label-column"):
        ds.train  # noqa: B018


def test_unlabeled_rows_of_train_and_test_files_stay_unlabeled(tmp_path: Path) -> None:
    train = tmp_path / "train.csv"
    train.write_text("text,label\nx y,a\nz,\nw,b\n", "utf-8")
    test = tmp_path / "test.csv"
    test.write_text("text,label\nq,b\nr,\n", "utf-8")
    ds = load_dataset(train=train, test=test, labels="optional")
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 2, "test": 1, UNLABELED: 2}
    assert ds.unlabeled.meta["file"] == ["train.csv", "test.csv"]  # type: ignore[union-attr]
    assert ds.test.labels.names().tolist() == ["b"]


def test_the_split_value_unlabeled_is_for_rows_without_a_label(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("text,label,split\nx,a,train\ny,b,unlabeled\n", "utf-8")
    with pytest.raises(DataFormatError, match="'unlabeled' is for rows without a label"):
        load_dataset(path, labels="optional")


# -- the held-out split and the content fingerprint -------------------------------------------


def test_a_file_without_a_test_split_gets_a_fixed_seeded_stratified_one(tmp_path: Path) -> None:
    rows = made_up_rows(90)
    ds = load_dataset(write_csv(tmp_path / "q.csv", rows))
    split, note = with_test_split(ds, seed=0)
    assert "20% of each label held out" in note and "seed 0" in note
    assert len(split.test) == 18 and len(split.train) == 72
    assert sorted(np.bincount(np.asarray(split.test.labels)).tolist()) == [6, 6, 6]
    assert not set(split.train.texts) & set(split.test.texts) or len(set(ds.train.texts)) < 90
    # the same content splits the same way whatever the file is called; another seed differs
    renamed = load_dataset(write_csv(tmp_path / "renamed.csv", rows))
    assert with_test_split(renamed, seed=0)[0].test.texts == split.test.texts
    assert with_test_split(ds, seed=1)[0].test.meta["row"] != split.test.meta["row"]
    # a dataset with a test split is left alone
    assert with_test_split(split, seed=0) == (split, "")


def test_the_content_fingerprint_follows_the_content_not_the_file(tmp_path: Path) -> None:
    rows = made_up_rows(12)
    a = load_dataset(write_csv(tmp_path / "a.csv", rows))
    spaced = tmp_path / "b.csv"  # the same rows written differently
    spaced.write_text("id,text,label\n" + "".join(f'{i},"{t}",{y}\n' for i, t, y in rows), "utf-8")
    assert load_dataset(spaced).fingerprint() == a.fingerprint()
    changed = [*rows[:-1], (rows[-1][0], rows[-1][1], "food" if rows[-1][2] != "food" else "tech")]
    assert load_dataset(write_csv(tmp_path / "c.csv", changed)).fingerprint() != a.fingerprint()


# -- spec files --------------------------------------------------------------------------------


def test_a_spec_file_names_files_as_strings_or_tables_read_from_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from littledata.experiments.spec import load_spec, resolve_datasets, spec_to_toml

    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    spec_path = folder / "spec.toml"
    spec_path.write_text(
        'datasets = ["trec", "data/q.csv", '
        '{path = "data/t.tsv", text_column = "question", name = "tickets"}]\n',
        "utf-8",
    )
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    spec = load_spec(spec_path)
    trec, q, t = spec.datasets
    assert trec == "trec"
    assert isinstance(q, DataSource) and q.path == str(folder / "data" / "q.csv")
    assert isinstance(t, DataSource) and t.text_column == "question"
    assert [e if isinstance(e, str) else e.display_name for e in resolve_datasets(spec)] == [
        "trec",
        "q.csv",
        "tickets",
    ]
    again = tmp_path / "again.toml"
    again.write_text(spec_to_toml(spec), "utf-8")
    assert load_spec(again).datasets == spec.datasets
    # as an array of tables, and from the command line (relative to the working folder)
    tables = folder / "tables.toml"
    tables.write_text('[[datasets]]\npath = "data/q.csv"\nlabel_column = "topic"\n', "utf-8")
    assert load_spec(tables).datasets[0].label_column == "topic"  # type: ignore[union-attr]
    cli = load_spec(overrides={"datasets": "project/data/q.csv"})
    assert cli.datasets[0].path == "project/data/q.csv"  # type: ignore[union-attr]


def test_two_entries_that_would_show_under_one_name_are_refused(tmp_path: Path) -> None:
    from littledata.experiments.spec import load_spec, resolve_datasets

    twice = load_spec(overrides={"datasets": ["a/q.csv", "b/q.csv"]})
    with pytest.raises(ConfigError, match=r"two entries would show as 'q\.csv'.*name"):
        resolve_datasets(twice)
    clash = load_spec(overrides={"datasets": [{"path": "q.csv", "name": "trec"}]})
    with pytest.raises(ConfigError, match="name of a registered dataset"):
        resolve_datasets(clash)
    with pytest.raises(ConfigError, match="unknown data key 'colum'"):
        load_spec(overrides={"datasets": [{"path": "q.csv", "colum": "x"}]})


# -- the feature cache: subsets are hits ----------------------------------------------------


def test_a_subset_of_cached_texts_is_a_hit_without_the_encoder(home: Path) -> None:
    fz = Counting()
    a = [f"alpha {i}" for i in range(40)]
    b = [f"beta {i}" for i in range(30)]
    xa, xb = np.asarray(featurize(a, fz)), np.asarray(featurize(b, fz))
    assert fz.rows == 70
    # a subset of one entry, in another order, with a duplicate
    sub = [a[7], a[3], a[39], a[3]]
    x = featurize(sub, fz)
    assert fz.rows == 70
    np.testing.assert_array_equal(np.asarray(x), xa[[7, 3, 39, 3]])
    meta = feature_cache.entry_meta(x.filename)
    assert meta["derived_from"] and meta["n_texts"] == 4
    # rows of two entries together
    both = [b[0], a[0], b[29]]
    np.testing.assert_array_equal(np.asarray(featurize(both, fz)), [xb[0], xa[0], xb[29]])
    assert fz.rows == 70
    # one text that no entry holds: computed, all of it
    featurize([a[1], "gamma"], fz)
    assert fz.rows == 72


def test_a_corrupt_index_or_an_entry_without_one_is_not_used(home: Path) -> None:
    fz = Counting()
    texts = [f"text {i}" for i in range(20)]
    x = featurize(texts, fz)
    index = Path(x.filename).with_suffix(".index")
    data = bytearray(index.read_bytes())
    data[0] ^= 0xFF  # one flipped bit: the checksum in the metadata no longer matches
    index.write_bytes(bytes(data))
    featurize(texts[:5], fz)
    assert fz.rows == 25  # computed, not taken from the corrupt index's entry
    # an entry written before indexes existed (no index_sha256): exact hits only
    other = [f"old {i}" for i in range(10)]
    y = featurize(other, fz)
    meta_path = Path(y.filename).with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    del meta["index_sha256"]
    meta_path.write_text(json.dumps(meta))
    Path(y.filename).with_suffix(".index").unlink()
    featurize(other[:3], fz)
    assert fz.rows == 38


def test_a_changed_matrix_is_caught_before_its_rows_are_reused(home: Path) -> None:
    fz = Counting()
    texts = [f"row {i}" for i in range(12)]
    x = featurize(texts, fz)
    path = Path(x.filename)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0x01  # the .npy no longer matches its checksum
    path.write_bytes(bytes(raw))
    feature_cache._VERIFIED.clear()
    featurize(texts[2:6], fz)
    assert fz.rows == 16


@pytest.fixture
def counting_registered() -> Iterator[Counting]:
    """A registered featurizer ``counting`` (one instance, whose encoder calls are counted)."""
    from littledata.features import _INSTANCES, FEATURIZERS, register

    instance = Counting()
    register("counting", description="counts its encoder calls (tests)", dim=6)(
        lambda **_: instance
    )
    try:
        yield instance
    finally:
        FEATURIZERS.remove("counting")
        for key in [k for k in _INSTANCES if k[0] == "counting"]:
            del _INSTANCES[key]


def test_benchmarking_a_featurized_file_with_a_capped_pool_encodes_nothing_again(
    home: Path, tmp_path: Path, counting_registered: Counting
) -> None:
    """`featurize DATA` then `bench` with caps: the pool and the test rows are subsets of the
    splits already encoded; counted by encoder calls, not timed."""
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    path = write_csv(tmp_path / "q.csv", made_up_rows(120))
    spec = load_spec(
        overrides={
            "datasets": [str(path)],
            "featurizers": ["counting"],
            "heads": ["centroid"],
            "sizes": [6],
            "seeds": 1,
            "train_pool_cap": 40,
            "test_cap": 12,
            "baseline": False,
        }
    )
    # what `littledata featurize q.csv` computes: the file's one split, all 120 rows; the
    # benchmark then holds out a test split and caps the pool: both are subsets of those rows
    featurize_dataset(DataSource.parse(str(path)).load(labels="optional"), "counting")
    encoded = counting_registered.rows
    assert encoded == 120
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(spec, store=store, executor="serial")
    assert summary.run == 1 and summary.failed == 0
    assert counting_registered.rows == encoded  # the capped pool and test rows: no encoder work
    assert summary.caps["q.csv"] == {"pool": 40, "test": 12}


# -- export --------------------------------------------------------------------------------


def test_export_keeps_the_file_row_order_ids_and_labels(home: Path, tmp_path: Path) -> None:
    from littledata.features.export import export_features

    path = tmp_path / "p.csv"
    path.write_text(
        "id,text,label,split\n"
        "a1,first text,x,train\nb2,second text,,\nc3,third text,y,test\nd4,fourth text,x,train\n",
        "utf-8",
    )
    ds = load_dataset(path, labels="optional")
    fz = Counting()
    done = export_features(ds, fz, tmp_path / "f.npy")
    matrix = np.load(done.path, allow_pickle=False)
    rows = pd.read_csv(done.rows_path, keep_default_na=False)  # type: ignore[arg-type]
    assert rows["id"].tolist() == ["a1", "b2", "c3", "d4"] and rows["row"].tolist() == [2, 3, 4, 5]
    assert rows["split"].tolist() == ["train", UNLABELED, "test", "train"]
    assert rows["label"].tolist() == ["x", "", "y", "x"]
    texts = ["first text", "second text", "third text", "fourth text"]
    np.testing.assert_array_equal(matrix, featurize(texts, Counting(), cache=False))
    frame = pd.read_parquet(export_features(ds, fz, tmp_path / "f.parquet").path)
    assert frame.columns.tolist()[:4] == ["split", "row", "id", "label"]
    np.testing.assert_array_equal(frame[[f"f{j}" for j in range(6)]].to_numpy(), matrix)


def test_export_refuses_what_it_cannot_write(tmp_path: Path) -> None:
    from littledata.features.export import check_export_path, export_features

    ds = load_dataset(write_csv(tmp_path / "q.csv", made_up_rows(6)))
    with pytest.raises(ConfigError, match=r"\.npy or a \.parquet"):
        check_export_path(tmp_path / "f.csv")
    with pytest.raises(ConfigError, match="no features to export"):
        export_features(ds, "tfidf", tmp_path / "f.npy")


# -- the active learner on a file ------------------------------------------------------------


def test_an_active_learner_takes_a_partly_labeled_file_and_predicts_texts(
    home: Path, tmp_path: Path
) -> None:
    from littledata.active.learner import ActiveLearner

    rows = made_up_rows(30)
    path = tmp_path / "pool.csv"
    path.write_text(
        "text,label\n" + "".join(f"{t},{y if i < 9 else ''}\n" for i, (_, t, y) in enumerate(rows)),
        "utf-8",
    )
    fz = Counting()
    learner = ActiveLearner.from_file(path, featurizer=fz, head="centroid", seed=0)
    assert learner.n_pool == 30 and learner.n_labeled == 9
    assert learner.pool_rows[:2] == [("train", 2), ("train", 3)]  # type: ignore[index]
    assert learner.classes == ["food", "sport", "tech"]
    asked = learner.query(3)
    assert all(i >= 9 for i in asked)  # the taught rows are not asked again
    texts = [rows[20][1], rows[21][1]]
    by_text = learner.predict(texts)
    assert by_text == learner.predict(np.asarray(featurize(texts, fz)))
    assert learner.predict_proba(texts).shape == (2, 3)
    with pytest.raises(DataFormatError, match="not a single string"):
        learner.predict(texts[0])
    # a file of texts alone needs the label set
    bare = tmp_path / "bare.csv"
    bare.write_text("text\n" + "".join(f"{t}\n" for _, t, _ in rows), "utf-8")
    with pytest.raises(ConfigError, match="classes="):
        ActiveLearner.from_file(bare, featurizer=fz)
    fresh = ActiveLearner.from_file(bare, classes=list(WORDS), featurizer=fz, head="centroid")
    assert fresh.n_pool == 30 and fresh.n_labeled == 0


def test_a_learner_built_from_features_says_it_cannot_read_texts() -> None:
    from littledata.active.learner import ActiveLearner

    X = np.random.default_rng(0).normal(size=(12, 4))
    learner = ActiveLearner(None, "centroid", "margin", features=X, classes=["a", "b"])
    learner.teach([0, 1, 2, 3], ["a", "b", "a", "b"])
    with pytest.raises(ConfigError, match="without a featurizer"):
        learner.predict(["some text"])
    with pytest.raises(DataFormatError, match="4"):
        learner.predict(np.zeros((2, 3)))
    assert len(learner.predict(X[:2])) == 2


# -- results: a changed file -----------------------------------------------------------------


def test_results_keep_the_latest_content_of_a_changed_file() -> None:
    from littledata.experiments.results import describe_data, latest_content

    frame = pd.DataFrame(
        {
            "dataset": ["q.csv"] * 4 + ["trec"],
            "source_fingerprint": ["old", "old", "new", "new", None],
            "created": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2 + ["2024-01-01"]),
            "value": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    kept, older = latest_content(frame)
    assert kept["value"].tolist() == [3.0, 4.0, 5.0] and older == {"q.csv": 2}
    line = describe_data(
        {"rows": {"test": 20, "train": 80}, "classes": 2, "label_names": ["a", "b"],
         "split_note": "no test split in the file: ..."}
    )  # fmt: skip
    assert line.startswith("100 rows (train 80, test 20), 2 classes (a, b); no test split")
