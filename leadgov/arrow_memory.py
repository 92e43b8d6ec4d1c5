"""Arrow's memory pool for large deliveries.

pyarrow's default pool on Linux (mimalloc) keeps the pages freed by its worker threads until
those threads allocate again, which they do not once a stage is over: after reading a
million-lead file, 600 MB of freed pages stayed in the process and every later stage stacked
its own peak on top of them. jemalloc with a short decay returns freed pages within a fraction
of a second, and reads as fast or faster (docs/performance.md has the figures).
"""

import os

import pyarrow as pa

#: How long jemalloc keeps freed pages before returning them to the system.
DECAY_MS = 300


def use_returning_pool() -> None:
    """Make jemalloc with a short decay Arrow's default pool, where pyarrow ships jemalloc.

    Idempotent. Left alone when the operator chose a pool (``ARROW_DEFAULT_MEMORY_POOL``) or
    where the wheel has no jemalloc (Windows): the default pool then stays, slower to give back.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(DECAY_MS)
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return
    pa.set_memory_pool(pool)
