"""The handler's worker threads: all started up front, fed through one queue.

ThreadPoolExecutor.submit asks an idle-thread semaphore first (`_adjust_thread_count`), a lock
that every worker also takes after each call. With 32 workers and fast calls, that lock was
where the socket loop waited: 11% of the loop's time over 3,000 connects with a handler that
only returns 200 (py-spy). Here `submit` only puts the call on a SimpleQueue (no Python lock),
and `workers` threads take calls from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from queue import SimpleQueue
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
Call = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class WorkerPool(Executor):
    def __init__(self, workers: int, thread_name_prefix: str = "lambda") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        self._calls: SimpleQueue[Call | None] = SimpleQueue()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{thread_name_prefix}_{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        if self._closed:
            raise RuntimeError("cannot schedule new calls after shutdown")
        future: Future[T] = Future()
        self._calls.put((future, fn, args, kwargs))
        return future

    def _work(self) -> None:
        while (call := self._calls.get()) is not None:
            future, fn, args, kwargs = call
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # the caller's to handle, as ThreadPoolExecutor does
                future.set_exception(exc)
            else:
                future.set_result(result)
            del call, future, fn, args, kwargs  # no references kept while the thread waits

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking calls; the ones queued still run (unless cancelled), then the threads end."""
        self._closed = True
        if cancel_futures:
            while not self._calls.empty():
                call = self._calls.get_nowait()
                if call is not None:
                    call[0].cancel()
        for _ in self._threads:
            self._calls.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
