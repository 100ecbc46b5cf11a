"""Progress bars for long loops (bootstrap draws, MDE simulations, person-level passes).

Library calls are quiet by default: a loop shows a bar only when its caller asks for one
(``progress=True``) or when the command line has switched bars on for the run
(:func:`progress_enabled`, used by ``effectmeting run`` unless ``--quiet``).  Switched on by the
command line, a bar appears only when stderr is a terminal, so logs and pipes stay clean.  Bars
go to stderr, never stdout, and disappear when the loop ends (``leave=False``).

tqdm draws the bars when it is installed; without it :func:`progress` returns the iterable
unchanged, so no computation depends on it.  Drawing a bar never touches a random generator or
the order of the loop: results are identical with and without bars.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

# A context variable, not a module global: a run that turns bars on (the CLI) does not leak the
# setting into other threads or later library calls.  "off", "terminal" (bars when stderr is a
# terminal: the command line) or "on" (bars wherever stderr goes: a caller's progress=True).
_MODE: ContextVar[str] = ContextVar("effectmeting_progress", default="off")


@contextlib.contextmanager
def progress_enabled(enabled: bool = True, *, terminal_only: bool = True) -> Iterator[None]:
    """Within the block, loops called with ``progress=None`` draw a bar.

    ``terminal_only`` (the command line's choice): only when stderr is a terminal, so logs and
    pipes stay clean; False draws them anyway (a notebook's stderr is not a terminal).
    """
    token = _MODE.set(("terminal" if terminal_only else "on") if enabled else "off")
    try:
        yield
    finally:
        _MODE.reset(token)


def wanted(progress: bool | None = None) -> bool:
    """Whether a loop should draw a bar: ``progress`` if given, else the setting of :func:`progress_enabled`."""
    if progress is not None:
        return bool(progress)
    mode = _MODE.get()
    if mode != "terminal":
        return mode == "on"
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str | None = None, unit: str = "it",
             enabled: bool | None = None) -> Iterable[T]:
    """``iterable`` wrapped in a tqdm bar on stderr when :func:`wanted`; otherwise ``iterable`` itself.

    ``total``: number of items when ``iterable`` has no ``len`` (e.g. a generator); ``desc``: a
    few words shown before the bar (``"bootstrap draws"``); ``unit``: what one item is.
    ``enabled``: True or False forces the bar on or off; None follows :func:`progress_enabled`.
    """
    if not wanted(enabled):
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional: no bar, same loop
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, file=sys.stderr, dynamic_ncols=True)
