"""The ``littledata`` command line: thin wrappers that call one library function per command.

Each area has its own module that adds commands to :data:`littledata.cli.app.app`; heavy libraries
are imported inside the commands so ``littledata --help`` stays fast. A :class:`LittleDataError`
is shown as a one-line message (no traceback) and exits with status 2.
"""

from __future__ import annotations

import importlib
import logging
import sys

from littledata.cli.app import app
from littledata.errors import LittleDataError

COMMAND_MODULES = ("datasets", "features", "bench", "active", "models", "serve", "label")

for _module in COMMAND_MODULES:
    importlib.import_module(f"littledata.cli.{_module}")


def main() -> None:
    """Entry point of the ``littledata`` console script."""
    from littledata import progress

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    progress.set_enabled(True)  # bars on a terminal, plain periodic lines in a log
    try:
        app()
    except LittleDataError as exc:
        from rich.console import Console
        from rich.markup import escape

        # the message is plain text: a column named "[/b]" must not be read as markup; and it
        # is one line (a message listing several problems is joined; soft_wrap: no line breaks
        # at the terminal's width)
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]Error:[/] {escape(message)}", highlight=False
        )
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)


__all__ = ["app", "main"]
