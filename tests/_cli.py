"""Run the ``littledata`` command in-process, as its console script does."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from littledata.cli import main


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``(exit status, stdout, stderr)`` of ``littledata ARGS``."""
    old = sys.argv
    sys.argv = ["littledata", *args]
    code: Any = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return int(code or 0), out, err
