"""The handler's worker pool: every call runs once and reports its result or its exception;
`workers` calls can run at once; shutdown runs what was queued and then stops the threads."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from entrypoints.local_gateway.lambda_runtime.workers import WorkerPool


def _square(n: int) -> int:
    return n * n


def _fail(message: str) -> None:
    raise ValueError(message)


def test_every_call_returns_its_result() -> None:
    pool = WorkerPool(4)
    try:
        futures = [pool.submit(_square, n) for n in range(500)]
        assert [f.result(5) for f in futures] == [n * n for n in range(500)]
    finally:
        pool.shutdown()


def test_an_exception_reaches_the_caller_and_the_worker_goes_on() -> None:
    pool = WorkerPool(1)
    try:
        with pytest.raises(ValueError, match="bad input"):
            pool.submit(_fail, "bad input").result(5)
        assert pool.submit(_square, 3).result(5) == 9
    finally:
        pool.shutdown()


def test_up_to_workers_calls_run_at_once() -> None:
    workers = 6
    pool = WorkerPool(workers)
    barrier = threading.Barrier(workers, timeout=5)
    try:
        # Each call waits until all of them run: only `workers` threads at once get there.
        futures = [pool.submit(barrier.wait) for _ in range(workers)]
        assert sorted(f.result(5) for f in futures) == list(range(workers))
    finally:
        pool.shutdown()


def test_shutdown_runs_what_was_queued_then_refuses_new_calls() -> None:
    pool = WorkerPool(1)
    release = threading.Event()
    blocked = pool.submit(release.wait, 5)
    queued = pool.submit(_square, 7)
    release.set()
    pool.shutdown(wait=True)
    assert blocked.result(0) is True and queued.result(0) == 49
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(_square, 1)


def test_shutdown_can_cancel_what_has_not_started() -> None:
    pool = WorkerPool(1)
    release, started = threading.Event(), threading.Event()

    def first() -> bool:
        started.set()
        return release.wait(5)

    running = pool.submit(first)
    assert started.wait(5)
    waiting: Future[int] = pool.submit(_square, 2)
    threading.Timer(0.2, release.set).start()
    pool.shutdown(wait=True, cancel_futures=True)
    assert running.result(0) is True
    assert waiting.cancelled()


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkerPool(0)
