"""CoNLL-2003 entities at 100, 500 and 1000 training sentences: token heads beside a CRF.

On the same sentences (the benchmark's caps: a seeded pool of 2000 training sentences and 1000
test sentences, cap seed 0; training samples drawn by the sequence-labeling task type, seeds
0-2), it fits and scores with seqeval's strict entity-level F1:

- ``crf``: a feature-engineered linear-chain CRF (sklearn-crfsuite, L-BFGS, c1 = c2 = 0.1, 100
  iterations): the word lower-cased, its shape (``Xxxx``, ``dd``), prefixes and suffixes of 1-3
  characters, upper/title/digit flags, and the same for the previous and next word;
- ``minilm-first`` / ``minilm-mean``: MiniLM's last hidden state aligned to words by each
  word's first sub-word piece or by the mean of its pieces, with the ``token-logreg`` head (a
  softmax per word);
- ``glove50``: GloVe 50-d vectors per word (no context) with ``token-logreg``;
- ``minilm-last4-mean``: the mean of MiniLM's last four hidden layers (``layers="last4-mean"``),
  mean-pooled over a word's pieces, with ``token-logreg``;
- ``minilm-crf``: the ``token-crf`` head (a linear-chain CRF on the minilm-mean features reduced
  by PCA to ``--crf-components`` dimensions, 128 by default, c1 = c2 = 0.05, 100 iterations,
  decoding constrained to the tag transitions seen in training) scored by each word's most
  probable tag, as the benchmark grid scores it; ``minilm-crf-viterbi``: the same fitted CRF's
  best whole sequence;
- ``minilm-crf+shape``: ``token-crf`` with the words' shape features added (shape, upper /
  title / digit flags, the neighbours' too); ``minilm-crf+all``: with all of the baseline CRF's
  features added (also the words lower-cased and the affixes);
- ``minilm-last4-crf`` / ``minilm-last4-crf+all``: ``token-crf`` on the minilm-last4-mean
  features, alone / with all of the baseline CRF's features.

Writes ``benchmarks/results/sequence_labeling.md``: mean ± std entity F1 per size, the F1 per
entity type at the largest size, and the seconds each method took to fit and predict.

Usage (repository root, project venv active)::

    LITTLEDATA_MIRROR=../shared/datasets python benchmarks/sequence_labeling.py
    # fewer methods / sizes / seeds:
    python benchmarks/sequence_labeling.py --methods crf,minilm-crf --sizes 100,500 --seeds 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "sequence_labeling.md"


LOGREG_ROWS = {
    "minilm-first": ("minilm", "first", "last"),
    "minilm-mean": ("minilm", "mean", "last"),
    "glove50": ("glove50", "first", "last"),
    "minilm-last4-mean": ("minilm", "mean", "last4-mean"),
}
"""token-logreg rows: featurizer, sub-word pooling, layer mix."""
CRF_ROWS = {
    "minilm-crf": ("minilm-mean", "none"),
    "minilm-crf+shape": ("minilm-mean", "shape"),
    "minilm-crf+all": ("minilm-mean", "all"),
    "minilm-last4-crf": ("minilm-last4-mean", "none"),
    "minilm-last4-crf+all": ("minilm-last4-mean", "all"),
}
"""token-crf rows: the token-logreg row whose features they take, the words' own features."""
METHODS = ["crf", *LOGREG_ROWS, *CRF_ROWS, "minilm-crf-viterbi"]


def run(
    sizes: list[int], seeds: list[int], methods: list[str], components: int = 128
) -> dict[str, Any]:
    import sklearn_crfsuite

    from littledata.datasets.loading import load_dataset
    from littledata.features import get_featurizer
    from littledata.features.tokens import token_features
    from littledata.heads.crf import word_features
    from littledata.models.tagger import TokenTagger
    from littledata.tasks import get_task_type
    from littledata.tasks.sequence_labeling import unpad_tags

    ds = load_dataset("conll2003")
    task = get_task_type("sequence-labeling")
    names = list(ds.label_names)
    y_train, y_test = task.targets(ds.train), task.targets(ds.test)
    pool = task.cap(y_train, 2000, 0)
    test = task.cap(y_test, 1000, 0)
    words_pool = [ds.train.tokens[i] for i in pool]  # type: ignore[index]
    words_test = [ds.test.tokens[i] for i in test]  # type: ignore[index]
    y_pool, y_te = y_train[pool], y_test[test]
    true_test = [[names[t] for t in seq] for seq in unpad_tags(y_te)]
    test_lengths = [len(seq) for seq in true_test]

    def tags_of(pred: np.ndarray) -> list[list[str]]:
        out, start_at = [], 0
        for n in test_lengths:
            out.append([names[t] for t in pred[start_at : start_at + n]])
            start_at += n
        return out

    wanted = set(methods)
    if "minilm-crf-viterbi" in wanted:
        wanted.add("minilm-mean")
    wanted |= {CRF_ROWS[m][0] for m in methods if m in CRF_ROWS}  # the CRF rows' features
    features: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    timing: dict[str, float] = {}
    for label, (fz_name, pooling, layers) in LOGREG_ROWS.items():
        if label not in wanted:
            continue
        fz = get_featurizer(fz_name)
        start = time.perf_counter()
        features[label] = (
            token_features(fz, words_pool, pooling=pooling, layers=layers),
            token_features(fz, words_test, pooling=pooling, layers=layers),
        )
        timing[f"features {label}"] = time.perf_counter() - start

    results: dict[str, dict[int, list[float]]] = {}
    per_type: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    for size in sizes:
        for seed in seeds:
            idx = task.sample(y_pool, size, seed)
            largest = size == sizes[-1]
            train_words = [words_pool[i] for i in idx]
            for label, (x_pool, x_test) in features.items():
                if label not in methods:
                    continue
                start = time.perf_counter()
                model = TokenTagger("token-logreg", random_state=seed)
                model.fit(task.take(x_pool, y_pool, idx), y_pool[idx])
                pred = model.predict(x_test)
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - start
                _record(results, per_type, label, size, true_test, tags_of(pred), largest)
            for label, (base, extra) in CRF_ROWS.items():
                viterbi = label == "minilm-crf" and "minilm-crf-viterbi" in methods
                if label not in methods and not viterbi:
                    continue
                x_pool, x_test = features[base]
                start = time.perf_counter()
                params = {"word_features": extra, "n_components": components}
                model = TokenTagger("token-crf", params, random_state=seed)
                model.fit(task.take(x_pool, y_pool, idx), y_pool[idx], words=train_words)
                if label in methods:
                    pred = model.predict(x_test, test_lengths, words_test)
                    seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - start
                    _record(results, per_type, label, size, true_test, tags_of(pred), largest)
                if viterbi:
                    path = model.estimator_.viterbi(x_test, lengths=test_lengths)
                    tags = tags_of(path)
                    _record(results, per_type, "minilm-crf-viterbi", size, true_test, tags, largest)
            if "crf" not in methods:
                continue
            start = time.perf_counter()
            crf = sklearn_crfsuite.CRF(
                algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=100,
                all_possible_transitions=True,
            )  # fmt: skip
            train_tags = [[names[t] for t in seq] for seq in unpad_tags(y_pool[idx])]
            crf.fit([[word_features(w, i) for i in range(len(w))] for w in train_words], train_tags)
            pred_tags = crf.predict(
                [[word_features(w, i) for i in range(len(w))] for w in words_test]
            )
            seconds["crf"] = seconds.get("crf", 0.0) + time.perf_counter() - start
            _record(results, per_type, "crf", size, true_test, pred_tags, largest)
    return {"results": results, "per_type": per_type, "timing": timing, "seconds": seconds}


def _record(
    results: dict[str, dict[int, list[float]]],
    per_type: dict[str, dict[str, list[float]]],
    label: str,
    size: int,
    true_tags: list[list[str]],
    pred_tags: list[list[str]],
    largest: bool,
) -> None:
    from littledata.tasks.sequence_labeling import entity_report, entity_scores

    results.setdefault(label, {}).setdefault(size, []).append(
        entity_scores(true_tags, pred_tags)["entity_f1"]
    )
    if largest:
        for kind, row in entity_report(true_tags, pred_tags).items():
            if "avg" not in kind:
                per_type.setdefault(label, {}).setdefault(kind, []).append(row["f1-score"])


def write(out: dict[str, Any], sizes: list[int], seeds: list[int], seconds: float) -> str:
    results, per_type = out["results"], out["per_type"]
    methods = [m for m in METHODS if m in results]
    lines = [
        "# CoNLL-2003 entities with few training sentences",
        "",
        f"Written by `benchmarks/sequence_labeling.py` on {dt.date.today()} ({platform.machine()}, "
        f"{platform.system()}; measured while other jobs shared the 2 cores; {seconds:.0f} s in "
        f"all). Pool: 2000 training sentences, test: 1000 sentences (cap seed 0); seeds "
        f"{', '.join(map(str, seeds))}. Strict entity-level micro F1 (seqeval, IOB2).",
        "",
        "| method | " + " | ".join(f"{s} sentences" for s in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for m in methods:
        cells = [
            f"{np.mean(results[m][s]):.3f} ± {np.std(results[m][s], ddof=1):.3f}"
            if len(results[m][s]) > 1
            else f"{results[m][s][0]:.3f}"
            for s in sizes
        ]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    kinds = sorted({k for m in methods for k in per_type.get(m, {})})
    lines += [
        "",
        f"F1 per entity type at {sizes[-1]} sentences (mean over seeds):",
        "",
        "| method | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    for m in methods:
        lines.append(
            f"| {m} | " + " | ".join(f"{np.mean(per_type[m][k]):.3f}" for k in kinds) + " |"
        )
    lines += ["", "Feature seconds (pool + test, first run, cached after): " + ", ".join(
        f"{k.split(' ', 1)[1]} {v:.0f}" for k, v in out["timing"].items()
    ), ""]  # fmt: skip
    lines += ["Fit + predict seconds, all sizes and seeds together: " + ", ".join(
        f"{k} {v:.0f}" for k, v in out["seconds"].items()
    ) + " (minilm-crf-viterbi: the minilm-crf fits, decoded again).", ""]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100,500,1000")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS), help="of: " + ", ".join(METHODS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--crf-components", type=int, default=128, help="token-crf's PCA width")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = list(range(args.seeds))
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {METHODS}")
    start = time.perf_counter()
    out = run(sizes, seeds, methods, args.crf_components)
    text = write(out, sizes, seeds, time.perf_counter() - start)
    pca = f"token-crf: PCA to {args.crf_components} dimensions. "
    text = text.replace("Strict entity-level", pca + "Strict entity-level")
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
