"""A small content-keyed memo for the source-independent work of harmonisation.

Every source of a harmonisation run validates the same transitions, composes the same yearly
steps to the reference year and summarises the same mapping for its audit reasons.  That work
depends only on *content* (the transitions, the register, the years present), so it is done once
and reused: keys are digests of the frames' values, never object identities, so a changed table
can never be served a stale result.  Values are returned as copies (callers may modify them).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import pandas as pd

T = TypeVar("T")
MAX_ENTRIES = 32  # a run uses a handful per table kind; bounded so long sessions do not grow


def frame_digest(frame: pd.DataFrame | None) -> Hashable:
    """A digest of a frame's column names, dtypes and values (``None`` for no frame).

    Uses pandas' per-row hashes (values, not object ids), combined with SHA-1 over the bytes.
    """
    if frame is None:
        return None
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha1(rows.tobytes())
    digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    return (len(frame), digest.hexdigest())


class Memo:
    """Least-recently-used memo of ``key -> value`` with a ``copy`` of the value on every hit."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._max = max_entries

    def get(self, key: Hashable, compute: Callable[[], T], copy: Callable[[T], T]) -> T:
        """The stored value for ``key`` (copied), computing and storing it on a miss."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return copy(self._entries[key])
        value = compute()
        self._entries[key] = value
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return copy(value)

    def clear(self) -> None:
        self._entries.clear()
