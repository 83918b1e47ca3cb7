"""CoNLL-style IOB2 token files (sequence labeling)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from littledata.datasets.base import Parser, Split
from littledata.datasets.parsers._common import (
    Paths,
    _bad_label,
    _label_lookup,
    _parser,
    _read_lines,
)
from littledata.errors import DataFormatError


def _read_conll(path: Path, lookup: Mapping[str, int]) -> Split:
    words: list[str] = []  # every token of the file, in order
    tag_ids: list[int] = []
    ends: list[int] = []  # position in ``words`` where each sentence ends
    for line_no, line in enumerate(_read_lines(path), 1):
        if "\t" in line:
            line = line.replace("\t", " ")
        fields = line.split(" ")
        if len(fields) != 3 or not fields[0] or not fields[1]:  # not the usual 'token TAG 0'
            fields = [f for f in fields if f]
            if len(fields) == 2:
                fields.append("")
        if not fields:
            if words and (not ends or ends[-1] != len(words)):
                ends.append(len(words))
            continue
        if fields[0] == "-DOCSTART-":
            continue
        if len(fields) < 2:
            raise DataFormatError(
                f"{path.name} line {line_no}: expected 'token TAG ...', found {line[:60]!r}."
            )
        tag = lookup.get(fields[1])
        if tag is None:  # the four-column CoNLL-2003 layout has the tag last
            tag = lookup.get(fields[-1])
        if tag is None:
            raise _bad_label(path.name, line_no, fields[1], list(lookup))
        words.append(fields[0])
        tag_ids.append(tag)
    if words and (not ends or ends[-1] != len(words)):
        ends.append(len(words))
    all_tags = np.asarray(tag_ids, dtype=np.int64)
    starts = [0, *ends[:-1]]
    tokens = [words[a:b] for a, b in zip(starts, ends, strict=True)]
    tags = [all_tags[a:b].copy() for a, b in zip(starts, ends, strict=True)]
    texts = [" ".join(t) for t in tokens]
    return Split(texts=texts, labels=tags, tokens=tokens)


def _parse_conll(
    paths: Paths, *, split_files: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    return {split: _read_conll(paths[f], lookup) for split, f in split_files.items()}


def conll_iob2(split_files: Mapping[str, str], label_names: Sequence[str]) -> Parser:
    """CoNLL-style token files: ``token TAG ...`` per line, a blank line ends a sentence.

    The tag is the second column (LexiconNER's conll2003 files: ``token TAG 0``; a two-column
    file ``token TAG`` works too), or the last one when the second is not a tag (the original
    four-column ``token POS chunk TAG`` layout). ``-DOCSTART-`` lines are skipped. ``texts``
    are the tokens joined by single spaces.
    """
    return _parser(_parse_conll, split_files=dict(split_files), label_names=tuple(label_names))
