"""Commands: ``train`` and ``predict`` (see littledata.cli).

Thin wrappers around :mod:`littledata.models`: ``train`` cross-validates a featurizer + head on
the training rows (single labels, sentence pairs or several labels per text, as the data's task
says), fits it on them all and saves the model folder; ``predict`` reads a file and writes its
rows with the predicted label (or labels) and the probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from littledata.cli.app import app
from littledata.cli.data_options import DATA_HELP, FileOptions, with_file_options


def describe_metrics(metrics: dict[str, Any]) -> list[str]:
    """The lines ``train`` prints about a model's metrics (its manifest's ``metrics``)."""
    lines = []
    cv = metrics.get("cv")
    if cv and "entity_f1_mean" in cv:  # a tagger
        lines.append(
            f"Cross-validated ({cv['folds']} folds, {cv['rows']} sentences): entity F1 "
            f"{cv['entity_f1_mean']:.3f} ± {cv['entity_f1_std']:.3f} (precision "
            f"{cv['entity_precision_mean']:.3f}, recall {cv['entity_recall_mean']:.3f}), token "
            f"accuracy {cv['token_accuracy_mean']:.3f} ± {cv['token_accuracy_std']:.3f}"
        )
    elif cv and "micro_f1_mean" in cv:  # a multi-label model
        lines.append(
            f"Cross-validated ({cv['folds']} folds, {cv['rows']} rows): micro-F1 "
            f"{cv['micro_f1_mean']:.3f} ± {cv['micro_f1_std']:.3f}, macro-F1 "
            f"{cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}, subset accuracy "
            f"{cv['subset_accuracy_mean']:.3f} ± {cv['subset_accuracy_std']:.3f}"
        )
        worst = sorted(cv["label_f1"].items(), key=lambda kv: (kv[1], kv[0]))[:3]
        lines.append(
            "  Weakest labels (out-of-fold F1): "
            + ", ".join(f"{name} {f1:.3f}" for name, f1 in worst)
        )
    elif cv:
        lines.append(
            f"Cross-validated ({cv['folds']} folds, {cv['rows']} rows): accuracy "
            f"{cv['accuracy_mean']:.3f} ± {cv['accuracy_std']:.3f}, macro-F1 "
            f"{cv['macro_f1_mean']:.3f} ± {cv['macro_f1_std']:.3f}"
        )
        lines.extend(_pairs(cv["confused_pairs"]))
    else:
        lines.append("Not cross-validated: some class has fewer than two rows.")
    test = metrics.get("test")
    if test and "entity_f1" in test:
        lines.append(
            f"Held-out test ({test['rows']} sentences): entity F1 {test['entity_f1']:.3f} "
            f"(precision {test['entity_precision']:.3f}, recall {test['entity_recall']:.3f}), "
            f"token accuracy {test['token_accuracy']:.3f}"
        )
    elif test and "micro_f1" in test:
        lines.append(
            f"Held-out test ({test['rows']} rows): micro-F1 {test['micro_f1']:.3f}, macro-F1 "
            f"{test['macro_f1']:.3f}, subset accuracy {test['subset_accuracy']:.3f}"
        )
    elif test:
        lines.append(
            f"Held-out test ({test['rows']} rows): accuracy {test['accuracy']:.3f}, macro-F1 "
            f"{test['macro_f1']:.3f}"
        )
        lines.extend(_pairs(test["confused_pairs"]))
    return lines


def _pairs(pairs: list[dict[str, Any]]) -> list[str]:
    if not pairs:
        return ["  No two classes were confused."]
    out = ["  Most confused classes:"]
    for p in pairs:
        out.append(
            f"    {p['a']} <-> {p['b']}: {p['a_as_b']} {p['a']} predicted {p['b']}, "
            f"{p['b_as_a']} {p['b']} predicted {p['a']}"
        )
    return out


@app.command("train")
@with_file_options
def train_command(
    data: Annotated[str, typer.Argument(help=DATA_HELP, show_default=False)],
    files: FileOptions,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The model folder to write.", show_default=False),
    ],
    featurizer: Annotated[
        str,
        typer.Option(
            "--featurizer", "-f", help="Featurizer name, sentence-transformers id or folder."
        ),
    ] = "minilm",
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="Head name: logreg, svm, knn, centroid, mlp, ... (docs/heads.md); default "
            "logreg (token-logreg for tags per word).",
            show_default=False,
        ),
    ] = None,
    folds: Annotated[
        int, typer.Option("--folds", help="Cross-validation folds (capped by the rarest class).")
    ] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds and the head.")] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace OUT if it is a saved model.")
    ] = False,
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            help="Fetch a registered dataset's files from this local folder or base URL.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train a model on DATA's labeled rows and save it as a folder (a few KB: the head; the
    encoder is named, not copied).

    DATA's task decides the model: one label per text; a label per pair of texts
    (--text-pair-column, or msrp, rte, sick); several labels per text (--label-columns, a label
    column of lists, or goemotions); a tag per word (a CoNLL file, or conll2003: cross-validated
    entity F1). Prints the cross-validated accuracy ± std and macro-F1 with
    the classes most often confused (micro- and macro-F1 and the weakest labels for several
    labels per text), and the scores on DATA's test split when it has one; the saved manifest
    keeps them.
    """
    from littledata.models.artifact import ARRAYS_FILE, check_model_path
    from littledata.models.training import train_model

    check_model_path(out, overwrite=overwrite)  # before any work
    source = files.source(data)
    ds = source.load(mirror=mirror, labels="required", splits_itself=True)
    task = str(ds.task)
    head = head or ("token-logreg" if task == "sequence-labeling" else "logreg")
    train = ds.train
    test = ds.splits.get(ds.test_split)
    kind = {"sentence-pair": "pairs", "sequence-labeling": "sentences"}.get(task, "rows")
    what = {"multi-label": "labels", "sequence-labeling": "tags"}.get(task, "classes")
    typer.echo(
        f"Training {head} on {featurizer} features ({task}): {ds.name}, {len(train)} {kind}, "
        f"{ds.num_labels} {what}"
    )
    model = train_model(
        _inputs(train, task),
        _targets(ds, train, task),
        task=task,
        featurizer=featurizer,
        head=head,
        folds=folds,
        seed=seed,
        test=(_inputs(test, task), _targets(ds, test, task))
        if test is not None and len(test)
        else None,
        data={"source": source.to_value(), "split": ds.train_split},
        label_names=list(ds.label_names) if task == "multi-label" else None,
    )
    for line in describe_metrics(model.metrics_):
        typer.echo(line)
    folder = model.save(out, overwrite=overwrite)
    size = (folder / ARRAYS_FILE).stat().st_size
    typer.echo(f"Saved the model to {folder} ({size / 1024:.1f} KB of head arrays)")


def _inputs(split: Any, task: str) -> Any:
    """What a model of ``task`` reads from a dataset split: its texts, or its pairs of texts."""
    if task == "sentence-pair":
        return list(zip(split.texts, split.text_pairs, strict=True))
    if task == "sequence-labeling":
        return [list(words) for words in split.tokens]
    return list(split.texts)


def _targets(ds: Any, split: Any, task: str) -> Any:
    """What a model of ``task`` learns from a split: its labels, or each sentence's tag names."""
    if task == "sequence-labeling":
        return [[ds.label_names[int(i)] for i in tags] for tags in split.labels]
    return split.labels


@app.command("predict")
def predict_command(
    model: Annotated[
        Path, typer.Argument(help="A model folder (`littledata train`).", show_default=False)
    ],
    input: Annotated[
        Path,
        typer.Argument(
            help="The texts to predict: .csv, .tsv, .jsonl, .json or .parquet.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the rows with predictions here (.csv, .tsv, .jsonl or .parquet); "
            "default: CSV on standard output.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    text_column: Annotated[
        str | None,
        typer.Option(
            "--text-column", help="The column of texts (default: the one the model was trained "
            "on, else text, sentence, ...).", show_default=False,
        ),
    ] = None,
    text_pair_column: Annotated[
        str | None,
        typer.Option(
            "--text-pair-column", help="A sentence-pair model's column of second texts "
            "(default: the one it was trained on, else text_pair, sentence2, ...).",
            show_default=False,
        ),
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="The input's format (default: from its extension).",
                     show_default=False),
    ] = None,
    out_format: Annotated[
        str | None,
        typer.Option("--out-format", help="The output's format (default: from --out's "
                     "extension, else csv).", show_default=False),
    ] = None,
    sep: Annotated[
        str | None, typer.Option("--sep", help="The input's CSV/TSV separator.", show_default=False)
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="The input's encoding.")] = "utf-8",
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Encoder batch size (default: per model).",
                     show_default=False),
    ] = None,
) -> None:  # fmt: skip
    """Predict every row of INPUT with the model MODEL: the same rows out, with the columns
    predicted_label and probability_<label> for each class added (a multi-label model:
    predicted_labels, a list per row, and probability_<label> for each label)."""
    import sys

    from littledata.models import load_model
    from littledata.models.predict_file import predict_file

    loaded = load_model(model)
    done = predict_file(
        loaded,
        input,
        out,
        text_column=text_column,
        text_pair_column=text_pair_column,
        format=file_format,
        sep=sep,
        encoding=encoding,
        out_format=out_format,
        batch_size=batch_size,
    )
    if done.data is not None:
        sys.stdout.buffer.write(done.data)
        sys.stdout.flush()
    else:
        pair = f" and {done.text_pair_column!r}" if done.text_pair_column else ""
        typer.echo(f"Predicted {done.rows} rows (texts from column {done.text_column!r}{pair}) "
                   f"into {done.out}", err=True)  # fmt: skip
