"""Helpers shared by the bad-input tests (tests/test_bad_input_audit.py, tests/test_bad_input_catalogue.py)."""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

from effectmeting.cli import main

HEADER = "municipality,year,population_total,population_0_17,population_18_plus\n"
ROWS = "GM0363,2020,872680,150000,722680\nGM0518,2020,545838,100000,445838\n"


def cli(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of the command line; an uncaught exception fails the test (a traceback)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    return status, err.getvalue()


def write(path: Path, content: str | bytes) -> Path:
    """``content`` (text as UTF-8, or bytes as they are) written to ``path``; returns ``path``."""
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path
