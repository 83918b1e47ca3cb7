"""Intent detection JSON formats: clinc150, snips."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from littledata.datasets.base import Parser, Split
from littledata.datasets.parsers._common import (
    Paths,
    _bad_label,
    _label_lookup,
    _labels,
    _parser,
    _read_text,
)
from littledata.errors import DataFormatError

logger = logging.getLogger(__name__)


def _parse_clinc150(
    paths: Paths,
    *,
    filename: str,
    split_keys: Mapping[str, Sequence[str]],
    label_names: Sequence[str],
) -> dict[str, Split]:
    try:
        data = json.loads(_read_text(paths[filename]))
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{filename} is not valid JSON: {exc}.") from None
    lookup = _label_lookup(label_names)
    splits = {}
    for split, keys in split_keys.items():
        texts, labels = [], []
        for key in keys:
            if key not in data:
                raise DataFormatError(f"{filename} has no {key!r} list.")
            for i, item in enumerate(data[key]):
                if not (isinstance(item, list) and len(item) == 2):
                    raise DataFormatError(f"{filename} {key}[{i}]: expected [text, intent].")
                text, intent = item
                if intent not in lookup:
                    raise _bad_label(f"{filename} {key}", i + 1, intent, label_names)
                texts.append(text)
                labels.append(lookup[intent])
        splits[split] = Split(texts=texts, labels=_labels(labels))
    return splits


def clinc150_json(
    filename: str, split_keys: Mapping[str, Sequence[str]], label_names: Sequence[str]
) -> Parser:
    """CLINC150 ``data_full.json``: lists of ``[text, intent]`` under ``train``, ``oos_train``, ...

    ``split_keys`` maps each split to the JSON lists it concatenates, e.g.
    ``{"train": ["train", "oos_train"]}``.
    """
    return _parser(
        _parse_clinc150,
        filename=filename,
        split_keys={k: tuple(v) for k, v in split_keys.items()},
        label_names=tuple(label_names),
    )


def _decode_snips(data: bytes, name: str) -> str:
    """Decode a snips JSON file.

    One upstream file (PlayMusic train) encodes an emoji as a UTF-16 surrogate pair written as two
    3-byte sequences (CESU-8 style: ``ED A0 BC ED BD 95`` for U+1F355), which strict UTF-8 refuses.
    Those bytes are decoded with ``surrogatepass`` and each surrogate pair is joined back into the
    character it stands for. Any other invalid byte is an error.
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{name}: the bytes at offset {exc.start} are not valid UTF-8 ({exc.reason})."
        ) from None
    logger.debug("%s: joined UTF-16 surrogate pairs encoded as UTF-8", name)
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise DataFormatError(f"{name}: contains an unpaired UTF-16 surrogate.") from None


def _read_snips_file(path: Path, intent: str) -> tuple[list[str], list[object]]:
    try:
        data = json.loads(_decode_snips(path.read_bytes(), path.name))
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path.name} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict) or list(data) != [intent]:
        raise DataFormatError(f"{path.name}: expected one top-level key {intent!r}.")
    texts: list[str] = []
    slots: list[object] = []
    for i, query in enumerate(data[intent]):
        try:
            chunks = query["data"]
            parts: list[str] = []
            spans: list[tuple[int, int, str]] = []
            offset = 0
            for chunk in chunks:
                piece = chunk["text"]
                if "entity" in chunk:
                    spans.append((offset, offset + len(piece), chunk["entity"]))
                parts.append(piece)
                offset += len(piece)
        except (KeyError, TypeError):
            raise DataFormatError(
                f"{path.name} query {i}: expected {{'data': [{{'text': ...}}, ...]}}."
            ) from None
        texts.append("".join(parts))
        slots.append(spans)
    return texts, slots


def _parse_snips(
    paths: Paths,
    *,
    split_files: Mapping[str, Sequence[tuple[str, str]]],
    label_names: Sequence[str],
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    splits = {}
    for split, parts in split_files.items():
        texts: list[str] = []
        labels: list[int] = []
        slots: list[object] = []
        for intent, filename in parts:
            t, s = _read_snips_file(paths[filename], intent)
            texts.extend(t)
            slots.extend(s)
            labels.extend([lookup[intent]] * len(t))
        splits[split] = Split(texts=texts, labels=_labels(labels), meta={"slots": slots})
    return splits


def snips_json(
    split_files: Mapping[str, Sequence[tuple[str, str]]], label_names: Sequence[str]
) -> Parser:
    """Snips 2017 custom-intent JSON files: one file per intent and split.

    ``split_files`` maps a split to ``(intent, filename)`` pairs. The text of a query is the
    concatenation of its chunks; the slot spans are kept in ``meta["slots"]`` as
    ``(start, end, slot name)`` character offsets into the text.
    """
    return _parser(
        _parse_snips,
        split_files={k: tuple(v) for k, v in split_files.items()},
        label_names=tuple(label_names),
    )
