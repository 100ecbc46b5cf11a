"""Output folders that a failed run does not leave behind.

:func:`output_folder` creates the folder (and missing parents) for the block that writes into
it.  When the block fails (an error, Ctrl-C), it removes what the block created: the whole folder
and the parents it made if they were new, or only the entries added to a folder the user already
had.  A folder that existed before is never deleted, and files it held are never removed
(files the run overwrote before failing keep their new content).
"""
from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from effectmeting.errors import InputError


def check_output_path(out: Path) -> None:
    """Refuse an output path that is a file or lies under one, before any work."""
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            raise InputError(f"output directory {out}: {parent} is a file, not a directory. Pass --out with a new "
                             "or existing directory, or move the file away.")


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


@contextlib.contextmanager
def output_folder(out: str | Path) -> Iterator[Path]:
    """Create ``out`` for the block; if the block raises, remove what was created, then re-raise."""
    out = Path(out)
    check_output_path(out)
    created = [p for p in (out, *out.parents) if not p.exists()]  # deepest first
    before = None if created else set(out.iterdir())
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield out
    except BaseException:
        if before is None:
            _remove(out)
            for parent in created[1:]:
                with contextlib.suppress(OSError):  # only if still empty: someone else may use it now
                    parent.rmdir()
        else:
            for entry in set(out.iterdir()) - before:
                _remove(entry)
        raise
