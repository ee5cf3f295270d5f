"""Benchmarks: speed and memory targets, each reported as a ratio to a baseline run alongside.

What every benchmark shares lives here: the offline defaults (no telemetry, no downloads),
set on import so that they hold before Prefect or Great Expectations is imported, and
``best_of`` timing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from ideal.runtime import OFFLINE_DEFAULTS

for _key, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The shortest of ``repeat`` timings of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
