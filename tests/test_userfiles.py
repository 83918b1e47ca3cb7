"""A user's own files: every supported format and option, and a clear error for each bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from littledata import load_dataset
from littledata.datasets.base import Task
from littledata.datasets.userfiles import detect_format, load_user_file, looks_like_file
from littledata.errors import ConfigError, DataFormatError, LittleDataError, UnknownNameError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "reviews.csv",
        "text,label\n"
        "great film,pos\n"
        '"long, thoughtful\nand quoted",pos\n'
        "dull,neg\n"
        "awful acting,neg\n"
        "fine,neutral\n",
    )


# --------------------------------------------------------------------------------------------------
# Formats and options


def test_csv_defaults(reviews: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        ds = load_dataset(reviews)
    assert ds.name == "reviews"
    assert ds.task is Task.SINGLE_LABEL
    assert ds.label_names == ["neg", "neutral", "pos"]  # sorted
    assert list(ds.splits) == ["train"]
    train = ds.train
    assert train.texts[1] == "long, thoughtful\nand quoted"
    assert train.labels.dtype == np.int64
    assert train.labels.tolist() == [2, 2, 0, 0, 1]
    assert train.meta["row"] == [2, 3, 4, 5, 6]  # a spreadsheet's row numbers (header = 1)
    # One split and no test split, and the user is told so.
    assert ds.test_split not in ds.splits
    assert "no split column" in caplog.text and "'train'" in caplog.text


def test_string_path_and_label_names_order(reviews: Path) -> None:
    ds = load_dataset(str(reviews), label_names=["pos", "neutral", "neg"])
    assert ds.label_names == ["pos", "neutral", "neg"]
    assert ds.train.labels.tolist() == [0, 0, 2, 2, 1]


def test_numeric_labels_sort_as_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "n.csv", "text,label\na,10\nb,2\nc,1\nd,2\n")
    ds = load_user_file(path)
    assert ds.label_names == ["1", "2", "10"]
    assert ds.train.labels.tolist() == [2, 1, 0, 1]


def test_a_label_is_its_text_in_every_format_and_numeric_twins_are_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spellings = ["1", "1.0", "01", "2", "1", "10"]
    csv = _write(
        tmp_path / "l.csv", "text,label\n" + "".join(f"t{i},{v}\n" for i, v in enumerate(spellings))
    )
    as_json = [1, 1.0, "01", 2, "1", 10]  # numbers where JSON has them; "01" is not a JSON number
    jsonl = tmp_path / "l.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"text": f"t{i}", "label": v}) + "\n" for i, v in enumerate(as_json)),
        encoding="utf-8",
    )
    records = tmp_path / "l.json"
    records.write_text(
        json.dumps([{"text": f"t{i}", "label": v} for i, v in enumerate(as_json)]),
        encoding="utf-8",
    )
    for path in (csv, jsonl, records):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="littledata.datasets.userfiles"):
            ds = load_user_file(path)
        assert ds.label_names == ["01", "1", "1.0", "2", "10"], path.name
        assert ds.train.labels.tolist() == [1, 2, 0, 3, 1, 4], path.name
        warned = [r.getMessage() for r in caplog.records if "same number" in r.getMessage()]
        assert len(warned) == 1, (path.name, caplog.text)
        assert "'01' (1 rows), '1' (2 rows), '1.0' (1 rows)" in warned[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="littledata.datasets.userfiles"):
        ds = load_user_file(_write(tmp_path / "ok.csv", "text,label\na,1\nb,2\nc,1\n"))
    assert ds.label_names == ["1", "2"] and "same number" not in caplog.text


def test_named_columns_and_split_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "data.csv",
        "id,review,stars,part\n"
        "1,good,5,train\n2,bad,1,TRAIN\n3,ok,3,test\n4,meh,3,validation\n5,super,5,train\n",
    )
    ds = load_dataset(path, text_column="review", label_column="stars", split_column="part")
    assert list(ds.splits) == ["train", "test", "validation"]
    assert ds.train_split == "train" and ds.test_split == "test"
    assert ds.train.texts == ["good", "bad", "super"]
    assert ds.label_names == ["1", "3", "5"]
    assert ds["validation"].meta["row"] == [5]


def test_split_column_named_split_is_used_and_dev_is_test(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "text,label,split\na,x,train\nb,y,dev\nc,x,train\n")
    ds = load_user_file(path)
    assert list(ds.splits) == ["train", "dev"]
    assert ds.test_split == "dev"


def test_split_column_without_train(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "text,label,split\na,x,eval\nb,y,holdout\n")
    with pytest.raises(DataFormatError, match="one of them must be 'train'") as info:
        load_user_file(path)
    assert "eval, holdout" in str(info.value)


def test_tsv_sentence_pairs(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pairs.tsv",
        "premise\thypothesis\tlabel\n"
        "A man sleeps.\tA person rests.\tentailment\n"
        "A dog runs.\tA cat sleeps.\tcontradiction\n",
    )
    ds = load_dataset(path, text_pair_column="hypothesis")
    assert ds.task is Task.SENTENCE_PAIR
    assert ds.train.texts == ["A man sleeps.", "A dog runs."]  # 'premise' found by default
    assert ds.train.text_pairs == ["A person rests.", "A cat sleeps."]
    assert ds.label_names == ["contradiction", "entailment"]


def test_jsonl_with_line_numbers(tmp_path: Path) -> None:
    lines = [
        json.dumps({"sentence": "good", "label": 1}),
        "",
        json.dumps({"sentence": "bad", "label": 0}),
        json.dumps({"sentence": "", "label": 1}),
    ]
    path = _write(tmp_path / "d.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"1 of 3 rows .*line 4\b"):
        load_user_file(path)
    ds = load_user_file(path, drop_invalid=True)
    assert ds.train.texts == ["good", "bad"]
    assert ds.label_names == ["0", "1"]
    assert ds.train.meta["row"] == [1, 3]


def test_jsonl_keeps_unicode_line_separators_inside_texts(tmp_path: Path) -> None:
    # json.dumps(..., ensure_ascii=False) writes U+2028, U+2029 and U+0085 unescaped; they are
    # valid inside a JSON string and must not end the line. CRLF line ends work too.
    texts = ["first\u2028second", "para\u2029graph", "next\x85line", "plain"]
    lines = [json.dumps({"text": t, "label": "x"}, ensure_ascii=False) for t in texts]
    path = _write(tmp_path / "u.jsonl", "\r\n".join(lines) + "\r\n")
    ds = load_user_file(path)
    assert ds.train.texts == texts
    assert ds.train.meta["row"] == [1, 2, 3, 4]


def test_json_array(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "d.json",
        json.dumps([{"text": "a", "label": True}, {"text": "b", "label": False}]),
    )
    ds = load_user_file(path)
    assert ds.label_names == ["False", "True"]
    assert ds.train.labels.tolist() == [1, 0]


def test_parquet(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "d.parquet"
    pd.DataFrame(
        {"text": ["a", "b", None, "d"], "label": [1, 2, 1, None], "split": ["train"] * 4}
    ).to_parquet(path)
    with pytest.raises(DataFormatError) as info:
        load_user_file(path)
    msg = str(info.value)
    assert "2 of 4 rows" in msg and "rows 3, 4 (counting from 1)" in msg
    assert "1 with an empty text" in msg and "1 with a missing label" in msg
    ds = load_user_file(path, drop_invalid=True)
    assert ds.label_names == ["1", "2"]  # whole floats (1.0 from a nullable column) lose '.0'
    assert ds.train.texts == ["a", "b"]


def test_conll_by_extension_and_by_format(tmp_path: Path) -> None:
    text = (
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-ORG\nrejects VBZ O\nGerman JJ B-MISC\n\n"
        "Peter NNP B-PER\nBlackburn NNP I-PER\n\n\n"
    )
    ds = load_dataset(_write(tmp_path / "ner.conll", text))
    assert ds.task is Task.SEQUENCE_LABELING
    assert ds.label_names == ["O", "B-MISC", "B-ORG", "B-PER", "I-PER"]  # O first, then sorted
    assert ds.train.tokens == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert ds.train.texts == ["EU rejects German", "Peter Blackburn"]
    assert [t.tolist() for t in ds.train.labels] == [[2, 0, 1], [3, 4]]
    assert ds.train.meta["line"] == [3, 7]
    same = load_dataset(_write(tmp_path / "ner.txt", text), format="conll")
    assert same.train.tokens == ds.train.tokens


def test_conll_columns_are_split_on_spaces_and_tabs_only(tmp_path: Path) -> None:
    # A token may hold a no-break space or U+2028; only spaces and tabs separate the columns.
    text = "10\u00a0000 B-NUM\nfoo\u2028bar\tO\n\nnext O\n"
    ds = load_user_file(_write(tmp_path / "u.conll", text))
    assert ds.train.tokens == [["10\u00a0000", "foo\u2028bar"], ["next"]]
    assert ds.label_names == ["O", "B-NUM"]
    assert ds.train.meta["line"] == [1, 4]


def test_conll_line_without_tag(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.conll", "EU B-ORG\nrejects\n\nPeter B-PER\n")
    with pytest.raises(
        DataFormatError, match=r"1 lines have a single column.*line 2\b.*drop_invalid"
    ):
        load_user_file(path)
    ds = load_user_file(path, drop_invalid=True)
    assert ds.train.tokens == [["Peter"]]


def test_conll_rejects_column_options(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.conll", "EU B-ORG\n")
    with pytest.raises(ConfigError, match="does not apply to a CoNLL file"):
        load_user_file(path, text_column="text")


def test_utf8_bom_and_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftext,label\ncafé,x\n".encode())
    assert load_user_file(path).train.texts == ["café"]
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\nol\u00e9,x\n".encode("latin-1"))
    assert load_user_file(latin, encoding="latin-1").train.texts == ["olé"]


def test_explicit_format_and_sep(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.txt", "text;label\na;x\nb;y\n")
    ds = load_user_file(path, format="csv", sep=";")
    assert ds.train.texts == ["a", "b"]


# --------------------------------------------------------------------------------------------------
# Bad input: one clear error each


def test_misnamed_column_suggests_closest(reviews: Path) -> None:
    with pytest.raises(DataFormatError) as info:
        load_dataset(reviews, text_column="txt")
    msg = str(info.value)
    assert "no column 'txt'" in msg
    assert "Did you mean 'text'?" in msg
    assert "Available columns: 'text', 'label'" in msg


def test_wrong_case_column_suggests_exact_name(reviews: Path) -> None:
    with pytest.raises(DataFormatError, match="Did you mean 'label'"):
        load_dataset(reviews, label_column="Label")


def test_missing_default_column_lists_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "body,label\nhello,x\n")
    with pytest.raises(DataFormatError) as info:
        load_user_file(path)
    msg = str(info.value)
    assert "which column holds the texts" in msg
    assert "Available columns: 'body', 'label'" in msg
    assert "text_column=" in msg and "--text-column" in msg


def test_missing_pair_column(reviews: Path) -> None:
    with pytest.raises(DataFormatError, match=r"no column 'text2'.*the text_pair column"):
        load_user_file(reviews, text_pair_column="text2")


def test_wrong_separator_is_hinted(tmp_path: Path) -> None:
    path = _write(tmp_path / "semi.csv", "text;label\nhello;x\n")
    with pytest.raises(DataFormatError, match=r"seems to use ';' as separator: pass sep=';'"):
        load_user_file(path)


def test_same_column_twice(reviews: Path) -> None:
    with pytest.raises(ConfigError, match="must differ"):
        load_user_file(reviews, text_column="text", label_column="text")


def test_empty_file(tmp_path: Path) -> None:
    for content in ("", "\n\n  \n"):
        path = _write(tmp_path / "empty.csv", content)
        with pytest.raises(DataFormatError, match=r"empty\.csv is empty"):
            load_user_file(path)


def test_header_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.csv", "text,label\n")
    with pytest.raises(DataFormatError, match=r"has a header \(text, label\) but no rows"):
        load_user_file(path)


def test_invalid_rows_named_and_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = ["text,label", "ok,a", ",a", "   ,b", "fine,", "good,b"]
    rows += [f",{i}" for i in range(12)]  # 12 more with empty text
    path = _write(tmp_path / "bad.csv", "\n".join(rows) + "\n")
    with pytest.raises(DataFormatError) as info:
        load_user_file(path)
    msg = str(info.value)
    assert "15 of 17 rows cannot be used" in msg
    assert "14 with an empty text" in msg and "1 with a missing label" in msg
    assert "rows 3, 4, 5, 7, 8, 9, 10, 11, 12, 13 and 5 more" in msg
    assert "row 1 is the header" in msg
    assert "drop_invalid=True" in msg and "--drop-invalid" in msg
    with caplog.at_level(logging.WARNING):
        ds = load_user_file(path, drop_invalid=True)
    assert ds.train.texts == ["ok", "good"]
    assert ds.train.meta["row"] == [2, 6]
    assert "dropped 15 of 17 rows" in caplog.text


def test_row_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", 'text,label\n"two\nlines",a\n\nthird,\n')
    with pytest.raises(DataFormatError, match=r"1 of 2 rows .*: row 4 "):
        load_user_file(path)


def test_every_row_invalid_even_when_dropping(tmp_path: Path) -> None:
    path = _write(tmp_path / "all.csv", "text,label\n,a\n,b\n")
    with pytest.raises(DataFormatError, match="every one of its 2 rows is unusable"):
        load_user_file(path, drop_invalid=True)


def test_label_outside_label_names(reviews: Path) -> None:
    with pytest.raises(DataFormatError) as info:
        load_user_file(reviews, label_names=["pos", "neg"])
    msg = str(info.value)
    assert "'neutral' (row 6)" in msg


def test_undecodable_bytes_give_offset_line_and_encoding_hint(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\nfine,a\ncaf\xe9 au lait,b\n")
    with pytest.raises(DataFormatError) as info:
        load_user_file(path)
    msg = str(info.value)
    assert "not valid utf-8" in msg
    assert "byte 0xe9 at byte offset 21 (line 3, column 4)" in msg
    assert "encoding='latin-1'" in msg and "--encoding latin-1" in msg


def test_unknown_encoding(reviews: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown encoding 'utf-99'"):
        load_user_file(reviews, encoding="utf-99")


def test_unknown_extension(tmp_path: Path) -> None:
    path = _write(tmp_path / "data.xlsx", "x")
    with pytest.raises(DataFormatError) as info:
        load_dataset(path)
    msg = str(info.value)
    assert "'.xlsx'" in msg and ".csv" in msg and ".parquet" in msg and "format='csv'" in msg


def test_unknown_format_option(reviews: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown file format 'xls'"):
        load_user_file(reviews, format="xls")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="File not found"):
        load_dataset(tmp_path / "nope.csv")
    with pytest.raises(DataFormatError, match="is a folder"):
        load_user_file(tmp_path, format="csv")
    # a missing file with an unknown extension: "not found" first, not "cannot tell the format"
    with pytest.raises(DataFormatError, match="File not found"):
        load_user_file(tmp_path / "nope.xyz")
    _write(tmp_path / "there.xyz", "text,label\nhello,x\n")
    with pytest.raises(DataFormatError, match="Cannot tell the format"):
        load_user_file(tmp_path / "there.xyz")


def test_too_many_fields(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", "text,label\nhello, world,x\n")
    with pytest.raises(DataFormatError, match="more fields than the header"):
        load_user_file(path)
    path = _write(tmp_path / "g.csv", "text,label\nhello,x\nhello, world,x\n")
    with pytest.raises(DataFormatError, match=r"Expected 2 fields in line 3.*must be quoted"):
        load_user_file(path)


def test_bad_jsonl(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.jsonl", '{"text": "a", "label": 1}\n{"text": "b", label: 2}\n')
    with pytest.raises(DataFormatError, match=r"line 2 is not valid JSON"):
        load_user_file(path)
    path = _write(tmp_path / "c.jsonl", '["a", 1]\n')
    with pytest.raises(DataFormatError, match=r"line 1 holds a JSON list, not an object"):
        load_user_file(path)


def test_not_parquet(tmp_path: Path) -> None:
    path = _write(tmp_path / "fake.parquet", "text,label\na,b\n")
    with pytest.raises(DataFormatError, match="cannot be read as Parquet"):
        load_user_file(path)


# --------------------------------------------------------------------------------------------------
# load_dataset: names versus paths


def test_unknown_name_suggests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownNameError, match="Did you mean: sst2"):
        load_dataset("sst")


def test_file_options_with_a_registered_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"for your own files only.*'\./sst2'"):
        load_dataset("sst2", text_column="text")


def test_name_versus_path_detection() -> None:
    assert not looks_like_file("sst2")
    assert not looks_like_file("goemotions-ekman")
    assert looks_like_file("my.csv") and looks_like_file("data/x") and looks_like_file(Path("x"))
    assert detect_format("A.TSV") == "tsv" and detect_format("x.ndjson") == "jsonl"
    assert detect_format("x.whatever", "Parquet") == "parquet"


def test_errors_are_littledata_errors(tmp_path: Path) -> None:
    """Everything above is catchable as one family (the CLI shows it without a traceback)."""
    for exc in (DataFormatError, ConfigError, UnknownNameError):
        assert issubclass(exc, LittleDataError)
