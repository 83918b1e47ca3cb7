"""The 20 newsgroups "bydate" archive, read straight from its .tar.gz."""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from collections.abc import Mapping, Sequence

from littledata.datasets.base import Parser, Split
from littledata.datasets.parsers._common import Paths, _bad_label, _label_lookup, _labels, _parser
from littledata.errors import DataFormatError


def _decode_post(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _parse_newsgroups(
    paths: Paths, *, filename: str, split_dirs: Mapping[str, str], label_names: Sequence[str]
) -> dict[str, Split]:
    lookup = _label_lookup(label_names)
    dir_to_split = {d: s for s, d in split_dirs.items()}
    found: dict[str, list[tuple[int, int, str, str]]] = {s: [] for s in split_dirs}
    path = paths[filename]
    try:
        # Decompressing the whole archive in memory (about 50 MB) and then walking the tar is
        # faster than letting tarfile seek inside a gzip stream; nothing is written to disk.
        raw = gzip.decompress(path.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as archive:
            for member in archive:
                if not member.isfile():
                    continue
                parts = member.name.split("/")
                if len(parts) < 3 or parts[-3] not in dir_to_split:
                    continue
                group, post_id = parts[-2], parts[-1]
                if group not in lookup:
                    raise _bad_label(f"{filename}: {member.name}", 0, group, label_names)
                # the archive is in memory: slice the member's bytes instead of extractfile()
                text = _decode_post(raw[member.offset_data : member.offset_data + member.size])
                key = int(post_id) if post_id.isdigit() else -1
                found[dir_to_split[parts[-3]]].append((lookup[group], key, post_id, text))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{filename} is not a readable .tar.gz archive: {exc}.") from None
    splits = {}
    for split, items in found.items():
        items.sort(key=lambda item: (item[0], item[1], item[2]))
        splits[split] = Split(
            texts=[item[3] for item in items],
            labels=_labels([item[0] for item in items]),
            meta={"post_id": [item[2] for item in items]},
        )
    return splits


def newsgroups_tar(
    filename: str, split_dirs: Mapping[str, str], label_names: Sequence[str]
) -> Parser:
    """20 newsgroups "bydate": a .tar.gz of ``<split dir>/<group>/<post id>`` files.

    Read straight from the archive (nothing is extracted to disk). ``split_dirs`` maps a split to
    its directory name (e.g. ``{"train": "20news-bydate-train"}``). The text is the whole post
    (headers included), decoded as UTF-8, or latin-1 where a post is not valid UTF-8. Within a
    split, posts are ordered by group (label index) then numeric post id; the post id is kept in
    ``meta["post_id"]``.
    """
    return _parser(
        _parse_newsgroups,
        filename=filename,
        split_dirs=dict(split_dirs),
        label_names=tuple(label_names),
    )
