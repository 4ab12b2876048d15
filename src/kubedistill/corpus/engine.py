"""Engines for the corpus build's map stage: the per-chunk function is pure, so where it runs cannot change the
output. ``LocalEngine`` uses this process or a process pool; ``RayEngine`` runs the chunks as Ray tasks on a local
Ray instance or a cluster (``--ray-address``). Both yield results in input order, so the chunk files, and
therefore every output byte, are the same whichever engine ran.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from kubedistill.errors import UserError

T = TypeVar("T")
R = TypeVar("R")
ENGINES = ("local", "ray")


class Engine(Protocol):
    name: str

    def map(self, fn: Callable[[T], R], chunks: Iterator[T]) -> Iterator[R]: ...


class LocalEngine:
    """Runs map chunks in this process or a pool of ``jobs`` processes, yielding results in input order."""

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs

    def map(self, fn: Callable[[T], R], chunks: Iterator[T]) -> Iterator[R]:
        if self.jobs <= 1:
            yield from map(fn, chunks)
            return
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(self.jobs) as pool:
            yield from pool.imap(fn, chunks)


class RayEngine:
    """Ray tasks, at most ``window`` chunks in flight (bounded memory on the driver and in the object store),
    results taken in submission order. ``address``: '' starts a local Ray on this machine's cores; 'auto' or
    'ray://host:10001' joins a running cluster, whose workers need kubedistill installed."""

    name = "ray"

    def __init__(self, address: str = "", num_cpus: int = 0, window: int = 0) -> None:
        try:
            import ray
        except ImportError:
            raise UserError("--engine ray needs Ray", "pip install -e '.[ray]'") from None
        self.ray = ray
        if not ray.is_initialized():
            options: dict = {"include_dashboard": False, "log_to_driver": False, "logging_level": "error"}
            if address:
                options["address"] = address
            else:
                options["num_cpus"] = num_cpus or os.cpu_count() or 1
            try:
                ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise UserError(f"cannot start or reach Ray at {address or 'a local instance'}: {exc}",
                                "check --ray-address (e.g. auto, or ray://HEAD:10001)") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.window = window or max(2, 2 * cpus)

    def map(self, fn: Callable[[T], R], chunks: Iterator[T]) -> Iterator[R]:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_retries=3)(_apply)
        fn_ref = ray.put(fn)
        pending: collections.deque = collections.deque()
        for chunk in chunks:
            pending.append(remote.remote(fn_ref, chunk))
            if len(pending) >= self.window:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())


def _apply(fn: Callable[[T], R], item: T) -> R:
    return fn(item)


def make_engine(name: str, jobs: int = 1, address: str = "") -> Engine:
    if name not in ENGINES:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "ray":
        return RayEngine(address, num_cpus=jobs if jobs > 1 else 0)
    if address:
        raise UserError("--ray-address needs --engine ray")
    return LocalEngine(jobs)
