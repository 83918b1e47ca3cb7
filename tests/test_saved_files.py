"""Files littledata reads only select registered names: a session file never runs code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from littledata.active import ActiveLearner
from littledata.errors import ConfigError, DataFormatError, LittleDataError, UnknownNameError
from littledata.heads import CVLogisticRegression, make_head

CLASSES = ["red", "green", "blue"]


def _pool(n_per: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0, 0], [3, 0, 0], [0, 3, 0]], dtype=float)
    X = np.vstack([rng.normal(c, 1.0, size=(n_per, 3)) for c in centres])
    return X, np.repeat(np.arange(3), n_per)


def _session(tmp_path: Path, head: Any = "logreg", **kw: Any) -> tuple[Path, dict[str, Any]]:
    X, y = _pool()
    learner = ActiveLearner(None, head, "margin", features=X, classes=CLASSES, **kw)
    first = [0, 30, 60, 1, 31, 61]
    learner.teach(first, [CLASSES[c] for c in y[first]])
    learner.query(4)
    path = learner.save(tmp_path / "session.json")
    return path, json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, state: dict[str, Any]) -> Path:
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "target, params",
    [
        ("littledata.io.atomic_write_text", {"path": "PWNED", "text": "import os"}),
        ("littledata.io.atomic_write_bytes", {"path": "PWNED", "data": "x"}),
        ("sklearn.utils._testing.TempMemmap", {"data": "PWNED"}),
        ("builtins.exec", {}),
    ],
)
def test_a_session_naming_a_callable_is_refused_and_runs_nothing(
    tmp_path: Path, target: str, params: dict[str, Any]
) -> None:
    path, state = _session(tmp_path)
    victim = tmp_path / "evil.pth"
    params = {k: (str(victim) if v == "PWNED" else v) for k, v in params.items()}
    state["head"] = {"estimator": target, "params": params}
    _write(path, state)
    X, _ = _pool()
    with pytest.raises(ConfigError, match="not a registered head") as info:
        ActiveLearner.load(path, features=X)
    assert "pass head=" in str(info.value)  # says how to resume anyway
    assert not victim.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["session.json"]


def test_a_session_naming_a_class_that_is_not_a_registered_head_is_refused(
    tmp_path: Path,
) -> None:
    path, state = _session(tmp_path)
    state["head"] = {"estimator": "sklearn.svm._classes.SVC", "params": {"probability": True}}
    _write(path, state)
    X, _ = _pool()
    with pytest.raises(ConfigError, match=r"'sklearn\.svm\._classes\.SVC' .* not a registered"):
        ActiveLearner.load(path, features=X)


def test_registered_heads_round_trip_by_name_and_as_estimator(tmp_path: Path) -> None:
    X, _ = _pool()
    for head, expect in (
        ("knn", {"name": "knn", "params": {"n_neighbors": 3}}),
        (CVLogisticRegression(Cs=(0.1, 1.0), cv=2), None),
        (LogisticRegression(C=0.5, max_iter=50), None),
    ):
        kw = {"head_params": {"n_neighbors": 3}} if isinstance(head, str) else {}
        path, state = _session(tmp_path, head, **kw)
        if expect is not None:
            assert state["head"] == expect
        else:
            assert set(state["head"]) == {"class", "params"}
        resumed = ActiveLearner.load(path, features=X)
        if isinstance(head, str):
            assert (resumed.head, resumed.head_params) == (head, {"n_neighbors": 3})
        else:
            assert type(resumed.head) is type(head)
            assert resumed.head.get_params() == head.get_params()
        np.testing.assert_allclose(resumed.predict_proba(X[:5]), resumed.model.predict_proba(X[:5]))


def test_older_sessions_with_a_dotted_registered_class_still_load(tmp_path: Path) -> None:
    X, _ = _pool()
    path, state = _session(tmp_path, LogisticRegression(C=0.5))
    original = ActiveLearner.load(path, features=X)
    state["head"] = {  # what littledata wrote before heads were saved by registry name
        "estimator": "sklearn.linear_model._logistic.LogisticRegression",
        "params": state["head"]["params"],
    }
    _write(path, state)
    legacy = ActiveLearner.load(path, features=X)
    assert legacy.head.get_params() == LogisticRegression(C=0.5).get_params()
    assert legacy.query(5).tolist() == original.query(5).tolist()
    state["head"] = {
        "estimator": "littledata.heads.logreg.CVLogisticRegression",
        "params": CVLogisticRegression(cv=2).get_params(),
    }
    state["head"]["params"]["Cs"] = list(state["head"]["params"]["Cs"])
    legacy = ActiveLearner.load(_write(path, state), features=X)
    assert isinstance(legacy.head, CVLogisticRegression) and legacy.head.cv == 2


def test_an_unregistered_estimator_is_described_not_named_and_needs_head_on_load(
    tmp_path: Path,
) -> None:
    X, _ = _pool()
    head = CalibratedClassifierCV(LinearSVC(), cv=2)
    path, state = _session(tmp_path, head)
    assert set(state["head"]) == {"unregistered"}
    with pytest.raises(ConfigError, match=r"not a registered head.*pass head="):
        ActiveLearner.load(path, features=X)
    resumed = ActiveLearner.load(path, features=X, head=CalibratedClassifierCV(LinearSVC(), cv=2))
    assert resumed.n_labeled == 6


@pytest.mark.parametrize(
    "head, message",
    [
        ({"name": "logreg", "params": {"bogus": 1}}, "no parameter 'bogus'"),
        ({"name": "logreg", "params": {"random_state": 3}}, "no parameter 'random_state'"),
        ({"name": "logreg", "params": {"cv": "3"}}, "invalid value for 'cv'"),
        ({"name": "logreg", "params": {"Cs": "0.1"}}, "invalid value for 'Cs'"),
        ({"name": "logreg", "params": ["cv", 3]}, "must be an object"),
        ({"name": "os.system", "params": {}}, "Unknown head 'os.system'"),
        ({"name": "knn", "params": {}, "estimator": "x.y"}, "must be"),
        ({"class": "logreg-default", "params": {"C": -1.0}}, "'C' parameter"),
        ({"class": "mlp", "params": {"hidden": 1.5}}, "invalid value for 'hidden'"),
        ({"class": 3, "params": {}}, "registered head"),
        ({"estimator": "littledata.heads.logreg.CVLogisticRegression"}, "without parameters"),
    ],
)
def test_head_parameters_are_checked_against_the_registered_head(
    tmp_path: Path, head: dict[str, Any], message: str
) -> None:
    path, state = _session(tmp_path)
    state["head"] = head
    X, _ = _pool()
    with pytest.raises(ConfigError, match=message):
        ActiveLearner.load(_write(path, state), features=X)


def test_check_head_params_and_estimator_specs() -> None:
    from littledata.heads.saved import check_head_params, estimator_from_spec, estimator_spec

    assert check_head_params("logreg", {"Cs": [0.1, 1]}) == {"Cs": (0.1, 1)}
    assert check_head_params("mlp", {"n_threads": None, "dropout": 0}) == {
        "n_threads": None,
        "dropout": 0,
    }
    with pytest.raises(UnknownNameError):
        check_head_params("nope", {})
    with pytest.raises(ConfigError, match="invalid value for 'tol'"):
        check_head_params("logreg", {"tol": float("nan")})
    spec = estimator_spec(make_head("svm", resampling="none", random_state=3))
    assert spec["class"] == "svm" and spec["params"]["random_state"] == 3
    json.dumps(spec)
    assert (
        estimator_from_spec(json.loads(json.dumps(spec))).get_params()
        == make_head("svm", resampling="none", random_state=3).get_params()
    )
    with pytest.raises(ConfigError, match="not the class of a registered head"):
        estimator_spec(LinearSVC())
    with pytest.raises(ConfigError, match="not plain data"):
        estimator_spec(LogisticRegression(class_weight={np.int64(0): object()}))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda s: s.update(extra=1), "unknown key"),
        (lambda s: s.pop("pool"), "missing key"),
        (lambda s: s.update(seed="0"), "'seed'"),
        (lambda s: s["labeled"].append([10_000, "red", 0]), "'labeled' holds"),
        (lambda s: s["labeled"].append(list(s["labeled"][0])), "pool row twice"),
        (lambda s: s["strategy"].update(params=[]), "'strategy'"),
        (lambda s: s.update(featurizer={"name": 3}), "featurizer"),
        (lambda s: s["pool"].update(source="shell"), "'source'"),
        (lambda s: s.update(tuned={"C": -1, "n_labeled": 2}), "'tuned'"),
        (lambda s: s.update(version="1"), "'version'"),
    ],
)
def test_a_tampered_session_is_a_clear_error(tmp_path: Path, edit: Any, message: str) -> None:
    path, state = _session(tmp_path)
    edit(state)
    X, _ = _pool()
    with pytest.raises(DataFormatError, match=message):
        ActiveLearner.load(_write(path, state), features=X)


def test_bad_strategy_parameters_and_undecodable_files_are_clear_errors(tmp_path: Path) -> None:
    path, state = _session(tmp_path)
    X, _ = _pool()
    state["strategy"] = {"name": "committee", "params": {"n_members": "three"}}
    with pytest.raises(LittleDataError):
        ActiveLearner.load(_write(path, state), features=X)
    state["strategy"] = {"name": "nope", "params": {}}
    with pytest.raises(UnknownNameError):
        ActiveLearner.load(_write(path, state), features=X)
    path.write_bytes(b'{"format": "littledata-active-learner", "x": "\xe9"}')
    with pytest.raises(DataFormatError, match="not UTF-8"):
        ActiveLearner.load(path, features=X)
    with pytest.raises(DataFormatError, match="folder"):
        ActiveLearner.load(tmp_path, features=X)


@pytest.mark.model
def test_a_model_folder_naming_custom_code_is_loaded_without_running_it(tmp_path: Path) -> None:
    """A session or spec may name a local model folder as its featurizer: its weights are read
    as data, and code its config points to (``auto_map``) is never imported."""
    import os
    import shutil

    from littledata.features import get_featurizer
    from littledata.features.transformer import resolve_model

    src = resolve_model("minilm")
    folder = tmp_path / "model"
    folder.mkdir()
    for item in src.iterdir():
        if item.name == "config.json":
            continue
        if item.is_file():
            os.symlink(item, folder / item.name)
        else:
            shutil.copytree(item, folder / item.name)
    config = json.loads((src / "config.json").read_text(encoding="utf-8"))
    config["auto_map"] = {"AutoModel": "evil.EvilModel", "AutoTokenizer": ["evil.Tok", None]}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    marker = tmp_path / "PWNED"
    (folder / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from transformers import BertModel as EvilModel\n"
    )
    assert get_featurizer(str(folder)).transform(["hello"]).shape == (1, 384)
    assert not marker.exists()
