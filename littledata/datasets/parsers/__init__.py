"""Parsers for the upstream formats of the built-in datasets, and :func:`build_dataset`.

Each public function here is a *parser factory*: it takes what is specific to one dataset (its file
names, label names, ...) and returns a :data:`~littledata.datasets.base.Parser`, a callable that
turns ``{filename: local path}`` into ``{split name: Split}``. The catalog
(:mod:`littledata.datasets.catalog`) pairs each factory call with the spec's files.

Texts are cleaned only where the format demands it: bytes are decoded, line terminators (``\\n``,
``\\r\\n``) and a UTF-8 byte-order mark are removed, CSV quoting is undone, CoNLL tokens are joined
by spaces, snips chunks are concatenated. Nothing else is touched (no lower-casing, no whitespace
trimming, no HTML unescaping). Lines are split on ``\\n`` only, never with ``str.splitlines``,
which would also split on characters such as U+0085 (the latin-1 byte ``0x85``) and U+2028 that
occur inside texts.

Labels come back as int64 arrays of indices into the spec's ``label_names`` (multi-label: a uint8
indicator matrix; sequence labeling: one int64 array of tag indices per sentence).

The modules follow the upstream format families: ``lines`` (one text per line), ``tables``
(TweetEval and the CSV / TSV pools), ``intents`` (clinc150, snips), ``tsv_splits`` (liar,
goemotions and the GLUE-style pair files), ``conll``, ``newsgroups``; ``build`` holds
:func:`build_dataset`, ``_common`` the readers shared by all of them. Every public name is
importable from this package.
"""

from __future__ import annotations

from littledata.datasets.base import Parser
from littledata.datasets.parsers.build import build_dataset
from littledata.datasets.parsers.conll import conll_iob2
from littledata.datasets.parsers.intents import clinc150_json, snips_json
from littledata.datasets.parsers.lines import (
    label_tab_text,
    lines_per_label_pool,
    sst_lines,
    trec_lines,
    uci_sentences,
)
from littledata.datasets.parsers.newsgroups import newsgroups_tar
from littledata.datasets.parsers.tables import (
    airline_csv,
    davidson_csv,
    dbpedia_csv,
    sms_spam_tsv,
    tweeteval,
    tweeteval_stance,
)
from littledata.datasets.parsers.tsv_splits import (
    cola_tsv,
    goemotions_tsv,
    liar_tsv,
    msrp_tsv,
    rte_tsv,
    sick_tsv,
)

__all__ = [
    "Parser",
    "airline_csv",
    "build_dataset",
    "clinc150_json",
    "cola_tsv",
    "conll_iob2",
    "davidson_csv",
    "dbpedia_csv",
    "goemotions_tsv",
    "label_tab_text",
    "liar_tsv",
    "lines_per_label_pool",
    "msrp_tsv",
    "newsgroups_tar",
    "rte_tsv",
    "sick_tsv",
    "sms_spam_tsv",
    "snips_json",
    "sst_lines",
    "trec_lines",
    "tweeteval",
    "tweeteval_stance",
    "uci_sentences",
]
