"""The one timing helper of the benchmark scripts (run from this folder, so ``from timing import best_time``)."""
from __future__ import annotations

import time
from collections.abc import Callable


def best_time(function: Callable[[], object], repeats: int = 3, warm_up: bool = True) -> float:
    """Shortest of ``repeats`` wall-clock timings in seconds (the least disturbed by other load),
    after one untimed call when ``warm_up`` (lazy imports, caches)."""
    if warm_up:
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)
