"""The typer application every command module adds its commands to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="littledata",
    help="Transfer learning and active learning for NLP with little labeled data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show informational log messages."),
) -> None:
    """Transfer learning and active learning for NLP with little labeled data."""
    if verbose:
        import logging

        logging.getLogger().setLevel(logging.INFO)


@app.command()
def version() -> None:
    """Print littledata's version and the versions of the libraries it builds on."""
    from littledata.versions import library_versions

    for name, ver in library_versions().items():
        typer.echo(f"{name} {ver}")
