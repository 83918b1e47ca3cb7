"""Commands: ``label`` (serve the labeling page) and ``label export`` (see littledata.cli).

``littledata label DATA --labels a,b,c`` is short for ``littledata label serve DATA ...``: it
opens (or resumes) the session in the database (``--db``, default the data home's
``labels.sqlite``) and serves the page and its API with uvicorn. ``label export`` writes every
answer to a CSV / JSONL / Parquet file and, with ``--model``, the trained model as a saved model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from littledata.cli.app import app
from littledata.cli.data_options import DATA_HELP, FileOptions, with_file_options
from littledata.errors import ConfigError


class _ServeByDefault(TyperGroup):
    """``label DATA ...`` runs ``label serve DATA ...``; ``label export ...`` the export."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


label_app = typer.Typer(
    cls=_ServeByDefault,
    help="Label your data in the browser while the model retrains: `littledata label DATA "
    "--labels a,b,c` (short for `label serve`), then `label export`.",
    no_args_is_help=True,
)
app.add_typer(label_app, name="label")

DB_HELP = (
    "The session's database: a SQLAlchemy URL (sqlite:///labels.sqlite, "
    "postgresql+psycopg://user@host/db). Default: labels.sqlite in the data home."
)


def _check_names(featurizer: str | None, head: str | None, strategy: str | None) -> None:
    from littledata.active.strategies import get_strategy
    from littledata.active.tuned import refuse_in_label_app
    from littledata.features import get_featurizer
    from littledata.heads import HEADS

    if strategy is not None:
        get_strategy(strategy)
    if head is not None:
        HEADS.get(head)
        refuse_in_label_app(head)
    if featurizer is None:
        return
    kind = get_featurizer(featurizer).kind  # built lazily: no model is loaded here
    if kind != "dense":
        raise ConfigError(
            f"The labeling app's model needs a dense featurizer (one vector per text); "
            f"{featurizer!r} is {kind!r}. Try --featurizer minilm or glove50."
        )


def _annotator_tokens(path: Path | None, pairs: list[str], token: str | None) -> dict[str, str]:
    """Name -> token from ``--annotators`` and ``--annotator-token`` (none: ``{}``)."""
    from littledata.label_app.annotators import (
        check_annotators,
        parse_annotator_tokens,
        read_annotators,
    )

    tokens = read_annotators(path) if path is not None else {}
    given = parse_annotator_tokens(pairs) if pairs else {}
    twice = sorted(set(tokens) & set(given))
    if twice:
        raise ConfigError(f"{', '.join(twice)}: named in --annotators and --annotator-token.")
    tokens = check_annotators({**tokens, **given}, "--annotators") if given else tokens
    if tokens and token is not None:
        raise ConfigError(
            "Give --token (one shared token) or per-annotator tokens (--annotators, "
            "--annotator-token), not both; is $LITTLEDATA_TOKEN set?"
        )
    return tokens


def _check_port_free(host: str, port: int) -> None:
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise ConfigError(
            f"Cannot serve on {host}:{port} ({exc.strerror or exc}); choose another --port."
        ) from None


@label_app.command("serve")
@with_file_options
def serve_command(
    data: Annotated[
        str | None,
        typer.Argument(
            help=DATA_HELP + " Leave it out to resume the session in --db from its own texts."
        ),
    ] = None,
    *,
    files: FileOptions,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            "-l",
            help="The label set, comma-separated (e.g. pos,neg). Default: the data's labels, "
            "or the resumed session's.",
        ),
    ] = None,
    strategy: Annotated[
        str,
        typer.Option("--strategy", "-s", help="Query strategy (`littledata active strategies`)."),
    ] = "margin",
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; beyond 127.0.0.1 needs --token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="LITTLEDATA_TOKEN",
            help="A secret every API call must carry (open the page with ?token=...).",
        ),
    ] = None,
    annotators: Annotated[
        Path | None,
        typer.Option(
            "--annotators",
            help="A .toml or .json file mapping each annotator's name to their own token: "
            "the token then says who labels (instead of --token).",
        ),
    ] = None,
    annotator_token: Annotated[
        list[str] | None,
        typer.Option(
            "--annotator-token",
            help="NAME=TOKEN: an annotator and their own token (repeat per annotator; "
            "instead of --token).",
        ),
    ] = None,
    featurizer: Annotated[
        str | None,
        typer.Option(
            "--featurizer",
            "-f",
            help="Dense featurizer for the model. Default: minilm, or the resumed session's.",
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option("--head", help="The model's head. Default: logreg, or the resumed session's."),
    ] = None,
    double: Annotated[
        float,
        typer.Option("--double", help="Share of items (0-1, seeded) that two annotators label."),
    ] = 0.0,
    batch: Annotated[int, typer.Option("--batch", help="Retrain after this many answers.")] = 10,
    lease: Annotated[
        float,
        typer.Option("--lease", help="Seconds an item stays one annotator's before it returns."),
    ] = 600.0,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of every random choice (a new session; default 0)."),
    ] = None,
    mirror: Annotated[
        str | None, typer.Option("--mirror", help="Dataset mirror (folder or URL).")
    ] = None,
) -> None:
    """Serve the labeling page for DATA (resumes the session already in --db)."""
    from littledata.label_app.start import parse_labels
    from littledata.serve.run import check_address

    if not 0 < port < 65536:
        raise ConfigError(f"--port must be 1-65535, got {port}.")
    if batch < 1:
        raise ConfigError(f"--batch must be at least 1, got {batch}.")
    if not lease > 0:
        raise ConfigError(f"--lease must be more than 0 seconds, got {lease}.")
    if seed is not None and seed < 0:
        raise ConfigError(f"--seed must be 0 or more, got {seed}.")
    if not 0.0 <= double <= 1.0:
        raise ConfigError(f"--double is a share of the items, from 0 to 1; got {double}.")
    tokens = _annotator_tokens(annotators, annotator_token or [], token)
    # the model server's rule: beyond loopback only with a token (shared or per annotator)
    check_address(host, port, next(iter(tokens.values())) if tokens else token)
    _check_port_free(host, port)
    classes = parse_labels(labels)
    _check_names(featurizer, head, strategy)
    import uvicorn

    from littledata.label_app.api import create_app
    from littledata.label_app.start import open_session

    if data is None and files.given():
        raise ConfigError(
            f"{', '.join(files.given())} read a data file: give DATA too, or leave them out to "
            "resume the session in --db."
        )
    source = None if data is None else files.source(data)
    session = open_session(
        source, classes=classes, db=db, featurizer=featurizer, head=head,
        strategy=strategy, double=double, seed=seed, lease_seconds=lease, batch_size=batch,
        mirror=mirror,
    )  # fmt: skip
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    if tokens:
        url += f"?token=<their token>  (each of {', '.join(tokens)} with their own)"
    stats = session.store.stats(session.classes)
    typer.echo(
        f"Labeling {stats['items']} items ({stats['complete']} done) into {session.store.url}; "
        f"open {url}  (Ctrl+C stops; start again with the same --db to resume)"
    )
    app_ = create_app(session, token=token, annotators=tokens or None)
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@label_app.command("export")
def export_command(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Where to write the answers: .csv, .jsonl or .parquet."),
    ],
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="Also fit and save the model (a saved-model folder) here."),
    ] = None,
) -> None:
    """Export every answer of a labeling session (and, with --model, the trained model)."""
    from littledata.label_app.export import FORMATS, export_labels, export_model
    from littledata.label_app.store import open_existing

    if out.suffix.lower() not in FORMATS:
        raise ConfigError(
            f"Cannot tell the export format of {out.name}: end --out in .csv, .jsonl or .parquet."
        )
    store = open_existing(db)
    path = export_labels(store, out)
    typer.echo(f"Wrote {len(store.answers())} answers to {path}")
    if model is not None:
        saved = export_model(store, model, overwrite=True)
        typer.echo(f"Saved the model to {saved}")
    store.close()


@label_app.command("require")
def require_command(
    items: Annotated[
        list[str], typer.Argument(help="Items by id or by source (e.g. train:17, as exported).")
    ],
    needed: Annotated[
        int, typer.Option("--annotators", help="How many annotators each item needs: 1 or 2.")
    ] = 2,
    db: Annotated[str | None, typer.Option("--db", help=DB_HELP)] = None,
) -> None:
    """Set items to need two annotators (or one again), also while the server runs.

    Agreement on items with two annotators shows in the page's side panel; an item answered
    once that now needs two returns to the queue for another annotator.
    """
    from littledata.label_app.store import open_existing

    store = open_existing(db)
    try:
        n = store.set_required(items, needed)
    finally:
        store.close()
    typer.echo(f"{n} item(s) now need {needed} annotator(s).")


__all__ = ["export_command", "require_command", "serve_command"]
