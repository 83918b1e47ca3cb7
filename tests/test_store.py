"""The results store: one transaction per trial, no duplicates, filters, failures, runs."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from littledata.errors import ConfigError
from littledata.experiments.store import Measurement, ResultsStore, canonical_json, trial_key


def _config(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"dataset": "sst2", "featurizer": "tfidf", "head": "logreg"}
    base.update(size=20, seed=0)
    base.update(kw)
    return base


def _add(store: ResultsStore, kind: str = "bench", **kw: object) -> bool:
    config = _config(**kw)
    return store.add_trial(
        kind=kind,
        key=trial_key(config),
        config=config,
        measurements=[
            Measurement("accuracy", 0.5 + 0.1 * int(kw.get("seed", 0))),
            Measurement("macro_f1", 0.4),
        ],
    )


def test_trial_key_is_canonical_and_sensitive() -> None:
    assert trial_key({"a": 1, "b": [1, 2]}) == trial_key({"b": [1, 2], "a": 1})
    assert trial_key({"a": 1}) != trial_key({"a": 2})
    assert trial_key({"a": 1}) != trial_key({"a": 1, "b": None})
    assert len(trial_key({})) == 64
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def test_default_store_lives_in_the_data_home(session_home: Path) -> None:
    store = ResultsStore()
    assert store.url == f"sqlite:///{session_home / 'results.sqlite'}"
    assert (session_home / "results.sqlite").exists()
    store.close()


def test_add_trial_once_and_frame_long_format(tmp_path: Path) -> None:
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    assert _add(store, seed=0) is True
    assert _add(store, seed=0) is False  # same key: nothing written
    assert _add(store, seed=1) is True
    assert _add(store, kind="active", seed=0) is True  # keys are unique per kind only
    frame = store.frame("bench")
    assert len(frame) == 4  # 2 trials x 2 metrics
    assert list(frame.columns[:5]) == ["key", "created", "metric", "x", "value"]
    assert {"dataset", "featurizer", "head", "size", "seed"} <= set(frame.columns)
    acc = frame[frame["metric"] == "accuracy"].sort_values("seed")
    assert acc["value"].round(6).tolist() == [0.5, 0.6]
    assert frame["x"].isna().all()
    assert str(frame["created"].dt.tz) == "UTC"
    assert store.completed_keys("bench") == {
        trial_key(_config(seed=0)),
        trial_key(_config(seed=1)),
    }
    assert len(store.completed_keys("active")) == 1
    # the raw tables hold each row once
    con = sqlite3.connect(tmp_path / "r.sqlite")
    assert con.execute("select count(*) from trials").fetchone()[0] == 3
    assert con.execute("select count(*) from measurements").fetchone()[0] == 6
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    con.close()


def test_unique_constraint_holds_even_without_the_precheck(tmp_path: Path) -> None:
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    _add(store)
    con = sqlite3.connect(tmp_path / "r.sqlite")
    key = trial_key(_config())
    with pytest.raises(sqlite3.IntegrityError):
        con.execute(
            "insert into trials (kind, key, config, versions, created) "
            "values ('bench', ?, '{}', '{}', '2024-01-01')",
            (key,),
        )
    con.close()


def test_filters_values_lists_and_missing_fields() -> None:
    store = ResultsStore("sqlite://")
    for seed in range(3):
        _add(store, seed=seed)
    _add(store, head="knn", seed=0)
    assert store.frame("bench", head="knn")["seed"].unique().tolist() == [0]
    assert sorted(store.frame("bench", seed=[0, 2])["seed"].unique()) == [0, 2]
    assert store.frame("bench", head="svm").empty
    assert store.frame("bench", nosuchfield=1).empty
    assert store.frame("nothing").columns.tolist() == ["key", "created", "metric", "x", "value"]


def test_measurements_with_steps_and_nan() -> None:
    store = ResultsStore("sqlite://")
    config = {"dataset": "trec", "strategy": "margin", "seed": 0}
    curve = [Measurement("accuracy", 0.1 * i, x=20 + 10 * i) for i in range(4)]
    curve.append(Measurement("roc_auc", float("nan")))
    assert store.add_trial(kind="active", key=trial_key(config), config=config, measurements=curve)
    frame = store.frame("active", strategy="margin")
    acc = frame[frame["metric"] == "accuracy"]
    assert acc["x"].tolist() == [20.0, 30.0, 40.0, 50.0]
    assert acc["value"].round(6).tolist() == [0.0, 0.1, 0.2, 0.3]
    assert math.isnan(frame[frame["metric"] == "roc_auc"]["value"].iloc[0])


def test_config_fields_that_clash_with_base_columns_are_prefixed() -> None:
    store = ResultsStore("sqlite://")
    config = {"metric": "accuracy", "value": 3, "dataset": "x"}
    store.add_trial(
        kind="bench", key=trial_key(config), config=config, measurements=[Measurement("a", 1.0)]
    )
    frame = store.frame("bench")
    assert frame["metric"].tolist() == ["a"]
    assert frame["config_metric"].tolist() == ["accuracy"]
    assert frame["config_value"].tolist() == [3]


def test_delete_removes_trials_measurements_and_failures(tmp_path: Path) -> None:
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    for seed in range(3):
        _add(store, seed=seed)
    _add(store, head="knn")
    store.add_failure(kind="bench", key="k", config=_config(head="knn", seed=9), message="boom")
    assert store.delete("bench", head="knn") == 1
    assert store.failures("bench").empty
    assert set(store.frame("bench")["head"]) == {"logreg"}
    con = sqlite3.connect(tmp_path / "r.sqlite")
    assert con.execute("select count(*) from measurements").fetchone()[0] == 6
    con.close()
    assert store.delete("bench") == 3
    assert store.completed_keys("bench") == set()


def test_failures_are_replaced_and_cleared_by_success() -> None:
    store = ResultsStore("sqlite://")
    config = _config()
    key = trial_key(config)
    store.add_failure(kind="bench", key=key, config=config, message="first")
    store.add_failure(kind="bench", key=key, config=config, message="second")
    failures = store.failures("bench")
    assert failures["message"].tolist() == ["second"]
    assert key not in store.completed_keys("bench")
    _add(store)
    assert store.failures("bench").empty


def test_trials_frame_has_versions_and_runs_round_trip() -> None:
    store = ResultsStore("sqlite://")
    _add(store)
    trials = store.trials("bench")
    assert len(trials) == 1
    assert "numpy" in trials["versions"].iloc[0]
    run = store.start_run("bench", {"name": "t", "sizes": [20]})
    assert store.runs("bench")[0]["summary"] is None
    store.finish_run(run, {"run": 1})
    (record,) = store.runs("bench")
    assert record["spec"] == {"name": "t", "sizes": [20]}
    assert record["summary"] == {"run": 1}
    assert record["finished"] >= record["started"]


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Not a database URL"):
        ResultsStore("not a url")


@pytest.mark.integration
def test_concurrent_writers_never_duplicate(tmp_path: Path) -> None:
    """Two processes storing the same 30 trials at once: each trial ends up stored exactly once."""
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    script = textwrap.dedent(
        f"""
        from littledata.experiments.store import Measurement, ResultsStore, trial_key
        store = ResultsStore({url!r})
        wrote = 0
        for seed in range(30):
            config = {{"dataset": "d", "seed": seed}}
            wrote += store.add_trial(kind="bench", key=trial_key(config), config=config,
                                     measurements=[Measurement("accuracy", seed / 30)])
        print(wrote)
        """
    )
    ResultsStore(url).close()  # create the tables first
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(int(o.strip()) for o in outs) == 30
    con = sqlite3.connect(tmp_path / "r.sqlite")
    assert con.execute("select count(*), count(distinct key) from trials").fetchone() == (30, 30)
    assert con.execute("select count(*) from measurements").fetchone()[0] == 30
    con.close()


def test_unusable_databases_are_one_line_errors_whenever_they_show(tmp_path: Path) -> None:
    from littledata.errors import DataFormatError, LittleDataError

    missing = tmp_path / "no" / "such" / "folder" / "r.sqlite"
    with pytest.raises(ConfigError, match="does not exist; create it first"):
        ResultsStore(f"sqlite:///{missing}")
    assert not (tmp_path / "no").exists()  # a typo in --db creates nothing
    with pytest.raises(ConfigError, match="There is no results store"):
        ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}", create=False)
    assert not (tmp_path / "r.sqlite").exists()
    with pytest.raises(ConfigError, match="names a folder"):
        ResultsStore(f"sqlite:///{tmp_path}")
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="not a usable SQLite database"):
        ResultsStore(f"sqlite:///{text}")
    assert text.read_text(encoding="utf-8") == "not a database\n"

    # a database that breaks after it was opened: the error shows at the next query
    db = tmp_path / "big.sqlite"
    store = ResultsStore(f"sqlite:///{db}")
    for seed in range(300):
        _add(store, seed=seed, note="x" * 200)
    assert len(store.trials("bench")) == 300
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(page, len(data), page):  # every page but the first (the schema)
        data[start : start + 16] = b"\xff" * 16  # a b-tree page's header
    db.write_bytes(bytes(data))
    with pytest.raises(LittleDataError, match="malformed"):
        ResultsStore(f"sqlite:///{db}").frame("bench")


def test_a_store_path_with_a_tilde_is_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = ResultsStore("sqlite:///~/r.sqlite")
    assert _add(store) is True
    assert (tmp_path / "r.sqlite").is_file()


# The schema of a store written before trials had a collapse flag (littledata up to PROTOCOL 2).
_OLD_SCHEMA = """
CREATE TABLE trials (
    id INTEGER NOT NULL, kind VARCHAR(32) NOT NULL, "key" VARCHAR(64) NOT NULL,
    config TEXT NOT NULL, versions TEXT NOT NULL, created DATETIME NOT NULL,
    PRIMARY KEY (id), CONSTRAINT uq_trials_kind_key UNIQUE (kind, "key"));
CREATE TABLE measurements (
    id INTEGER NOT NULL, trial_id INTEGER NOT NULL, metric VARCHAR(64) NOT NULL, x FLOAT,
    value FLOAT, PRIMARY KEY (id), FOREIGN KEY(trial_id) REFERENCES trials (id) ON DELETE CASCADE);
CREATE INDEX ix_measurements_trial_id ON measurements (trial_id);
CREATE TABLE failures (
    id INTEGER NOT NULL, kind VARCHAR(32) NOT NULL, "key" VARCHAR(64) NOT NULL,
    config TEXT NOT NULL, message TEXT NOT NULL, created DATETIME NOT NULL, PRIMARY KEY (id),
    CONSTRAINT uq_failures_kind_key UNIQUE (kind, "key"));
CREATE TABLE runs (
    id INTEGER NOT NULL, kind VARCHAR(32) NOT NULL, started DATETIME NOT NULL,
    finished DATETIME, spec TEXT NOT NULL, summary TEXT, versions TEXT NOT NULL,
    PRIMARY KEY (id));
"""


def test_an_old_store_is_migrated_in_place_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(_OLD_SCHEMA)
        for i, seed in enumerate((0, 1), start=1):
            config = canonical_json(_config(seed=seed))
            conn.execute(
                "INSERT INTO trials VALUES (?, 'bench', ?, ?, '{}', '2026-11-01 10:00:00')",
                (i, trial_key(_config(seed=seed)), config),
            )
            conn.execute(
                "INSERT INTO measurements (trial_id, metric, x, value) VALUES (?, 'accuracy', "
                "NULL, ?)",
                (i, 0.5 + seed / 10),
            )
        conn.execute(
            "INSERT INTO runs VALUES (1, 'bench', '2026-11-01 09:00:00', NULL, '{}', NULL, '{}')"
        )
    store = ResultsStore(f"sqlite:///{path}")
    frame = store.frame("bench")
    assert sorted(frame["value"]) == [0.5, 0.6] and set(frame["seed"]) == {0, 1}
    assert frame["collapsed"].isna().all()  # stored before the check: unknown, not "fine"
    assert len(store.runs("bench")) == 1
    assert store.completed_keys("bench") == {trial_key(_config(seed=s)) for s in (0, 1)}
    config = _config(seed=2)
    store.add_trial(
        kind="bench",
        key=trial_key(config),
        config=config,
        measurements=[Measurement("accuracy", 0.9)],
        collapsed=True,
    )
    store.close()
    again = ResultsStore(f"sqlite:///{path}")  # a second open finds the column and adds nothing
    trials = again.trials("bench").set_index("seed")
    assert trials["collapsed"].isna().tolist() == [True, True, False]
    assert bool(trials.loc[2, "collapsed"]) is True
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(trials)")]
    assert columns.count("collapsed") == 1


def test_collapse_flag_round_trips_and_a_config_field_of_that_name_is_prefixed() -> None:
    store = ResultsStore("sqlite://")
    for seed, flag in ((0, True), (1, False), (2, None)):
        config = _config(seed=seed, collapsed="config value")
        store.add_trial(
            kind="bench",
            key=trial_key(config),
            config=config,
            measurements=[Measurement("accuracy", 0.5)],
            collapsed=flag,
        )
    frame = store.frame("bench").set_index("seed")
    assert list(frame.columns[:6]) == ["key", "created", "metric", "x", "value", "collapsed"]
    assert bool(frame.loc[0, "collapsed"]) is True
    assert bool(frame.loc[1, "collapsed"]) is False
    assert frame["collapsed"].isna().tolist() == [False, False, True]
    assert set(frame["config_collapsed"]) == {"config value"}
