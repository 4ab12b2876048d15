"""Verifying many files on several cores: the calling process works too, and results come back in input order.

A ``multiprocessing.Pool`` of N workers left the calling process to unpickle every result while its helper
threads competed with the workers for the two cores these machines have; on the real corpus that made two
workers only 1.4-1.6x one process. Here ``jobs - 1`` forked workers and the caller claim chunks of files from
one shared counter, so the caller verifies its share in place and only the workers' share is pickled. Workers
stay at most ``WINDOW`` chunks ahead of what the caller has handed out, so a slow consumer does not make
results pile up in memory. A worker that dies (killed, out of memory) loses nothing: the caller verifies the
chunks it had claimed once no worker is left.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
WINDOW = 8
"""Chunks a worker may finish ahead of the caller's output position."""
_POLL_S = 0.05
_LOG = logging.getLogger(__name__)
T = TypeVar("T")


def chunk_size(files: int, jobs: int) -> int:
    """Small enough that the last chunks finish together, large enough that queue traffic stays negligible."""
    return max(1, min(32, files // (jobs * 16)))


def _work(verify: Callable[[str], Any], chunks: list[list[str]], claimed: Any, handed: Any,
          results: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle; it stops the workers
    while True:
        with claimed.get_lock():
            index = claimed.value
            if index >= len(chunks):
                break
            if index >= handed.value + WINDOW:
                index = -1
            else:
                claimed.value = index + 1
        if index < 0:
            time.sleep(_POLL_S / 10)
            continue
        results.put((index, [verify(path) for path in chunks[index]]))
    results.close()
    results.join_thread()


def run_parallel(files: list[str], make_verify: Callable[[], Callable[[str], T]], jobs: int) -> Iterator[T]:
    """``make_verify()(path)`` for every file, spread over ``jobs`` processes, yielded in input order (what it
    returns is pickled from the workers: the CLI makes it a file's rendered output).

    Needs the ``fork`` start method (Linux, macOS); callers check ``CAN_FORK``."""
    size = chunk_size(len(files), jobs)
    chunks = [files[i:i + size] for i in range(0, len(files), size)]
    context = multiprocessing.get_context("fork")  # workers inherit the verifier and the file list unpickled
    claimed, handed = context.Value("l", 0), context.Value("l", 0)
    results = context.Queue()
    verify = make_verify()
    workers = [context.Process(target=_work, args=(verify, chunks, claimed, handed, results), daemon=True)
               for _ in range(jobs - 1)]
    for worker in workers:
        worker.start()
    done: dict[int, list[T]] = {}
    try:
        for position in range(len(chunks)):
            with handed.get_lock():
                handed.value = position
            while position not in done:
                _collect(results, done, block=False)
                if position in done:
                    break
                with claimed.get_lock():
                    index = claimed.value
                    if index < len(chunks):
                        claimed.value = index + 1
                if index < len(chunks):
                    done[index] = [verify(path) for path in chunks[index]]
                elif not _collect(results, done, block=True) and not any(w.is_alive() for w in workers):
                    _collect(results, done, block=False)
                    codes = sorted({w.exitcode for w in workers if w.exitcode})
                    if codes:
                        _LOG.warning("a verifier worker process ended with exit code %s; this process verifies "
                                     "its files", ", ".join(map(str, codes)))
                    for lost in range(position, len(chunks)):  # claimed by a worker that died
                        if lost not in done:
                            done[lost] = [verify(path) for path in chunks[lost]]
            yield from done.pop(position)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        results.close()


def _collect(results: Any, done: dict[int, list[Any]], block: bool) -> bool:
    """Move finished chunks from the queue into ``done``; True when any arrived."""
    got = False
    while True:
        try:
            index, batch = results.get(block=block and not got, timeout=_POLL_S)
        except queue.Empty:
            return got
        done[index] = batch
        got = True
