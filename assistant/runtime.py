"""What a process sets once, before it answers: the shared encode pool, one BLAS thread, offline model loading.

`start` is called at the start of the page (sized from its concurrency) and of the CLI; the library calls
it again on first use, where it only returns what the first call set. Nothing here changes while
questions are being answered: no environment writes, no thread-limit toggles, no pool per object.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

# Questions answered at once when nobody says otherwise: the page's default (ui.CONCURRENCY), two cores.
DEFAULT_CONCURRENCY = 2
# Read by huggingface_hub and transformers when they are imported, so set before either is: models are
# folders on this disk (no hub), and loading them is short work that prints nothing.
HF_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
                  "TRANSFORMERS_VERBOSITY": "error"}


@dataclass(frozen=True)
class Runtime:
    concurrency: int
    executor: ThreadPoolExecutor  # helper threads for question encoding, `concurrency` of them, shared
    blas_limit: object            # threadpoolctl's limiter, held (never restored) for the life of the process


_lock = threading.Lock()
_runtime: Runtime | None = None


def start(*, concurrency: int | None = None) -> Runtime:
    """Set up the process once and return its Runtime; later calls return the same one.

    Args:
        concurrency: questions answered at once (the page's request concurrency); it sizes the encode
            pool. None takes what the first call set, or DEFAULT_CONCURRENCY.

    Raises ValueError for a concurrency below 1, or one that differs from what the process started with
    (the pool is sized once: call `start` with the serving concurrency before anything loads a model)."""
    global _runtime
    with _lock:
        if _runtime is None:
            n = DEFAULT_CONCURRENCY if concurrency is None else concurrency
            if n < 1:
                raise ValueError(f"concurrency {n} is below 1; the page answers at least one question at a time")
            for key, value in HF_ENVIRONMENT.items():
                os.environ.setdefault(key, value)
            from threadpoolctl import threadpool_limits
            # USE runs in numpy (BLAS): one BLAS thread per request thread, or BLAS threads that spin after a
            # call starve the other requests (and torch, at build) on two cores. Set here once for the whole
            # process, because threadpoolctl's set-and-restore around each call is process-wide and two
            # request threads doing it at once undo each other's limits.
            blas = threadpool_limits(limits=1, user_api="blas")
            _runtime = Runtime(n, ThreadPoolExecutor(max_workers=n, thread_name_prefix="encode"), blas)
        elif concurrency is not None and concurrency != _runtime.concurrency:
            raise ValueError(f"this process started with concurrency {_runtime.concurrency}; start(concurrency="
                             f"{concurrency}) must be the first call, before anything loads a model or a retriever")
        return _runtime


def encode_pool() -> ThreadPoolExecutor:
    """The process's shared helper pool for question encoding (sized by `start`)."""
    return start().executor
