"""The built-in datasets of the task types beyond single-label: sentence pairs (msrp, sick, rte),
sequence labeling (conll2003) and multi-label (goemotions, goemotions-ekman).

Declared like :mod:`littledata.datasets.catalog` (which holds the single-label ones and the pinned
upstream files of all of them) and registered on import, after it.
"""

from __future__ import annotations

from littledata.datasets import parsers
from littledata.datasets.base import DatasetSpec, Task
from littledata.datasets.catalog import add_spec, pinned_files

# --------------------------------------------------------------------------------------------
# Sentence pairs: msrp, sick, rte
# --------------------------------------------------------------------------------------------

_MSRP = {
    "train": "data_para_msr_msr-para-train.tsv",
    "val": "data_para_msr_msr-para-val.tsv",
    "test": "data_para_msr_msr-para-test.tsv",
}
add_spec(
    DatasetSpec(
        name="msrp",
        folder="msrp",
        task=Task.SENTENCE_PAIR,
        description="Microsoft Research Paraphrase Corpus: is the second sentence a paraphrase?",
        license="Microsoft Research shared-source license (LICENCE.html)",
        files=pinned_files("msrp", *_MSRP.values()),
        label_names=("not_paraphrase", "paraphrase"),
        splits={"train": 3576, "val": 500, "test": 1725},
        parser=parsers.msrp_tsv(_MSRP),
    )
)

_SICK = {
    "train": "data_sts_sick2014_SICK_train.txt",
    "trial": "data_sts_sick2014_SICK_trial.txt",
    "test": "data_sts_sick2014_SICK_test_annotated.txt",
}
_NLI_LABELS = ("entailment", "neutral", "contradiction")
add_spec(
    DatasetSpec(
        name="sick",
        folder="sick",
        task=Task.SENTENCE_PAIR,
        description="SICK sentence pairs, 3-way entailment; relatedness score (1-5) in meta.",
        license="CC BY-NC-SA 3.0",
        files=pinned_files("sick", *_SICK.values()),
        label_names=_NLI_LABELS,
        splits={"train": 4500, "trial": 500, "test": 4927},
        parser=parsers.sick_tsv(_SICK, _NLI_LABELS),
    )
)

_RTE = {"train": "data_RTE_train.tsv", "val": "data_RTE_val.tsv", "dev": "data_RTE_dev.tsv"}
add_spec(
    DatasetSpec(
        name="rte",
        folder="rte",
        task=Task.SENTENCE_PAIR,
        description="GLUE RTE: does the first text entail the second? (GLUE dev = test split)",
        license="GLUE/RTE: research use",
        files=pinned_files("rte", *_RTE.values()),
        label_names=("entailment", "not_entailment"),
        splits={"train": 2127, "val": 363, "dev": 277},
        parser=parsers.rte_tsv(_RTE, ("entailment", "not_entailment")),
        test_split="dev",
        split_note="train and val are the source repo's split of GLUE train; dev is GLUE dev "
        "(GLUE test has no labels), used as the test split.",
    )
)

# --------------------------------------------------------------------------------------------
# Sequence labeling: conll2003
# --------------------------------------------------------------------------------------------

_CONLL = {
    "train": "data_conll2003_train.txt",
    "valid": "data_conll2003_valid.txt",
    "test": "data_conll2003_test.txt",
}
# IOB2 tags in the order of the Hugging Face conll2003 dataset.
_CONLL_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")
add_spec(
    DatasetSpec(
        name="conll2003",
        folder="conll2003",
        task=Task.SEQUENCE_LABELING,
        description="CoNLL-2003 English named entities (PER, LOC, ORG, MISC) as IOB2 token tags.",
        license="Reuters RCV1-derived: research use only; repo Apache-2.0",
        files=pinned_files("conll2003", *_CONLL.values()),
        label_names=_CONLL_TAGS,
        splits={"train": 14041, "valid": 3250, "test": 3453},
        parser=parsers.conll_iob2(_CONLL, _CONLL_TAGS),
    )
)

# --------------------------------------------------------------------------------------------
# Multi-label: goemotions (two label sets)
# --------------------------------------------------------------------------------------------

_GOEMOTIONS_LICENSE = "CC BY 4.0 (data); repo Apache-2.0"
_GOEMOTIONS_SPLITS = {"train": 43410, "dev": 5426, "test": 5427}
_GOEMOTIONS_28 = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)
_GOEMOTIONS_EKMAN = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")


def _goemotions(name: str, subset: str, labels: tuple[str, ...], description: str) -> DatasetSpec:
    split_files = {s: f"data_{subset}_{s}.tsv" for s in _GOEMOTIONS_SPLITS}
    labels_file = f"data_{subset}_labels.txt"
    return DatasetSpec(
        name=name,
        folder="goemotions",
        task=Task.MULTI_LABEL,
        description=description,
        license=_GOEMOTIONS_LICENSE,
        files=pinned_files("goemotions", *split_files.values(), labels_file),
        label_names=labels,
        splits=dict(_GOEMOTIONS_SPLITS),
        parser=parsers.goemotions_tsv(split_files, labels_file, labels),
    )


add_spec(
    _goemotions(
        "goemotions",
        "original",
        _GOEMOTIONS_28,
        "Emotions in Reddit comments, multi-label: 27 emotions + neutral (GoEmotions).",
    )
)
add_spec(
    _goemotions(
        "goemotions-ekman",
        "ekman",
        _GOEMOTIONS_EKMAN,
        "Emotions in Reddit comments, multi-label: 6 Ekman emotions + neutral (GoEmotions).",
    )
)
