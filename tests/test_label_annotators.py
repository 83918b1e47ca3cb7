"""Per-annotator tokens: the file (TOML / JSON) and --annotator-token, read and checked; the app
then takes the annotator from the token, and refuses a body naming someone else."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from littledata.errors import ConfigError
from littledata.label_app.annotators import identify, parse_annotator_tokens, read_annotators
from littledata.label_app.api import create_app
from littledata.label_app.session import LabelSession
from littledata.label_app.store import LabelStore
from tests.label_helpers import HashFeaturizer, pool

TOKENS = {"alice": "alice-token-1", "bob": "bob-token-22"}
ALICE = {"Authorization": "Bearer alice-token-1"}
BOB = {"Authorization": "Bearer bob-token-22"}


def test_the_file_is_read_as_toml_or_json_with_or_without_its_table(tmp_path):
    (tmp_path / "a.toml").write_text(
        '[annotators]\nalice = "alice-token-1"\nbob = "bob-token-22"\n'
    )
    (tmp_path / "b.toml").write_text('alice = "alice-token-1"\nbob = "bob-token-22"\n')
    (tmp_path / "a.json").write_text(json.dumps({"annotators": TOKENS}))
    (tmp_path / "b.json").write_text(json.dumps(TOKENS))
    for name in ("a.toml", "b.toml", "a.json", "b.json"):
        assert read_annotators(tmp_path / name) == TOKENS, name
    assert parse_annotator_tokens(["alice=alice-token-1", "bob=bob-token-22"]) == TOKENS
    assert parse_annotator_tokens(["x=a=b=c=d=e"]) == {"x": "a=b=c=d=e"}  # the first = splits


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('alice = "alice-token-1"\nbob = "alice-token-1"\n', "same token"),
        ('alice = "short"\n', "8-200 printable"),
        ('alice = "has a space"\n', "8-200 printable"),
        ('"<b>" = "fine-token-1"\n', "not an annotator name"),
        ('file = "fine-token-1"\n', "reserved"),
        ("alice = 12345678\n", "8-200 printable"),
        ("[annotators]\n", "names no annotator"),
        ("alice = [", "not valid TOML"),
    ],
)
def test_a_bad_annotators_file_is_refused_with_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "team.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_annotators(path)


def test_unreadable_files_and_bad_pairs_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="no annotators file"):
        read_annotators(tmp_path / "missing.toml")
    (tmp_path / "team.yaml").write_text("alice: x")
    with pytest.raises(ConfigError, match=r"\.toml or \.json"):
        read_annotators(tmp_path / "team.yaml")
    (tmp_path / "list.json").write_text('["alice"]')
    with pytest.raises(ConfigError, match="map each annotator"):
        read_annotators(tmp_path / "list.json")
    (tmp_path / "latin1.toml").write_bytes('alice = "café-token"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="UTF-8"):
        read_annotators(tmp_path / "latin1.toml")
    with pytest.raises(ConfigError, match="NAME=TOKEN"):
        parse_annotator_tokens(["alice"])
    with pytest.raises(ConfigError, match="twice"):
        parse_annotator_tokens(["alice=alice-token-1", "alice=alice-token-2"])


def test_identify_finds_the_token_s_annotator_only():
    assert identify(TOKENS, "bob-token-22") == "bob"
    assert identify(TOKENS, "bob-token-2") is None
    assert identify(TOKENS, "") is None


@pytest.fixture
def session(tmp_path):
    store = LabelStore(f"sqlite:///{tmp_path / 'l.sqlite'}", lease_seconds=60)
    texts = pool(30)
    store.add_items(texts)
    return LabelSession(
        store, ["pos", "neg"], texts=texts, featurizer=HashFeaturizer(), batch_size=50,
        use_process=False,
    )  # fmt: skip


def test_the_token_says_who_labels_and_no_one_acts_as_another(session):
    with TestClient(create_app(session, annotators=TOKENS)) as c:
        # without a token, or with one that is no one's (the shared-token mode's too): 401
        assert c.get("/api/stats").status_code == 401
        assert (
            c.get("/api/config", headers={"Authorization": "Bearer alice-token"}).status_code == 401
        )
        assert c.get("/").status_code == 200  # the page loads; its calls carry ?token=
        assert c.get("/api/config", headers=ALICE).json()["annotator"] == "alice"
        # no name in the body: the token's annotator
        first = c.post("/api/next", json={}, headers=ALICE).json()["item"]
        r = c.post("/api/answer", json={"item_id": first["id"], "label": "pos"}, headers=ALICE)
        assert r.status_code == 200, r.text
        second = r.json()["item"]
        # naming yourself is fine; naming another is refused, and records nothing
        theirs = c.post("/api/next", json={"annotator": "bob"}, headers=BOB).json()["item"]
        assert theirs["id"] not in (first["id"], second["id"])
        for path, body in [
            ("/api/answer", {"annotator": "bob", "item_id": theirs["id"], "label": "neg"}),
            ("/api/skip", {"annotator": "bob", "item_id": theirs["id"]}),
            ("/api/unsure", {"annotator": "bob", "item_id": theirs["id"]}),
            ("/api/undo", {"annotator": "bob"}),
            ("/api/next", {"annotator": "bob"}),
            ("/api/answer", {"annotator": "bob", "item_id": theirs["id"], "label": "nope"}),
        ]:
            r = c.post(path, json=body, headers=ALICE)
            assert r.status_code == 403, (path, r.text)
            assert "cannot act as bob" in r.json()["error"]
        ok = {"annotator": "alice", "item_id": second["id"], "label": "neg"}
        assert c.post("/api/answer", json=ok, headers=ALICE).status_code == 200
        assert c.post("/api/answer", json={"item_id": theirs["id"], "label": "neg"},
                      headers=BOB).status_code == 200  # fmt: skip
        undone = c.post("/api/undo", json={}, headers=BOB).json()["item"]
        assert undone["id"] == theirs["id"]
        assert c.post("/api/skip", json={"item_id": theirs["id"]}, headers=BOB).status_code == 200
        rows = [json.loads(x) for x in c.get("/api/export", headers=BOB).text.splitlines()]
        stats = c.get("/api/stats", headers=ALICE).json()
    assert [(r["item_id"], r["annotator"], r["kind"]) for r in rows] == [
        (first["id"], "alice", "label"),
        (second["id"], "alice", "label"),
        (theirs["id"], "bob", "skip"),
    ]
    assert stats["annotators"] == {"alice": {"label": 2}, "bob": {"skip": 1}}


def test_the_shared_token_mode_still_needs_a_name_in_the_body(session):
    with TestClient(create_app(session, token="s3cret")) as c:
        headers = {"Authorization": "Bearer s3cret"}
        assert c.get("/api/config", headers=headers).json()["annotator"] is None
        r = c.post("/api/next", json={}, headers=headers)
        assert r.status_code == 422 and "annotator" in r.json()["error"]
        r = c.post("/api/next", json={"annotator": "carol"}, headers=headers)
        assert r.status_code == 200 and r.json()["item"] is not None
    with pytest.raises(ConfigError, match="not both"):
        create_app(session, token="s3cret", annotators=TOKENS)


def test_the_command_takes_tokens_from_the_file_and_the_options(tmp_path):
    from littledata.cli.label import _annotator_tokens

    path = tmp_path / "team.json"
    path.write_text(json.dumps({"alice": "alice-token-1"}))
    both = _annotator_tokens(path, ["bob=bob-token-22"], None)
    assert both == TOKENS
    assert _annotator_tokens(None, [], "shared") == {}
    with pytest.raises(ConfigError, match="not both"):
        _annotator_tokens(path, [], "shared")
    with pytest.raises(ConfigError, match="alice: named in"):
        _annotator_tokens(path, ["alice=other-token-3"], None)
    with pytest.raises(ConfigError, match="same token"):
        _annotator_tokens(path, ["bob=alice-token-1"], None)


def test_beyond_loopback_per_annotator_tokens_count_as_a_token():
    from typer.testing import CliRunner

    from littledata.cli import app

    def run(*extra: str) -> str:
        args = ["label", "trec", "--host", "0.0.0.0", "--port", "8123", "--labels", "onlyone"]
        result = CliRunner().invoke(app, [*args, *extra], env={"LITTLEDATA_TOKEN": None})
        assert isinstance(result.exception, ConfigError), result.output
        return str(result.exception)

    assert "--token" in run()  # no token: refused for the address
    out = run("--annotator-token", "alice=alice-token-1")
    assert "--token" not in out and "at least two labels" in out  # past the address check
